import Foundation
import Grammar
import SeededRandom
import XCTest

final class ChartParserTests: XCTestCase {
    /// Accepts every sampled string of every bundled grammar, with a finite log-probability.
    func testAcceptsAllSamplesOfEveryBundledGrammar() throws {
        XCTAssertGreaterThanOrEqual(bundledGrammarNames.count, 12)
        for name in bundledGrammarNames {
            let g = try bundledGrammar(name)
            let parser = try ChartParser(grammar: g)
            var generator = SeededGenerator(seed: 21)
            for string in GrammarSampler(grammar: g).sample(count: 200, using: &generator) {
                let logP = try parser.logProbability(string)
                XCTAssertTrue(logP.isFinite && logP < 0, "\(name): \(g.decode(string))")
            }
        }
    }

    /// Perturbed strings (one symbol changed, the last dropped, one appended) get the verdict of an independent
    /// recognizer, and nearly all of them are rejected.
    func testPerturbedStringsAreRejectedAsTheReferenceSays() throws {
        for name in ["cfg3f", "cfg3b", "cfg3g", "cfg3f-l3", "gen-l4-w4"] {
            let g = try bundledGrammar(name)
            let parser = try ChartParser(grammar: g)
            var generator = SeededGenerator(seed: 4)
            var rejected = 0, total = 0
            for string in GrammarSampler(grammar: g).sample(count: 40, using: &generator) {
                var flipped = string
                let i = generator.nextInt(below: string.count)
                flipped[i] = (flipped[i] + 1 + generator.nextInt(below: g.terminals.count - 1)) % g.terminals.count
                let extended = string + [generator.nextInt(below: g.terminals.count)]
                for wrong in [flipped, Array(string.dropLast()), extended, Array(string.dropFirst())] {
                    let verdict = try parser.accepts(wrong)
                    XCTAssertEqual(verdict, ReferenceRecognizer.accepts(g, wrong), "\(name): \(g.decode(wrong))")
                    total += 1
                    if !verdict { rejected += 1 }
                }
            }
            XCTAssertGreaterThan(Double(rejected) / Double(total), 0.8, name)
        }
    }

    func testRejectsWhatTheGrammarCannotDerive() throws {
        let g = try grammar("S -> a S b | a b")
        let parser = try ChartParser(grammar: g)
        XCTAssertTrue(try parser.accepts([0, 0, 1, 1]))
        XCTAssertFalse(try parser.accepts([]))
        XCTAssertFalse(try parser.accepts([0, 1, 1]))
        XCTAssertFalse(try parser.accepts([1, 0]))
        XCTAssertEqual(try parser.logProbability([0, 1, 0, 1]), -.infinity)
    }

    /// The inside algorithm (through binarisation, preterminals and unit-rule elimination) against brute-force
    /// enumeration of all derivations of all strings up to length 7.
    func testInsideProbabilityAndParseCountsMatchBruteForceEnumeration() throws {
        let grammars = [
            // Ambiguous binary grammar: strings of length n have Catalan(n-1) parses.
            "S -> S S [0.3] | a [0.5] | b [0.2]",
            // Ternary rules, terminals inside long rules, unit chains, left recursion.
            "S -> A B [0.4] | a S b [0.3] | C [0.3]\nA -> a [0.6] | A a [0.4]\nB -> b | C b\nC -> A [0.5] | c [0.5]",
            // Layered and ambiguous, like the cfg3 family.
            "S -> X Y | Y X X\nX -> a b | a | b a\nY -> a | b b | X",
        ]
        for text in grammars {
            let g = try grammar(text)
            let parser = try ChartParser(grammar: g)
            let table = enumerateStrings(g, maxLength: 7)
            XCTAssertGreaterThan(table.count, 5)
            for (string, truth) in table {
                let logP = try parser.logProbability(string)
                XCTAssertEqual(logP, log(truth.probability), accuracy: 1e-12, "\(text): \(g.decode(string))")
                XCTAssertEqual(try parser.parseCount(string), Double(truth.parses), "\(text): \(g.decode(string))")
            }
            // Strings outside the table (up to length 4) are rejected.
            for length in 1...4 {
                for code in 0..<Int(pow(Double(g.terminals.count), Double(length))) {
                    var string: [Int] = [], rest = code
                    for _ in 0..<length { string.append(rest % g.terminals.count); rest /= g.terminals.count }
                    XCTAssertEqual(try parser.accepts(string), table[string] != nil, "\(text): \(g.decode(string))")
                }
            }
        }
        // Catalan numbers for S -> S S.
        let catalan = try ChartParser(grammar: grammar("S -> S S [0.4] | a [0.6]"))
        XCTAssertEqual(try catalan.parseCount([Int](repeating: 0, count: 8)), 429)
    }

