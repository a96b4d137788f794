import Foundation
import Grammar
import SeededRandom
import XCTest

final class AnalysisTests: XCTestCase {
    /// The published exact lengths of the cfg3 family (Physics of LMs Part 1, arXiv 2305.13673; results/SCIENCE.md section 3).
    func testExactLengthsOfTheCfg3Family() throws {
        let known: [(String, Double, Double, Double)] = [
            ("cfg3b", 138, 432, 275.6), ("cfg3i", 114, 564, 308.1), ("cfg3h", 97, 459, 236.4),
            ("cfg3g", 80, 729, 252.4), ("cfg3f", 64, 729, 249.9),
        ]
        for (name, minimum, maximum, expected) in known {
            let g = try bundledGrammar(name)
            XCTAssertEqual(GrammarAnalysis.minLengths(g)[g.start], minimum, name)
            XCTAssertEqual(GrammarAnalysis.maxLengths(g)[g.start], maximum, name)
            guard case .success(let lengths) = GrammarAnalysis.expectedLengths(g) else { return XCTFail(name) }
            XCTAssertEqual(lengths[g.start], expected, accuracy: 0.05, name)
        }
    }

    func testExactLengthsOfRecursiveGrammars() throws {
        // Dyck-2: E[S] = E[P] + 0.4 E[S], E[P] = 2 + 0.4 E[S]  =>  E[S] = 10.
        let dyck = try bundledGrammar("dyck2")
        guard case .success(let lengths) = GrammarAnalysis.expectedLengths(dyck) else { return XCTFail() }
        XCTAssertEqual(lengths[dyck.start], 10, accuracy: 1e-12)
        XCTAssertEqual(GrammarAnalysis.minLengths(dyck)[dyck.start], 2)
        XCTAssertEqual(GrammarAnalysis.maxLengths(dyck)[dyck.start], .infinity)
        // Unit cycles do not make the length unbounded.
        let units = try grammar("S -> A | b b\nA -> S | a")
        XCTAssertEqual(GrammarAnalysis.maxLengths(units)[units.start], 2)
        XCTAssertEqual(GrammarAnalysis.minLengths(units)[units.start], 1)
        // Geometric: E = 0.6 * 1 + 0.4 * (1 + E)  =>  E = 1 / 0.6.
        let geometric = try grammar("S -> a S [0.4] | b [0.6]")
        guard case .success(let g) = GrammarAnalysis.expectedLengths(geometric) else { return XCTFail() }
        XCTAssertEqual(g[0], 1 / 0.6, accuracy: 1e-12)
    }

    func testStatisticsOfAGrammarWithKnownEntropy() throws {
        // S -> a S | b with probability 1/2 each: a^k b has probability 2^-(k+1) and k+2 characters with the end;
        // k is geometric with mean 1, so the entropy is E[(k+1) ln 2] / E[k+2] = 2 ln 2 / 3 per character.
        let g = try grammar("S -> a S | b")
        let stats = GrammarStatistics(grammar: g, samples: 20_000, seed: 3)
        XCTAssertNil(stats.estimateFailure)
        let entropy = try XCTUnwrap(stats.entropy)
        XCTAssertEqual(entropy.perCharacter, 2 * log(2) / 3, accuracy: 4 * entropy.standardError)
        XCTAssertLessThan(entropy.standardError, 0.005)
        XCTAssertEqual(stats.meanParses, 1)
        XCTAssertEqual(stats.expectedLength, 2, accuracy: 1e-12)
        XCTAssertEqual(stats.minLength, 1)
        XCTAssertEqual(stats.maxLength, .infinity)
    }

    func testStatisticsOfCfg3f() throws {
        let stats = GrammarStatistics(grammar: try bundledGrammar("cfg3f"), samples: 300, seed: 1)
        XCTAssertEqual(stats.terminals, 3)
        XCTAssertEqual(stats.nonterminals, 16)
        XCTAssertEqual(stats.rules, 54)
        let entropy = try XCTUnwrap(stats.entropy)
        // Uniform choice among 3-4 rules per nonterminal, about 1.6 parses per string: 0.74 nats per character.
        XCTAssertEqual(entropy.perCharacter, 0.74, accuracy: 0.01)
        XCTAssertGreaterThan(try XCTUnwrap(stats.meanParses), 1)
    }

    func testHugeGrammarsWorkOrFailClearly() throws {
        // A chain of 100,000 nonterminals: reading, lengths and sampling work; exact parsing of its
        // 100,001-symbol string is beyond the chart's limits and says so.
        var text = ""
        for i in 0..<100_000 { text += "A\(i) -> x A\(i + 1)\n" }
        text += "A100000 -> x\n"
        let chain = try grammar(text)
        XCTAssertEqual(GrammarAnalysis.maxLengths(chain)[chain.start], 100_001)
        var generator = SeededGenerator(seed: 1)
        XCTAssertEqual(GrammarSampler(grammar: chain).sample(using: &generator).count, 100_001)
        let stats = GrammarStatistics(grammar: chain, samples: 2, seed: 1)
        XCTAssertEqual(stats.expectedLength, 100_001)
        XCTAssertTrue(stats.estimateFailure?.contains("too long") == true, "\(stats.estimateFailure ?? "")")
        // A chain of 100,000 unit rules is removed in linear time and parses.
        var units = ""
        for i in 0..<100_000 { units += "U\(i) -> U\(i + 1)\n" }
        units += "U100000 -> x | y\n"
        let unitChain = try ChartParser(grammar: grammar(units))
        XCTAssertEqual(try unitChain.logProbability([1]), log(0.5), accuracy: 1e-12)
    }
}
