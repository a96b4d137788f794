import Foundation
import Grammar
import SeededRandom

let benchSpec = CommandSpec(
    name: "bench", summary: "measure the speed of sampling and exact parsing on one core",
    positionals: [],
    options: [
        OptionSpec("--grammar", value: "G.cfg", help: "grammar to measure (required)"),
        OptionSpec("--strings", value: "N", help: "strings per parsing measurement (default 1000)"),
        OptionSpec("--repeats", value: "R", help: "repetitions of each measurement; the median is reported (default 5)"),
        OptionSpec("--seed", value: "S", help: "seed of the sampled strings (default 1)"),
        OptionSpec("--json", help: "print one JSON object instead of a table"),
    ],
    details: """
    Single-threaded: sampling throughput in terminals per second (at least 5 million terminals per repeat);
    membership plus inside probability (what 'cfg-run check' does per string), and the full next-symbol
    distribution after every prefix, in strings per second. Medians over the repeats, with min and max.
    """)

func runBench(_ arguments: ParsedArguments) throws -> Int32 {
    guard let path = arguments.string("--grammar") else {
        throw UsageError("bench needs --grammar G.cfg (the model benchmark comes with the training engine)")
    }
    let strings = try arguments.int("--strings", default: 1000, range: 1...Int.max)
    let repeats = try arguments.int("--repeats", default: 5, range: 1...1000)
    let seed = try arguments.uint64("--seed", default: 1)
    let grammar = try loadGrammar(path)
    let sampler = GrammarSampler(grammar: grammar)
    let parser = try ChartParser(grammar: grammar)

    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
    func measure(_ body: () throws -> Double) rethrows -> [Double] {
        try (0..<repeats).map { _ in try body() }
    }

    // Sampling: terminals per second.
    let sampling = measure { () -> Double in
        var generator = SeededGenerator(seed: seed)
        var out: [Int32] = []
        var stack: [Int32] = []
        out.reserveCapacity(1 << 16)
        var terminals = 0
        let start = DispatchTime.now().uptimeNanoseconds
        while terminals < 5_000_000 {
            out.removeAll(keepingCapacity: true)
            sampler.sample(into: &out, stack: &stack, using: &generator)
            terminals += out.count
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(terminals) / seconds
    }

    var generator = SeededGenerator(seed: seed)
    let corpus = sampler.sample(count: strings, using: &generator)
    let meanLength = Double(corpus.reduce(0) { $0 + $1.count }) / Double(strings)
    let checking = try measure { () -> Double in
        let start = DispatchTime.now().uptimeNanoseconds
        for string in corpus {
            guard try parser.accepts(string) else { throw UsageError("internal error: a sampled string was rejected") }
        }
        return Double(strings) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let nextSymbols = try measure { () -> Double in
        let start = DispatchTime.now().uptimeNanoseconds
        for string in corpus { _ = try parser.analyze(string, nextSymbols: true) }
        return Double(strings) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    if arguments.flag("--json") {
        func stats(_ values: [Double]) -> String {
            "{\"median\": \(median(values)), \"min\": \(values.min()!), \"max\": \(values.max()!)}"
        }
        print("{\"grammar\": \"\(path)\", \"threads\": 1, \"repeats\": \(repeats), \"strings\": \(strings), \"mean_length\": \(meanLength), \"sample_terminals_per_s\": \(stats(sampling)), \"check_strings_per_s\": \(stats(checking)), \"next_symbol_strings_per_s\": \(stats(nextSymbols))}")
        return 0
    }
    func row(_ label: String, _ values: [Double], _ unit: String) -> String {
        label.padding(toLength: 34, withPad: " ", startingAt: 0)
            + String(format: "%14.0f %@   (min %.0f, max %.0f)", median(values), unit, values.min()!, values.max()!)
    }
    print("grammar \(path): \(strings) strings of mean length \(String(format: "%.1f", meanLength)), median of \(repeats) repeats, 1 thread")
    print(row("sample", sampling, "terminals/s"))
    print(row("check (membership + inside)", checking, "strings/s"))
    print(row("next-symbol distributions", nextSymbols, "strings/s"))
    return 0
}
