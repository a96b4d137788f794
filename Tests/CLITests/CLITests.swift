import Foundation
import XCTest

/// Exit codes, --help, error messages, and that commands agree.
final class CLITests: CLITestCase {
    func testEveryCommandAnswersHelp() throws {
        let top = try run(["--help"])
        XCTAssertEqual(top.status, 0)
        for command in ["sweep", "assert", "summary", "merge", "kgram", "plot", "sample", "check", "stats", "generate", "bench"] {
            XCTAssertTrue(top.stdout.contains(command), command)
            let help = try run([command, "--help"])
            XCTAssertEqual(help.status, 0, command)
            XCTAssertTrue(help.stdout.contains("Usage: cfg-run \(command)"), help.stdout)
        }
    }

    func testUsageErrorsExitWithStatus2AndSayWhatWasExpected() throws {
        let unknownCommand = try run(["smaple"])
        XCTAssertEqual(unknownCommand.status, 2)
        XCTAssertTrue(unknownCommand.stderr.contains("unknown command 'smaple'"))
        let unknownFlag = try run(["sample", "grammars/dyck2.cfg", "--cuont", "3"])
        XCTAssertEqual(unknownFlag.status, 2)
        XCTAssertTrue(unknownFlag.stderr.contains("unknown option '--cuont'"), unknownFlag.stderr)
        let badValue = try run(["sample", "grammars/dyck2.cfg", "-n", "many"])
        XCTAssertEqual(badValue.status, 2)
        XCTAssertTrue(badValue.stderr.contains("--count expects an integer"), badValue.stderr)
        let missing = try run(["stats"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("missing argument G.cfg"), missing.stderr)
    }

    func testBadGrammarFileReportsFileLineAndColumn() throws {
        let path = NSTemporaryDirectory() + "cfg-run-bad-\(getpid()).cfg"
        try "S -> a b\nS a b\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outcome = try run(["stats", path])
        XCTAssertEqual(outcome.status, 2)
        XCTAssertTrue(outcome.stderr.contains("\(path):2:3: error: expected '->'"), outcome.stderr)
        let absent = try run(["sample", "/nonexistent.cfg"])
        XCTAssertEqual(absent.status, 2)
        XCTAssertTrue(absent.stderr.contains("/nonexistent.cfg:1:1: error: cannot read the file"), absent.stderr)
    }

    func testSampleThenCheckAcceptsAndRejectionsExitWith1() throws {
        let sample = try run(["sample", "grammars/cfg3f.cfg", "-n", "50", "--seed", "3"])
        XCTAssertEqual(sample.status, 0)
        XCTAssertEqual(sample.stdout, try run(["sample", "grammars/cfg3f.cfg", "-n", "50", "--seed", "3"]).stdout)
        let lines = sample.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 50)
        let check = try run(["check", "grammars/cfg3f.cfg", "-"], input: sample.stdout)
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertEqual(check.stdout, String(repeating: "ok\n", count: 50))
        // A truncated string, an unknown symbol and an empty line.
        let wrong = String(lines[0].dropLast(2)) + "\n" + lines[1] + " 7\n\n" + lines[2] + "\n"
        let verdicts = try run(["check", "grammars/cfg3f.cfg", "--logprob"], input: String(wrong))
        XCTAssertEqual(verdicts.status, 1)
        let rows = verdicts.stdout.split(separator: "\n").map { $0.split(separator: "\t")[0] }
        XCTAssertEqual(rows, ["reject", "reject", "reject", "ok"])
        XCTAssertTrue(verdicts.stderr.contains("<stdin>:2:"), verdicts.stderr)
        XCTAssertTrue(verdicts.stderr.contains("'7' is not a terminal"), verdicts.stderr)
    }

