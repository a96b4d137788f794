import Foundation
import XCTest

/// Sweeps on every core (--jobs), as single units (--unit, the tasks of a job array), merged (cfg-run merge), and
/// the Slurm script (--slurm --dry-run). tools/slurm/test.sh runs the same against a real Slurm.
final class ScaleOutTests: CLITestCase {
    static let small = ["grammars/cfg3f-l3.cfg", "--sizes", "tiny,xs", "--variants", "1gram,3gram-out", "--steps", "20",
                        "--eval-every", "10", "--val-samples", "50", "--gen-samples", "8"]

    func testRunsAtOnceWriteTheSameCSVAndStreamRowsInSweepOrder() throws {
        let folder = try temporaryFolder()
        let one = try run(Self.small + ["--jobs", "1", "--out", folder + "/one.csv"])
        XCTAssertEqual(one.status, 0, one.stderr)
        let two = try run(Self.small + ["--jobs", "2", "--threads", "2", "--out", folder + "/two.csv"])
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertTrue(two.stderr.contains("4 runs, 2 at a time with 1 thread each"), two.stderr)
        XCTAssertEqual(withoutWallTime(read(folder + "/two.csv")), withoutWallTime(read(folder + "/one.csv")))
        // Standard output: the same rows, in sweep order, with three at once.
        let streamed = try run(Self.small + ["--jobs", "3", "--threads", "3"])
        XCTAssertEqual(streamed.status, 0, streamed.stderr)
        XCTAssertEqual(withoutWallTime(streamed.stdout), withoutWallTime(read(folder + "/one.csv")))
    }

    /// Not a terminal: a line per finished run and a few status lines, not one per second (a 15-run sweep used to
    /// write about 500).
    func testProgressOnAPipeIsAFewLinesPerRun() throws {
        let outcome = try run(["grammars/cfg3f-l3.cfg", "--steps", "60", "--val-samples", "50", "--gen-samples", "8"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let lines = outcome.stderr.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains(": finished in ") }.count, 15, outcome.stderr)
        XCTAssertLessThan(lines.count, 45, outcome.stderr)
        XCTAssertFalse(outcome.stderr.contains("\u{1B}["), "no cursor movement when stderr is not a terminal")
    }

    func testUnitsRunApartAndMergeIntoTheSweepsCSV() throws {
        let folder = try temporaryFolder()
        let local = try run(Self.small + ["--out", folder + "/local.csv"])
        XCTAssertEqual(local.status, 0, local.stderr)
        let out = folder + "/x.csv"
        for unit in [2, 0] {
            let task = try run(Self.small + ["--out", out, "--unit", "\(unit)"])
            XCTAssertEqual(task.status, 0, task.stderr)
        }
        var merged = try run(["merge", out])
        XCTAssertEqual(merged.status, 1)
        XCTAssertTrue(merged.stderr.contains("2 of 4 runs, 4 rows"), merged.stderr)
        XCTAssertTrue(merged.stderr.contains("missing: unit 1 (tiny 3gram-out seed 1): not started"), merged.stderr)
        XCTAssertTrue(merged.stderr.contains("missing: unit 3 (xs 3gram-out seed 1): not started"), merged.stderr)
        XCTAssertEqual(read(out).split(separator: "\n").count, 5, "the finished runs' rows are written")
        for unit in [3, 1] { XCTAssertEqual(try run(Self.small + ["--out", out, "--unit", "\(unit)"]).status, 0) }
        merged = try run(["merge", out])
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertEqual(withoutWallTime(read(out)), withoutWallTime(read(folder + "/local.csv")))
        // A unit run again replays its rows; merge of a folder that is not a sweep's says so.
        let again = try run(Self.small + ["--out", out, "--unit", "1"])
        XCTAssertTrue(again.stderr.contains("finished earlier"), again.stderr)
        let none = try run(["merge", folder + "/nothing.csv"])
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.stderr.contains("no such sweep folder"), none.stderr)
    }

    func testSlurmScriptHoldsTheSweepsArgumentsAndOnlyUnfinishedUnits() throws {
        let folder = try temporaryFolder()
        let out = folder + "/x.csv"
        XCTAssertEqual(try run(Self.small + ["--out", out, "--unit", "2"]).status, 0)
        let dry = try run(Self.small + ["--out", out, "--slurm", "--dry-run", "--slurm-option", "--partition=cpu",
                                        "--slurm-option=--time=1:00:00", "--threads", "3"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stderr.contains("a job array of 3 tasks (units 0-1,3 of 4)"), dry.stderr)
        let script = read(out + ".runs/sweep.sbatch")
        for line in ["#SBATCH --array=0-1,3", "#SBATCH --cpus-per-task=3", "#SBATCH --partition=cpu", "#SBATCH --time=1:00:00",
                     "#SBATCH --output=\"\(out).runs/slurm-%A_%a.out\"",
                     " sweep --sizes tiny,xs --variants 1gram,3gram-out --steps 20 --eval-every 10 --gen-samples 8 --val-samples 50 --out \(out) --unit \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-3}\" -- grammars/cfg3f-l3.cfg\n"] {
            XCTAssertTrue(script.contains(line), "\(line)\n\(script)")
        }
        XCTAssertFalse(script.contains("#SBATCH --time=24:00:00"), "the user's time limit replaces the default")
        XCTAssertTrue(script.contains("cd \(CLITestCase.root.path)"), script)
        // The script runs a task as the cluster would, with the variables Slurm sets.
        let task = Process()
        task.executableURL = URL(fileURLWithPath: "/bin/bash")
        task.arguments = [out + ".runs/sweep.sbatch"]
        task.environment = ProcessInfo.processInfo.environment.merging(["SLURM_ARRAY_TASK_ID": "3", "SLURM_CPUS_PER_TASK": "1"]) { $1 }
        task.standardOutput = FileHandle.nullDevice
        task.standardError = FileHandle.nullDevice
        try task.run()
        task.waitUntilExit()
        XCTAssertEqual(task.terminationStatus, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + ".runs/xs_3gram-out_seed1.done"))
        // Without sbatch on PATH: a clear error, the script is still written.
        let noSlurm = try run(Self.small + ["--out", out, "--slurm"], environment: ["PATH": folder])
        XCTAssertEqual(noSlurm.status, 2)
        XCTAssertTrue(noSlurm.stderr.contains("sbatch is not installed here"), noSlurm.stderr)
        for (arguments, message) in [(["--slurm"], "--slurm needs --out"), (["--dry-run", "--out", out], "go with --slurm"),
                                     (["--slurm", "--unit", "1", "--out", out], "do not go together")] {
            let outcome = try run(Self.small + arguments)
            XCTAssertEqual(outcome.status, 2, "\(arguments)")
            XCTAssertTrue(outcome.stderr.contains(message), outcome.stderr)
        }
    }
}
