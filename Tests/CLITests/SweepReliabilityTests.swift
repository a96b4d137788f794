import Foundation
import XCTest

/// A sweep's directory and outputs under abuse (issue 10): lost, cut, edited and foreign files, two sweeps at once,
/// kills at random moments, full disks, devices as outputs, duplicates, absurd sizes and windows. Every case ends
/// in the exact CSV or in a clear error (exit 2) that names the file and leaves the results as they were.
final class SweepReliabilityTests: CLITestCase {
    static let small = ["grammars/cfg3f-l3.cfg", "--sizes", "tiny", "--variants", "1gram,3gram-in", "--steps", "20",
                        "--eval-every", "10", "--val-samples", "50", "--gen-samples", "8", "--threads", "1"]

    /// The reference CSV of `small`, made once per test that needs it.
    func reference(_ folder: String, _ arguments: [String] = small) throws -> String {
        let out = folder + "/reference.csv"
        let outcome = try run(arguments + ["--out", out])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return read(out)
    }

    // Item 1: a lost or cut shard next to a done-marker or checkpoint.
    func testALostOrCutShardIsAClearErrorNeverAShorterCSV() throws {
        let folder = try temporaryFolder()
        let expected = try reference(folder)
        let out = folder + "/x.csv", runs = out + ".runs/"
        XCTAssertEqual(try run(Self.small + ["--out", out]).status, 0)
        let csv = read(out)
        let shard = runs + "tiny_3gram-in_seed1.csv"

        // Lost: the done-marker says 2 rows.
        let saved = read(shard)
        try FileManager.default.removeItem(atPath: shard)
        var outcome = try run(Self.small + ["--out", out])
        XCTAssertEqual(outcome.status, 2, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("\(shard): missing, but tiny_3gram-in_seed1.done says the run finished with 2 rows"), outcome.stderr)
        XCTAssertEqual(read(out), csv, "the CSV is left as it was")

        // Cut at a line boundary, next to the done-marker.
        try String(saved.split(separator: "\n").dropLast().map { $0 + "\n" }.joined()).write(toFile: shard, atomically: true, encoding: .utf8)
        outcome = try run(Self.small + ["--out", out])
        XCTAssertEqual(outcome.status, 2)
        XCTAssertTrue(outcome.stderr.contains("differ from what tiny_3gram-in_seed1.done recorded"), outcome.stderr)

        // Cut, next to a checkpoint only (the run was interrupted after its last evaluation).
        try FileManager.default.removeItem(atPath: runs + "tiny_3gram-in_seed1.done")
        outcome = try run(Self.small + ["--out", out])
        XCTAssertEqual(outcome.status, 2)
        XCTAssertTrue(outcome.stderr.contains("holds rows for steps 10, but the checkpoint at step 20 needs 10, 20"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("To redo this run from the start, delete tiny_3gram-in_seed1.ckpt, tiny_3gram-in_seed1.csv"), outcome.stderr)

        // Doing what the message says redoes that run, and the CSV is the uninterrupted sweep's.
        try FileManager.default.removeItem(atPath: runs + "tiny_3gram-in_seed1.ckpt")
        try FileManager.default.removeItem(atPath: shard)
        outcome = try run(Self.small + ["--out", out])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertEqual(withoutWallTime(read(out)), withoutWallTime(expected))
    }

    // Item 6: one flipped digit in a finished shard; and a shard from a sweep with other settings.
    func testAnEditedOrForeignShardIsRefused() throws {
        let folder = try temporaryFolder()
        let out = folder + "/x.csv", shard = out + ".runs/tiny_1gram_seed1.csv"
        XCTAssertEqual(try run(Self.small + ["--out", out]).status, 0)
        let text = read(shard)
        let digit = text.range(of: ",1.4")!
        try text.replacingCharacters(in: digit, with: ",1.5").write(toFile: shard, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: out + ".runs/tiny_1gram_seed1.done")  // no whole-file checksum to help
        let outcome = try run(Self.small + ["--out", out])
        XCTAssertEqual(outcome.status, 2)
        XCTAssertTrue(outcome.stderr.contains("\(shard): line 2 fails its checksum"), outcome.stderr)

        // The same run from a sweep with another data seed: its rows fail this sweep's checksums.
        let other = folder + "/other.csv"
        XCTAssertEqual(try run(Self.small + ["--out", other, "--data-seed", "7"]).status, 0)
        try FileManager.default.removeItem(atPath: shard)
        try FileManager.default.copyItem(atPath: other + ".runs/tiny_1gram_seed1.csv", toPath: shard)
        let foreign = try run(Self.small + ["--out", out])
        XCTAssertEqual(foreign.status, 2)
        XCTAssertTrue(foreign.stderr.contains("fails its checksum"), foreign.stderr)
    }

    // Item 5: a refused rerun (other settings, or a damaged sweep.json) touches no output.
    func testARefusedRerunLeavesTheCSVAsItWas() throws {
        let folder = try temporaryFolder()
        let out = folder + "/x.csv"
        XCTAssertEqual(try run(Self.small + ["--out", out]).status, 0)
        let csv = read(out)
        let other = try run(Self.small.map { $0 == "20" ? "30" : $0 } + ["--out", out])
        XCTAssertEqual(other.status, 2)
        XCTAssertTrue(other.stderr.contains("holds a sweep with other settings or runs (steps: 20 there, 30 here)"), other.stderr)
        XCTAssertEqual(read(out), csv)
        try "{ not json".write(toFile: out + ".runs/sweep.json", atomically: true, encoding: .utf8)
        let damaged = try run(Self.small + ["--out", out])
        XCTAssertEqual(damaged.status, 2)
        XCTAssertTrue(damaged.stderr.contains("sweep.json is unreadable"), damaged.stderr)
        XCTAssertEqual(read(out), csv)
    }

    // Item 2: two sweeps on one --out; and a lock left by a killed sweep is taken over.
    func testTwoSweepsOnOneOutputAreRefusedAndAKilledOnesLockIsTakenOver() throws {
        let folder = try temporaryFolder()
        let longer = Self.small.map { $0 == "20" ? "400" : $0 == "10" ? "100" : $0 }
        let expected = try reference(folder, longer)
        let out = folder + "/x.csv"
        let first = try start(longer + ["--out", out])
        var waited = 0
        while read(out + ".runs/sweep.lock").isEmpty || read(out + ".runs/sweep.lock") == "<missing>" {
            usleep(20_000)
            waited += 1
            if waited > 1500 { break }
        }
        let second = try run(longer + ["--out", out])
        XCTAssertEqual(second.status, 2)
        XCTAssertTrue(second.stderr.contains("is in use by another sweep: process \(first.processIdentifier) on"), second.stderr)
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let resumed = try run(longer + ["--out", out])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(withoutWallTime(read(out)), withoutWallTime(expected))
        // A single-unit task is refused while a whole sweep holds the folder, and the other way round.
        let sweep = try start(longer.map { $0 == "400" ? "4000" : $0 } + ["--out", folder + "/y.csv"])
        defer { kill(sweep.processIdentifier, SIGKILL); sweep.waitUntilExit() }
        waited = 0
        while read(folder + "/y.csv.runs/sweep.lock").isEmpty || read(folder + "/y.csv.runs/sweep.lock") == "<missing>" {
            usleep(20_000)
            waited += 1
            if waited > 1500 { break }
        }
        let task = try run(longer.map { $0 == "400" ? "4000" : $0 } + ["--out", folder + "/y.csv", "--unit", "1"])
        XCTAssertEqual(task.status, 2)
        XCTAssertTrue(task.stderr.contains("in use by another sweep"), task.stderr)
    }

    // Kills at random moments (SIGKILL, SIGINT, SIGTERM) in every phase still resume to the exact CSV.
    func testKillsAtRandomMomentsResumeToTheExactCSV() throws {
        let folder = try temporaryFolder()
        let arguments = ["grammars/cfg3f-l3.cfg", "--sizes", "tiny,xs", "--variants", "1gram,3gram-out", "--steps", "300",
                         "--eval-every", "10", "--val-samples", "60", "--gen-samples", "32", "--threads", "2"]
        let expected = try reference(folder, arguments)
        let out = folder + "/x.csv"
        var state: UInt64 = 20_261_130
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        var kills = 0
        for round in 0..<12 {
            let process = try start(arguments + ["--out", out])
            usleep(useconds_t(30_000 + next() % 400_000))
            guard process.isRunning else { process.waitUntilExit(); break }
            let signal = [SIGKILL, SIGINT, SIGTERM][round % 3]
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            kills += 1
            // Whatever the moment, the CSV on disk is whole rows of the right sweep, in sweep order (with runs at
            // once, a later run's first rows may be there before an earlier run's last ones).
            let partial = withoutWallTime(read(out))
            if partial != ["<missing>"] {
                var rest = withoutWallTime(expected)[...]
                for row in partial {
                    guard let at = rest.firstIndex(of: row) else { XCTFail("after kill \(kills): \(row) is not in order"); break }
                    rest = rest[(at + 1)...]
                }
            }
        }
        let final = try run(arguments + ["--out", out])
        XCTAssertEqual(final.status, 0, final.stderr)
        XCTAssertGreaterThan(kills, 3)
        XCTAssertEqual(withoutWallTime(read(out)), withoutWallTime(expected))
        let interrupted = try start(arguments + ["--out", folder + "/z.csv"])
        usleep(300_000)
        kill(interrupted.processIdentifier, SIGINT)
        interrupted.waitUntilExit()
        XCTAssertEqual(interrupted.terminationStatus, 128 + SIGINT)
    }

    // Item 3: devices, folders and links as --out.
    func testOutputsNeverReplaceDevicesAndFollowLinks() throws {
        let folder = try temporaryFolder()
        for device in ["/dev/null", "/dev/zero"] {
            let outcome = try run(Self.small + ["--out", device])
            XCTAssertEqual(outcome.status, 2)
            XCTAssertTrue(outcome.stderr.contains("\(device) is a character device, not a regular file"), outcome.stderr)
            XCTAssertFalse(outcome.stderr.contains("step "), "nothing is trained")
        }
        var info = stat()
        XCTAssertEqual(stat("/dev/null", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "/dev/null is still a device")
        let toDevice = folder + "/null.csv"
        try FileManager.default.createSymbolicLink(atPath: toDevice, withDestinationPath: "/dev/null")
        XCTAssertEqual(try run(Self.small + ["--out", toDevice]).status, 2)
        XCTAssertEqual(try run(Self.small + ["--out", folder]).status, 2)
        // A link to a file: the target is written, the link stays a link.
        let link = folder + "/link.csv", target = folder + "/target.csv"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "target.csv")
        let linked = try run(Self.small + ["--out", link])
        XCTAssertEqual(linked.status, 0, linked.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), "target.csv")
        XCTAssertTrue(read(target).hasPrefix("grammar,variant"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: target + ".runs/sweep.json"))
        // A path below a file.
        let below = try run(Self.small + ["--out", target + "/x.csv"])
        XCTAssertEqual(below.status, 2)
        XCTAssertTrue(below.stderr.contains("is a file, not a folder"), below.stderr)
    }

