import Grammar
import XCTest

final class GrammarBenchmarkTests: XCTestCase {
    /// Tiny sizes: every throughput is positive and finite, the median within min and max, one value per repeat.
    func testThroughputsArePositiveAndFinite() throws {
        let result = try GrammarBenchmark.run(grammar: bundledGrammar("dyck2"), strings: 20, repeats: 3, seed: 1,
                                              samplingTerminals: 1000)
        XCTAssertEqual(result.strings, 20)
        XCTAssertEqual(result.repeats, 3)
        XCTAssertGreaterThan(result.meanLength, 0)
        for rate in [result.sampling, result.checking, result.nextSymbols] {
            XCTAssertEqual(rate.values.count, 3)
            XCTAssertTrue(rate.values.allSatisfy { $0 > 0 && $0.isFinite }, "\(rate.values)")
            XCTAssertTrue(rate.min <= rate.median && rate.median <= rate.max)
        }
    }

    /// A sampled string longer than exact parsing allows stops the benchmark, saying its length and the limit.
    func testAStringTooLongToParseIsRefused() throws {
        // Every string is 2^19 terminals: within the sampling limit, far over the parser's (4 million work cells
        // over some twenty normal-form symbols).
        var text = "S -> A1 A1\n"
        for level in 1..<19 { text += "A\(level) -> A\(level + 1) A\(level + 1)\n" }
        text += "A19 -> a\n"
        let g = try grammar(text)
        let limit = try ChartParser(grammar: g).maximumLength
        XCTAssertThrowsError(try GrammarBenchmark.run(grammar: g, strings: 1, repeats: 1, seed: 1, samplingTerminals: 1)) { error in
            guard case GrammarBenchmark.Failure.sampledStringTooLong(let length, let reportedLimit) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(length, 1 << 19)
            XCTAssertEqual(reportedLimit, limit)
            XCTAssertEqual("\(error)", "a sampled string of 524288 terminals is longer than exact parsing allows for this grammar (\(limit))")
        }
    }
}
