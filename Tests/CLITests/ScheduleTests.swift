import Foundation
import XCTest

/// Warmup-stable-decay sweeps and their extension to a longer budget (--schedule wsd, --extend-from).
final class ScheduleTests: CLITestCase {
    static let wsd = ["grammars/cfg3f-l3.cfg", "--sizes", "tiny", "--variants", "1gram,3gram-out", "--eval-every", "12",
                      "--warmup", "10", "--val-samples", "50", "--gen-samples", "16", "--schedule", "wsd", "--decay", "0.2"]

    /// 60 steps decay from step 48; extended to 120 steps (decay from 96), each run continues from its step-48
    /// checkpoint and ends with the rows of a straight 120-step sweep. A run that had not started there starts here.
    func testExtendingAWSDSweepEqualsTrainingTheLongerBudgetStraight() throws {
        let folder = try temporaryFolder()
        let short = try run(Self.wsd + ["--steps", "60", "--out", folder + "/short.csv", "--unit", "0"])
        XCTAssertEqual(short.status, 0, short.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/short.csv.runs/tiny_1gram_seed1.stable.ckpt"))
        let extended = try run(Self.wsd + ["--steps", "120", "--out", folder + "/long.csv", "--extend-from", folder + "/short.csv"])
        XCTAssertEqual(extended.status, 0, extended.stderr)
        XCTAssertTrue(extended.stderr.contains("tiny_1gram_seed1: continues from step 48 of \(folder)/short.csv.runs"), extended.stderr)
        XCTAssertFalse(extended.stderr.contains("tiny_3gram-out_seed1: continues"), extended.stderr)
        let straight = try run(Self.wsd + ["--steps", "120", "--out", folder + "/straight.csv"])
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let rows = withoutWallTime(read(folder + "/long.csv"))
        XCTAssertEqual(rows.count, 21)
        XCTAssertEqual(rows, withoutWallTime(read(folder + "/straight.csv")))
        // The rate is the peak until step 96, then decays (the lr column, 21st of each row).
        let rates = rows.dropFirst().prefix(10).map { $0.split(separator: ",")[20] }
        XCTAssertEqual(Array(rates.prefix(8)), Array(repeating: "0.002", count: 8), rows.joined(separator: "\n"))
        XCTAssertNotEqual(rates[8], "0.002")
        // Extending again into a finished sweep changes nothing.
        let again = try run(Self.wsd + ["--steps", "120", "--out", folder + "/long.csv", "--extend-from", folder + "/short.csv"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(withoutWallTime(read(folder + "/long.csv")), rows)
    }

    /// A short sweep killed in its stable phase: the longer one continues from its last checkpoint.
    func testAKilledShortSweepIsExtendedFromItsLastCheckpoint() throws {
        let folder = try temporaryFolder()
        // Slow evaluations (many samples) leave time to kill the run after its first checkpoint.
        let slow = Self.wsd.filter { $0 != "1gram,3gram-out" && $0 != "16" }
            .map { $0 == "--variants" ? "--variants=1gram" : $0 == "--gen-samples" ? "--gen-samples=1500" : $0 }
        let short = try start(slow + ["--steps", "60", "--out", folder + "/short.csv", "--threads", "1"])
        let checkpoint = folder + "/short.csv.runs/tiny_1gram_seed1.ckpt"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: checkpoint) && short.isRunning && Date() < deadline { usleep(2_000) }
        kill(short.processIdentifier, SIGKILL)
        short.waitUntilExit()
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/short.csv.runs/tiny_1gram_seed1.done"),
                       "killed before it finished")
        let extended = try run(slow + ["--steps", "120", "--out", folder + "/long.csv", "--extend-from", folder + "/short.csv"])
        XCTAssertEqual(extended.status, 0, extended.stderr)
        // Killed after the checkpoint of step 12 (or a later one of the stable phase, on a busy machine).
        XCTAssertTrue([12, 24, 36, 48].contains { extended.stderr.contains("tiny_1gram_seed1: continues from step \($0) of") },
                      extended.stderr)
        let straight = try run(slow + ["--steps", "120", "--out", folder + "/straight.csv"])
        XCTAssertEqual(straight.status, 0, straight.stderr)
        XCTAssertEqual(withoutWallTime(read(folder + "/long.csv")), withoutWallTime(read(folder + "/straight.csv")))
    }

    func testWhatCannotBeExtendedIsAClearError() throws {
        let folder = try temporaryFolder()
        let cosine = Array(Self.wsd.dropLast(4)) + ["--steps", "24", "--out", folder + "/cosine.csv"]
        XCTAssertEqual(try run(cosine).status, 0)
        XCTAssertEqual(try run(Self.wsd + ["--steps", "60", "--out", folder + "/short.csv"]).status, 0)
        let cases: [([String], String)] = [
            (Self.wsd + ["--steps", "120", "--out", folder + "/a.csv", "--extend-from", folder + "/cosine.csv"],
             "only a warmup-stable-decay sweep (--schedule wsd) can be extended"),
            (Self.wsd + ["--steps", "60", "--out", folder + "/b.csv", "--extend-from", folder + "/short.csv"],
             "needs more steps than the 60 of the earlier one"),
            (Self.wsd.filter { $0 != "--warmup" && $0 != "10" } + ["--steps", "240", "--out", folder + "/c.csv", "--extend-from", folder + "/short.csv"],
             "the warmup differs (10 steps there, 12 here): give --warmup 10"),
            (Self.wsd + ["--steps", "120", "--lr", "0.001", "--out", folder + "/d.csv", "--extend-from", folder + "/short.csv"],
             "the sweeps differ in more than their budget (learningRate"),
            (Self.wsd + ["--steps", "120", "--out", folder + "/e.csv", "--extend-from", folder + "/none.csv"],
             "there is no sweep folder \(folder)/none.csv.runs"),
            (Self.wsd + ["--steps", "50"], "the decay starts at step 40, which must be an evaluation step"),
            (Array(Self.wsd.dropLast(4)) + ["--steps", "60", "--decay", "0.3"], "--decay goes with --schedule wsd"),
            (Array(Self.wsd.dropLast(4)) + ["--steps", "60", "--schedule", "linear"], "--schedule expects cosine or wsd"),
        ]
        for (arguments, message) in cases {
            let outcome = try run(arguments)
            XCTAssertEqual(outcome.status, 2, "\(arguments): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(message), "\(arguments): expected '\(message)' in\n\(outcome.stderr)")
        }
        // Nothing was trained or seeded by the refused extensions.
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/a.csv"))
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: folder + "/d.csv.runs"))?.filter { $0.hasSuffix(".ckpt") }, [])
    }
}
