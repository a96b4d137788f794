import Foundation
import XCTest

/// The second round's findings as a regression test (issue 18), two ways: every reading of its committed tables
/// checked with `cfg-run assert` (results/findings.sh), and a rerun of a committed run's first steps, so that a code
/// change that would alter the study's numbers fails here, in CI, instead of silently mixing two engines' rows in
/// one study.
final class FindingsTests: CLITestCase {
    /// results/findings.sh with the binary under test: each claim holds on the committed CSVs.
    func testTheCommittedReadingsHold() throws {
        let outcome = try run([CLITestCase.root.appendingPathComponent("results/findings.sh").path],
                              environment: ["CFG_RUN": executable.path], timeout: 120, shell: true)
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertFalse(outcome.stdout.contains("does not hold"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("results/plateau-d64-20k.csv: all 14 claims hold"), outcome.stdout)
    }

    /// Each block of results/findings.sh is, byte for byte, the output of the `tools/verdicts.py --claims` command
    /// written above it: the claims are the tables' readings as the tool computes them from the committed CSVs, not
    /// edited by hand, and a change to the tool or a CSV that alters a reading shows here.
    func testTheFindingsAreTheVerdictToolsOutput() throws {
        guard try run(["-c", "command -v python3"], shell: true).status == 0 else {
            throw XCTSkip("python3 is not installed: the tools under tools/ are Python scripts")
        }
        let script = read(CLITestCase.root.appendingPathComponent("results/findings.sh").path)
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks = 0
        for (index, line) in lines.enumerated() where line.hasPrefix("# tools/verdicts.py --claims ") {
            let block = lines[(index + 1)...].prefix { !$0.isEmpty }.joined(separator: "\n") + "\n"
            let outcome = try run(["-c", String(line.dropFirst(2))], timeout: 60, shell: true)
            XCTAssertEqual(outcome.status, 0, line + "\n" + outcome.stderr)
            XCTAssertEqual(outcome.stdout, block, "results/findings.sh: the block under '\(line)' differs from its output")
            blocks += 1
        }
        XCTAssertGreaterThanOrEqual(blocks, 10, "results/findings.sh has a block per committed sweep")
    }

    /// The settings of `results/plateau-d8-20k.csv`, as `results/experiments.sh` (section 6) runs that sweep.
    static let widthEightSweep = [
        "grammars/cfg3f-l3.cfg", "--variants", "1gram,3gram-in,3gram-hin,3gram-out,3gram-gpt,2gram-out", "--schedule", "wsd",
        "--decay", "0.2", "--warmup", "1000", "--eval-every", "1000", "--gen-samples", "2000", "--sizes", "L8-d8-h1",
        "--seeds", "1,2,3,4,5", "--steps", "20000",
    ]

    /// The first 2,000 of its 20,000 steps of one committed run (unit 16: 3gram-out, seed 2), with the budget and the
    /// schedule unchanged and stopped early by closing the pipe, give the committed rows exactly (wall time aside):
    /// training, evaluation and sampling of an output-side design, on one thread.
    func testTheFirstStepsOfACommittedStudyRunAreReproduced() throws {
        let committed = withoutWallTime(read(CLITestCase.root.appendingPathComponent("results/plateau-d8-20k.csv").path))
        let header = try XCTUnwrap(committed.first)
        let columns = header.split(separator: ",").map(String.init)
        let variant = try XCTUnwrap(columns.firstIndex(of: "variant")), seed = try XCTUnwrap(columns.firstIndex(of: "seed"))
        let step = try XCTUnwrap(columns.firstIndex(of: "step"))
        let expected = committed.dropFirst().filter { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return fields[variant] == "3gram-out" && fields[seed] == "2" && Int(fields[step])! <= 2000
        }
        XCTAssertEqual(expected.count, 2, "the committed file holds unit 16's rows at steps 1,000 and 2,000")

        let rerun = try run(["-c", "\"$0\" \"$@\" | head -n 3", executable.path] + Self.widthEightSweep + ["--unit", "16", "--threads", "1"],
                            environment: ["TMPDIR": try temporaryFolder()], timeout: 240, shell: true)
        let rows = withoutWallTime(rerun.stdout)
        XCTAssertEqual(rows.first, header, rerun.stderr)
        XCTAssertEqual(Array(rows.dropFirst()), expected, rerun.stderr)
    }
}
