import Foundation
import Grammar
import SeededRandom
import XCTest

/// The library side of issue 10's input handling: the expected-length limit, encoding lines of bytes, weight
/// errors that say what is wrong, and file-reading failures that say why.
final class GrammarInputTests: XCTestCase {
    // MARK: item 12: the expected-length limit

    func testGrammarsWithAstronomicallyLongStringsFailTheLengthCheck() throws {
        let deep = try GrammarReader.parse(text: GrammarGenerator.generate(
            LayeredGrammarSpec(levels: 30, width: 3, rulesPerNonterminal: 2...3, terminals: 3, seed: 1)), source: "deep")
        let length = GrammarAnalysis.expectedLength(of: deep)
        XCTAssertGreaterThan(length, 1e9)
        XCTAssertThrowsError(try GrammarSampler.checkExpectedLength(of: deep)) { error in
            let tooLong = error as! ExpectedLengthTooLong
            XCTAssertEqual(tooLong.expectedLength, length)
            XCTAssertEqual(tooLong.limit, GrammarSampler.maximumExpectedLength)
            XCTAssertTrue(tooLong.description.hasPrefix("deep: the expected string length is "), tooLong.description)
            XCTAssertTrue(tooLong.description.contains("over the limit of 1000000"), tooLong.description)
        }
        // Statistics keep the exact values and sample nothing.
        let stats = GrammarStatistics(grammar: deep, samples: 1000, seed: 1)
        XCTAssertEqual(stats.expectedLength, length)
        XCTAssertNil(stats.sampledMeanLength)
        XCTAssertNil(stats.entropy)
        XCTAssertTrue(stats.estimateFailure?.hasPrefix("no strings sampled: deep: the expected string length") == true,
                      stats.estimateFailure ?? "")

        // The bundled grammars pass; a caller may ask for a stricter limit.
        let cfg3f = try bundledGrammar("cfg3f")
        XCTAssertNoThrow(try GrammarSampler.checkExpectedLength(of: cfg3f))
        XCTAssertEqual(GrammarAnalysis.expectedLength(of: cfg3f), 249.86, accuracy: 0.01)
        XCTAssertThrowsError(try GrammarSampler.checkExpectedLength(of: cfg3f, limit: 100)) { error in
            XCTAssertTrue("\(error)".contains("the expected string length is 250 terminals (exact), over the limit of 100"), "\(error)")
        }
    }

    func testStatisticsDrawTheSameStringsOneAtATime() throws {
        // The estimates come from the strings that `sample(count:)` draws with the same seed.
        let g = try grammar("S -> a S [0.3] | b [0.4] | S c [0.3]")
        let stats = GrammarStatistics(grammar: g, samples: 300, seed: 4)
        var generator = SeededGenerator(seed: 4)
        let strings = GrammarSampler(grammar: g).sample(count: 300, using: &generator)
        let entropy = try EntropyEstimate(strings: strings, parser: ChartParser(grammar: g))
        XCTAssertEqual(stats.sampledMeanLength, Double(strings.reduce(0) { $0 + $1.count }) / 300)
        XCTAssertEqual(stats.entropy?.perCharacter, entropy.perCharacter)
        XCTAssertEqual(stats.entropy?.standardError, entropy.standardError)
    }

    // MARK: items 13 and 14: lines of bytes

    func testEncodingALineOfBytes() throws {
        let g = try grammar("S -> a S | bb | é")
        XCTAssertEqual(g.encode(line: "a a bb"), .success([0, 0, 1]))
        // CR (a CRLF line), tabs, vertical tab, form feed and runs of spaces are white space.
        XCTAssertEqual(g.encode(line: " a\ta  \u{0B}\u{0C}bb\r"), .success([0, 0, 1]))
        XCTAssertEqual(g.encode(line: ""), .success([]))
        // Columns count Unicode scalars: 'é' is one, whether its bytes are two.
        XCTAssertEqual(g.encode(line: "é a x a"), .failure(.unknownTerminal(name: "x", column: 5)))
        XCTAssertEqual(g.encode(line: "a é"), .success([0, 2]))
        XCTAssertEqual(g.encode(line: "a b"), .failure(.unknownTerminal(name: "b", column: 3)))
        // Invalid UTF-8 wins over an unknown terminal before it.
        let bytes = Array("x é ".utf8) + [0xFF] + Array("a".utf8)
        let invalid = bytes.withUnsafeBufferPointer { g.encode(line: $0) }
        XCTAssertEqual(invalid, .failure(.invalidUTF8(column: 5)))
        // Linear: a line of a million terminals encodes (the CLI's old per-line copy made this quadratic overall).
        let long = String(repeating: "a ", count: 1_000_000) + "bb"
        guard case .success(let ids) = g.encode(line: long) else { return XCTFail() }
        XCTAssertEqual(ids.count, 1_000_001)
    }

    // MARK: item 18: weights and unreadable files

    func testWeightErrorsSayWhatIsWrong() {
        func message(_ weight: String) -> String {
            do {
                _ = try GrammarReader.parse(text: "A -> a \(weight) | b [0.5]")
                return "read"
            } catch {
                return error.diagnostics[0].message
            }
        }
        let expected = [
            "[abc]": "not a number", "[1e]": "not a number", "[nan]": "not a number", "[inf]": "not a number",
            "[-0.5]": "a probability cannot be negative", "[-0.0]": "a probability cannot be negative",
            "[1.5]": "a probability cannot exceed 1", "[1e400]": "a probability cannot exceed 1",
            "[0]": "a rule of weight 0 can never be used: remove it", "[0.0]": "a rule of weight 0 can never be used",
            "[1e-400]": "too small to represent",
        ]
        for (weight, reason) in expected {
            let text = message(weight)
            XCTAssertTrue(text.hasPrefix("expected a probability in (0, 1] like [0.25], found '\(weight)': "), text)
            XCTAssertTrue(text.contains(reason), "\(weight): \(text)")
            XCTAssertEqual(text.contains("weight 0"), weight == "[0]" || weight == "[0.0]", text)
        }
    }

    func testUnreadableFilesSayWhy() throws {
        do {
            _ = try GrammarReader.read(path: packageRoot.path)
            XCTFail("a directory is not a grammar")
        } catch {
            XCTAssertEqual(error.description, "\(packageRoot.path):1:1: error: cannot read the file: is a directory, not a file")
        }
    }
}
