import Foundation
import Grammar

/// `bench --grammar G.cfg`: the engine's speed on one grammar (GrammarBenchmark), as a table or one JSON object.
func runGrammarBench(_ arguments: ParsedArguments, path: String) throws -> Int32 {
    let strings = try arguments.value(benchStrings)
    let repeats = try arguments.value(Options.repeats)
    let seed = try arguments.value(Options.seed)
    let grammar = try loadGrammar(path)
    let result: GrammarBenchmark.Result
    do throws(GrammarBenchmark.Failure) {
        result = try GrammarBenchmark.run(grammar: grammar, strings: strings, repeats: repeats, seed: seed)
    } catch {
        if case .sampledStringTooLong = error {
            throw UsageError("\(path): \(error); bench --grammar needs a grammar with shorter strings")
        }
        throw UsageError(error.description)
    }

    if arguments.flag(Options.json) {
        func stats(_ rate: GrammarBenchmark.Throughput) -> String {
            "{\"median\": \(rate.median), \"min\": \(rate.min), \"max\": \(rate.max)}"
        }
        print("{\"grammar\": \(jsonString(path)), \"threads\": 1, \"repeats\": \(repeats), \"strings\": \(strings), \"mean_length\": \(result.meanLength), \"sample_terminals_per_s\": \(stats(result.sampling)), \"check_strings_per_s\": \(stats(result.checking)), \"next_symbol_strings_per_s\": \(stats(result.nextSymbols))}")
        return 0
    }
    func row(_ label: String, _ rate: GrammarBenchmark.Throughput, _ unit: String) -> String {
        label.padding(toLength: 34, withPad: " ", startingAt: 0)
            + String(format: "%14.0f %@   (min %.0f, max %.0f)", rate.median, unit, rate.min, rate.max)
    }
    print("grammar \(path): \(strings) strings of mean length \(String(format: "%.1f", result.meanLength)), median of \(repeats) repeats, 1 thread")
    print(row("sample", result.sampling, "terminals/s"))
    print(row("check (membership + inside)", result.checking, "strings/s"))
    print(row("next-symbol distributions", result.nextSymbols, "strings/s"))
    return 0
}

/// `text` as a JSON string literal, quotes and control characters escaped.
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            out += scalar.value < 0x20 ? String(format: "\\u%04x", scalar.value) : String(scalar)
        }
    }
    return out + "\""
}
