import SeededRandom

/// Cross-checks of the grammar engine's invariants on arbitrary input, shared by the fuzz target (`cfg-fuzz`)
/// and the regression tests that replay what the fuzzer found.
///
/// The input is `.cfg` text, optionally followed by a line `%%` and strings to check, one per line. Reading must
/// either succeed or fail with located diagnostics; for a grammar that reads, sampled strings must be accepted
/// with a finite log-probability, the next-symbol distributions must sum to 1 and multiply out to the inside
/// probability, and every string (sampled, perturbed or given) must be analysed without a crash.
public enum EngineSelfCheck {
    /// The violated invariants (empty when all hold).
    public static func run(_ bytes: [UInt8], seed: UInt64 = 1) -> [String] {
        var grammarBytes = bytes
        var extraLines: [[UInt8]] = []
        let separator = Array("\n%%\n".utf8)
        if let cut = firstIndex(of: separator, in: bytes) {
            grammarBytes = Array(bytes[..<(cut + 1)])
            extraLines = bytes[(cut + separator.count)...].split(separator: UInt8(ascii: "\n")).map(Array.init)
        }
        var violations: [String] = []
        let grammar: Grammar
        do {
            grammar = try GrammarReader.parse(bytes: grammarBytes, source: "fuzz")
        } catch {
            let lineCount = grammarBytes.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            if error.diagnostics.isEmpty { violations.append("a GrammarError without diagnostics") }
            for d in error.diagnostics where d.location.line < 1 || d.location.line > lineCount || d.location.column < 1 {
                violations.append("diagnostic outside the input: \(d)")
            }
            return violations
        }
        guard let parser = try? ChartParser(grammar: grammar) else { return violations }
        var strings: [[Int]] = []
        for line in extraLines {
            let names = String(decoding: line, as: UTF8.self).split(whereSeparator: \.isWhitespace)
            if case .success(let ids) = grammar.encode(names) { strings.append(ids) }
        }
        var sampled: [[Int]] = []
        if case .success(let expected) = GrammarAnalysis.expectedLengths(grammar), expected[grammar.start] <= 64 {
            var generator = SeededGenerator(seed: seed)
            let sampler = GrammarSampler(grammar: grammar)
            while sampled.count < 4 {
                let string = sampler.sample(using: &generator)
                if string.count <= 256 { sampled.append(string) } else if generator.nextInt(below: 8) == 0 { break }
            }
            for string in sampled where !string.isEmpty {
                var changed = string
                let i = generator.nextInt(below: string.count)
                changed[i] = (changed[i] + 1) % grammar.terminals.count
                strings.append(changed)
                strings.append(Array(string.dropLast()))
                strings.append(string + [generator.nextInt(below: grammar.terminals.count)])
            }
        }
        let v = grammar.terminals.count
        for (index, string) in (sampled + strings).enumerated() {
            guard let analysis = try? parser.analyze(string, nextSymbols: true) else { continue }
            if index < sampled.count && !(analysis.accepted && analysis.logProbability.isFinite) {
                violations.append("a sampled string was not accepted: \(grammar.decode(string))")
            }
            guard analysis.accepted else { continue }
            guard analysis.logProbability.isFinite, analysis.logProbability <= 1e-9 else {
                violations.append("log-probability \(analysis.logProbability) of \(grammar.decode(string))")
                continue
            }
            var product = 0.0
            for j in 0...string.count {
                let row = analysis.nextSymbol[(j * (v + 1))..<((j + 1) * (v + 1))]
                let sum = row.reduce(0, +)
                if abs(sum - 1) > 1e-9 {
                    violations.append("next-symbol probabilities after \(j) symbols sum to \(sum): \(grammar.decode(string))")
                    break
                }
                product += log(row[row.startIndex + (j < string.count ? string[j] : v)])
            }
            if abs(product - analysis.logProbability) > 1e-9 * max(1, abs(product)) {
                violations.append("next-symbol product \(product) != inside \(analysis.logProbability): \(grammar.decode(string))")
            }
        }
        return violations
    }

    private static func firstIndex(of pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        for i in 0...(bytes.count - pattern.count) where bytes[i] == pattern[0] {
            if Array(bytes[i..<(i + pattern.count)]) == pattern { return i }
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