    // Item 4: a full disk, while training and while writing the CSV: exit 2, a clear message, and after room is
    // made the rerun writes the exact CSV. A tmpfs of a few hundred KB, in a mount namespace of its own.
    func testAFullDiskIsAClearErrorAndTheRerunGivesTheExactCSV() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { throw XCTSkip("unshare(1) is missing") }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["--map-root-user", "--mount", "true"]
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else { throw XCTSkip("mount namespaces are not available here") }
        let folder = try temporaryFolder()
        let expected = try reference(folder)
        let disk = folder + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let sweep = ([executable.path] + Self.small + ["--out", disk + "/x.csv"]).map { "'\($0)'" }.joined(separator: " ")
        // 1. The disk fills while training (checkpoints of ~55-95 KB); then room is made.
        // 2. A finished sweep directory on a disk with no room left for the CSV; then room is made.
        let script = """
        set -u
        cd '\(CLITestCase.root.path)'
        mount -t tmpfs -o size=120k tmpfs '\(disk)' || exit 90
        \(sweep) >/dev/null 2>'\(folder)/training.err'; echo "training $?" > '\(folder)/status'
        mount -o remount,size=4m '\(disk)'
        \(sweep) >/dev/null 2>/dev/null; echo "resumed $?" >> '\(folder)/status'
        cp '\(disk)/x.csv' '\(folder)/after-training.csv'
        rm '\(disk)/x.csv'
        dd if=/dev/zero of='\(disk)/filler' bs=1k 2>/dev/null
        \(sweep) >/dev/null 2>'\(folder)/csv.err'; echo "csv $?" >> '\(folder)/status'
        rm '\(disk)/filler'
        \(sweep) >/dev/null 2>/dev/null; echo "rewritten $?" >> '\(folder)/status'
        cp '\(disk)/x.csv' '\(folder)/after-csv.csv'
        """
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        shell.arguments = ["--map-root-user", "--mount", "sh", "-c", script]
        try shell.run()
        shell.waitUntilExit()
        XCTAssertEqual(shell.terminationStatus, 0)
        XCTAssertEqual(read(folder + "/status"), "training 2\nresumed 0\ncsv 2\nrewritten 0\n")
        for log in ["training.err", "csv.err"] {
            XCTAssertTrue(read(folder + "/" + log).contains("no space left on device"), read(folder + "/" + log))
            XCTAssertFalse(read(folder + "/" + log).contains("NSCocoaErrorDomain"), read(folder + "/" + log))
        }
        XCTAssertTrue(read(folder + "/csv.err").contains("Nothing is lost"), read(folder + "/csv.err"))
        XCTAssertEqual(withoutWallTime(read(folder + "/after-training.csv")), withoutWallTime(expected))
        XCTAssertEqual(withoutWallTime(read(folder + "/after-csv.csv")), withoutWallTime(expected))
    }

    // Items 7, 10, 11, 16: arguments that used to be accepted silently, or to hang or abort.
    func testBadSweepArgumentsAreRefusedBeforeTraining() throws {
        let cases: [([String], String)] = [
            (["--variants", "1gram,1gram"], "--variants lists 1gram twice"),
            (["--seeds", "1,1"], "--seeds lists 1 twice"),
            (["--sizes", "tiny,L1-d16-h2"], "tiny and L1-d16-h2 are both L1-d16-h2"),
            (["--variants", "3gram-hin@m=100000000000000,k=2"], "over 64,000,000 parameters"),
            (["--window", "5"], "the shortest sentence of grammars/cfg3f-l3.cfg has 8 characters, so a window must hold at least 10"),
            (["--warmup", "-1"], "--warmup expects an integer in 0...10000000, got '-1'"),
            (["--window", "0"], "--window expects an integer in 2...100000, got '0'"),
            (["--seeds", "1,,2"], "item 2 is empty"),
            (["--variants", "1gram,"], "item 2 is empty"),
            (["--eval-every", "0"], "--eval-every expects an integer"),
            (["--unit", "99"], "--unit expects an index in 0..<2"),
        ]
        for (extra, message) in cases {
            let outcome = try run(Self.small + extra, timeout: 60)
            XCTAssertEqual(outcome.status, 2, "\(extra): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(message), "\(extra): \(outcome.stderr)")
            XCTAssertFalse(outcome.stderr.contains("| step "), "\(extra): training must not start")
        }
    }

    // Item 9: output-side vocabularies and chunk vocabularies get the same early, overflow-safe size check.
    func testHugeVocabulariesAreRefusedEarly() throws {
        let folder = try temporaryFolder()
        let wide = folder + "/wide.cfg"
        // 10,000 terminals: S -> t1 t2 | t3 t4 | ...
        let alternatives = stride(from: 1, to: 10_000, by: 2).map { "t\($0) t\($0 + 1)" }
        try ("S -> " + alternatives.joined(separator: " | ") + "\n").write(toFile: wide, atomically: true, encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("grammars/arith.cfg", "8gram-out", "the output head over"),
            ("grammars/arith.cfg", "8gram-gpt", "the token embedding over"),
            (wide, "2gram-out", "the output head over"),
            (wide, "3gram-out", "needs 1,000,100,010,001 token ids (more than 32-bit ids hold)"),
            (wide, "3gram-gpt", "more than 32-bit ids hold"),
            (wide, "8gram-out", "more than 32-bit ids hold"),
        ]
        for (grammar, variant, message) in cases {
            let outcome = try run([grammar, "--sizes", "tiny", "--variants", variant, "--steps", "10"], timeout: 60)
            XCTAssertEqual(outcome.status, 2, "\(variant) on \(grammar): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(message), "\(variant) on \(grammar): \(outcome.stderr)")
        }
        // Memory: 6gram-out on arith fits the table limit but needs gigabytes of logits.
        let memory = try run(["grammars/arith.cfg", "--sizes", "tiny", "--variants", "6gram-out", "--max-memory", "2"], timeout: 60)
        XCTAssertEqual(memory.status, 2)
        XCTAssertTrue(memory.stderr.contains("GB of memory"), memory.stderr)
        for output in ["3gram-out", "8gram-out", "3gram-gpt"] {
            let bench = try run(["bench", "--terminals", "10000", "--input", "1gram", "--output", output], timeout: 60)
            XCTAssertEqual(bench.status, 2, "bench --output \(output): \(bench.stderr)")
        }
        let benchInput = try run(["bench", "--terminals", "10000", "--input", "8gram-gpt"], timeout: 60)
        XCTAssertEqual(benchInput.status, 2, benchInput.stderr)
    }

    // Item 8: a single unit without --out leaves nothing in the temporary folder.
    func testASingleUnitWithoutOutputLeavesNothingBehind() throws {
        let folder = try temporaryFolder()
        let outcome = try run(Self.small + ["--unit", "1"], environment: ["TMPDIR": folder])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertEqual(outcome.stdout.split(separator: "\n").count, 3)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }

    // Item 19: a damaged checkpoint says which file to delete to restart that run.
    func testADamagedCheckpointSaysWhatToDelete() throws {
        let folder = try temporaryFolder()
        let out = folder + "/x.csv", runs = out + ".runs/"
        XCTAssertEqual(try run(Self.small + ["--out", out]).status, 0)
        try FileManager.default.removeItem(atPath: runs + "tiny_1gram_seed1.done")
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: runs + "tiny_1gram_seed1.ckpt"))
        try handle.seek(toOffset: 2000)
        try handle.write(contentsOf: Data([0xFF, 0xFF, 0xFF, 0xFF]))
        try handle.close()
        let outcome = try run(Self.small + ["--out", out])
        XCTAssertEqual(outcome.status, 2)
        XCTAssertTrue(outcome.stderr.contains("tiny_1gram_seed1.ckpt: checksum mismatch"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("To redo this run from the start, delete tiny_1gram_seed1.ckpt"), outcome.stderr)
    }
}