    func testStatsAndGenerate() throws {
        let stats = try run(["stats", "grammars/cfg3f.cfg", "--csv", "--samples", "50"])
        XCTAssertEqual(stats.status, 0)
        let csv = stats.stdout.split(separator: "\n")
        XCTAssertEqual(csv.count, 2)
        let header = csv[0].split(separator: ","), row = csv[1].split(separator: ",")
        XCTAssertEqual(header.count, row.count)
        XCTAssertEqual(row[header.firstIndex(of: "expected_length")!], "249.8603")
        let generated = try run(["generate", "--levels", "2", "--width", "2", "--rules", "2-2", "--seed", "4"])
        XCTAssertEqual(generated.status, 0)
        XCTAssertTrue(generated.stdout.hasPrefix("# generated with: cfg-run generate --levels 2 --width 2 --rules 2-2"))
        let impossible = try run(["generate", "--rules", "3-1"])
        XCTAssertEqual(impossible.status, 2)
    }

    func testSweepWritesCSVResumesAndAssertChecksClaims() throws {
        let out = NSTemporaryDirectory() + "cfg-run-cli-sweep-\(getpid()).csv"
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: out + ".runs")
        }
        let arguments = ["grammars/cfg3f-l3.cfg", "--sizes", "tiny", "--variants", "1gram,3gram-in", "--steps", "20",
                         "--eval-every", "10", "--val-samples", "50", "--gen-samples", "8", "--out", out]
        let first = try run(arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("run 2/2 tiny 3gram-in seed 1"), first.stderr)
        XCTAssertTrue(first.stderr.contains("Δ excess"), first.stderr)
        let csv = try String(contentsOfFile: out, encoding: .utf8)
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines[0].hasPrefix("grammar,variant,size,layers,d_model,heads,params,nonembed_params,seed,step,tokens,chars"))
        // Rerun: everything is reused, the file ends the same (apart from nothing: rows are replayed).
        let second = try run(arguments)
        XCTAssertEqual(second.status, 0)
        XCTAssertTrue(second.stderr.contains("finished earlier"), second.stderr)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), csv)
        let summary = try run(["summary", out])
        XCTAssertEqual(summary.status, 0)
        XCTAssertTrue(summary.stdout.contains("3gram-in"))
        let claims = try run(["assert", out, "3gram-in < 1gram on val_loss_per_char", "3gram-in > 1gram on val_loss_per_char"])
        XCTAssertEqual(claims.status, 1)
        XCTAssertTrue(claims.stdout.contains("holds: 3gram-in < 1gram"), claims.stdout)
        XCTAssertTrue(claims.stdout.contains("FAILS: 3gram-in > 1gram"), claims.stdout)
        let badClaim = try run(["assert", out, "3gram-in is better"])
        XCTAssertEqual(badClaim.status, 2)
    }

    func testSweepRejectsBadArgumentsBeforeTraining() throws {
        let unknownVariant = try run(["grammars/cfg3f-l3.cfg", "--variants", "1gram,3gram-inn"])
        XCTAssertEqual(unknownVariant.status, 2)
        XCTAssertTrue(unknownVariant.stderr.contains("unknown vocabulary design '3gram-inn'"), unknownVariant.stderr)
        XCTAssertTrue(unknownVariant.stderr.contains("Ngram-hin@m=M,k=K"), unknownVariant.stderr)
        let unknownSize = try run(["grammars/cfg3f-l3.cfg", "--sizes", "huge"])
        XCTAssertEqual(unknownSize.status, 2)
        XCTAssertTrue(unknownSize.stderr.contains("unknown size 'huge'"), unknownSize.stderr)
        let order = try run(["grammars/cfg3f-l3.cfg", "--variants", "9gram-in"])
        XCTAssertEqual(order.status, 2)
        XCTAssertTrue(order.stderr.contains("N must be an integer in 2...8"), order.stderr)
        let help = try run(["sweep", "--help"])
        XCTAssertTrue(help.stdout.contains("non-embedding parameters"), help.stdout)
        XCTAssertFalse(unknownVariant.stderr.contains("step "), "training must not start")
    }
}