    func testUnitCyclesGiveExactProbabilitiesAndInfiniteParseCounts() throws {
        // A -> B -> A cycles: the probability of a string sums a geometric series of derivations.
        let g = try grammar("S -> A [1]\nA -> B [0.5] | a [0.5]\nB -> A [0.4] | b [0.6]")
        let parser = try ChartParser(grammar: g)
        // P(a) = 0.5 / (1 - 0.5*0.4) = 0.625; P(b) = 0.5*0.6 / (1 - 0.2) = 0.375.
        XCTAssertEqual(try parser.logProbability([0]), log(0.625), accuracy: 1e-12)
        XCTAssertEqual(try parser.logProbability([1]), log(0.375), accuracy: 1e-12)
        XCTAssertEqual(try parser.parseCount([0]), .infinity)
        let table = enumerateStrings(g, maxLength: 1, cutoff: 1e-18)
        XCTAssertEqual(table[[0]]!.probability, 0.625, accuracy: 1e-12)
    }

    /// Next-symbol distributions: each row sums to 1, their product over a string is its inside probability,
    /// including grammars with left recursion and unit rules.
    func testNextSymbolDistributionsSumToOneAndMultiplyToTheInsideProbability() throws {
        for name in ["cfg3f", "arith", "dyck2", "gen-l5-w3", "cfg3f-l4"] {
            let g = try bundledGrammar(name)
            let parser = try ChartParser(grammar: g)
            let v = g.terminals.count
            var generator = SeededGenerator(seed: 13)
            for string in GrammarSampler(grammar: g).sample(count: 30, using: &generator) {
                let analysis = try parser.analyze(string, nextSymbols: true)
                XCTAssertTrue(analysis.accepted)
                var logProduct = 0.0
                for j in 0...string.count {
                    let row = analysis.nextSymbol[(j * (v + 1))..<((j + 1) * (v + 1))]
                    XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-10, "\(name) row \(j)")
                    XCTAssertTrue(row.allSatisfy { $0 >= 0 })
                    logProduct += log(row[row.startIndex + (j < string.count ? string[j] : v)])
                }
                XCTAssertEqual(logProduct, analysis.logProbability, accuracy: 1e-9 * abs(logProduct), name)
            }
        }
    }

    /// The exact next-symbol distribution agrees with frequencies in a million samples, for every prefix of up
    /// to three symbols that occurs at least 2,000 times.
    func testNextSymbolDistributionsAgreeWithSampleFrequencies() throws {
        for name in ["dyck2", "cfg3f-l3"] {
            let g = try bundledGrammar(name)
            let v = g.terminals.count
            let parser = try ChartParser(grammar: g)
            var counts: [[Int]: [Int]] = [:]
            var generator = SeededGenerator(seed: 99)
            var out: [Int32] = [], stack: [Int32] = []
            let sampler = GrammarSampler(grammar: g)
            for _ in 0..<1_000_000 {
                out.removeAll(keepingCapacity: true)
                sampler.sample(into: &out, stack: &stack, using: &generator)
                for j in 0...min(3, out.count) {
                    let prefix = out[..<j].map(Int.init)
                    counts[prefix, default: [Int](repeating: 0, count: v + 1)][j < out.count ? Int(out[j]) : v] += 1
                }
            }
            var compared = 0
            for (prefix, histogram) in counts {
                let total = histogram.reduce(0, +)
                guard total >= 2_000 else { continue }
                let analysis = try parser.analyze(prefix, nextSymbols: true)
                let row = Array(analysis.nextSymbol[(prefix.count * (v + 1))...])
                for c in 0...v {
                    let p = row[c], frequency = Double(histogram[c]) / Double(total)
                    let tolerance = 5 * (max(p * (1 - p), 1e-6) / Double(total)).squareRoot() + 1e-9
                    XCTAssertEqual(frequency, p, accuracy: tolerance, "\(name) after '\(g.decode(prefix))' symbol \(c)")
                }
                compared += 1
            }
            XCTAssertGreaterThan(compared, 10, name)
        }
    }

    func testLongStringsDoNotUnderflow() throws {
        // 5,000 symbols of probability ~1/2 each: P ~ 2^-5000, far below the smallest double; the log is exact.
        let g = try grammar("S -> a S [0.5] | b S [0.4] | a [0.1]")
        let parser = try ChartParser(grammar: g)
        let string = [Int](repeating: 1, count: 4_999) + [0]
        let expected = 4_999 * log(0.4) + log(0.1)
        XCTAssertEqual(try parser.logProbability(string), expected, accuracy: 1e-8 * abs(expected))
    }

    func testLimitsFailWithAClearMessage() throws {
        var text = ""
        for i in 0..<5_000 { text += "A\(i) -> x A\(i + 1)\n" }
        text += "A5000 -> x\n"
        let parser = try ChartParser(grammar: grammar(text))
        XCTAssertThrowsError(try parser.accepts([Int](repeating: 0, count: 5_001))) { error in
            XCTAssertTrue("\(error)".contains("too long for this grammar's chart"), "\(error)")
        }
        XCTAssertThrowsError(try parser.accepts([7])) { error in
            XCTAssertTrue("\(error)".contains("outside the grammar's"), "\(error)")
        }
    }
}
