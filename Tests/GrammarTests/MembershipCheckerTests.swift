import Files
import Grammar
import SeededRandom
import XCTest

final class MembershipCheckerTests: XCTestCase {
    func line(_ text: String) -> LineReader.Line { .text(Array(text.utf8)) }

    /// Every kind of verdict, each at its line's place; an accepted line carries the parser's log-probability.
    func testEveryKindOfVerdict() throws {
        let g = try bundledGrammar("dyck2")
        let parser = try ChartParser(grammar: g)
        let checker = MembershipChecker(parser: parser, threads: 2)
        let lines: [LineReader.Line] = [
            line("( [ ] )"), line("( ["), line("( x )"), .text([0x28, 0x20, 0xFF, 0x29]), line(""), .tooLong,
        ]
        let verdicts = checker.verdicts(on: lines)
        let expected = try parser.logProbability(g.encode(line: "( [ ] )").get())
        XCTAssertEqual(verdicts, [
            .accepted(logProbability: expected), .rejected, .unknownTerminal(name: "x", column: 3), .invalidUTF8(column: 3),
            .rejected, .lineTooLong,
        ])
        XCTAssertTrue(expected.isFinite && expected < 0)
        XCTAssertEqual(verdicts, lines.map { checker.verdict(on: $0) })
        XCTAssertEqual(checker.verdicts(on: []), [])
    }

    /// Many lines (sampled strings, some broken) keep their order, and 1 and 4 threads give the same verdicts.
    func testOrderIsKeptAndTheThreadCountChangesNothing() throws {
        let g = try bundledGrammar("cfg3f-l3")
        let parser = try ChartParser(grammar: g)
        var generator = SeededGenerator(seed: 3)
        let lines = GrammarSampler(grammar: g).sample(count: 3000, using: &generator).enumerated().map { i, string in
            let words = g.decode(string).split(separator: " ")
            // Every third string loses its last terminal (rejected, mostly); every seventh gains an unknown one.
            let kept = i % 3 == 0 ? words.dropLast() : words[...]
            return line(kept.joined(separator: " ") + (i % 7 == 0 ? " ?" : ""))
        }
        let serial = MembershipChecker(parser: parser, threads: 1).verdicts(on: lines)
        let parallel = MembershipChecker(parser: parser, threads: 4).verdicts(on: lines)
        XCTAssertEqual(serial.count, lines.count)
        XCTAssertEqual(serial, parallel)
        XCTAssertEqual(serial, lines.map { MembershipChecker(parser: parser).verdict(on: $0) })
        for (i, verdict) in serial.enumerated() where i % 3 != 0 && i % 7 != 0 {
            guard case .accepted = verdict else { return XCTFail("line \(i): \(verdict)") }
        }
        XCTAssertTrue(serial.contains(.rejected))
    }

    /// Past the work limit a string is beyond limits, with the parser's reason; the same string within it passes.
    func testTheWorkLimitBoundsEachString() throws {
        let parser = try ChartParser(grammar: grammar("S -> S S [0.3] | a [0.7]\n"))
        let long = line(Array(repeating: "a", count: 200).joined(separator: " "))
        let bounded = MembershipChecker(parser: parser, workLimit: 100_000, threads: 4).verdicts(on: [line("a a"), long])
        guard case .accepted = bounded[0], case .beyondLimits(let message) = bounded[1] else { return XCTFail("\(bounded)") }
        XCTAssertTrue(message.contains("takes more than 100000 chart combinations"), message)
        guard case .accepted = MembershipChecker(parser: parser).verdict(on: long) else { return XCTFail("not accepted") }
    }
}
