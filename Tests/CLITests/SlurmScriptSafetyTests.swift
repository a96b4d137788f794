import Foundation
import XCTest

/// What `--slurm` writes into the batch script. A value that would change what the script does (a line break in an
/// option or a path, an empty option) is refused before anything is written; paths with spaces, quotes, '#' and '%'
/// reach sbatch and bash as themselves; a grammar path starting with '-' stays a path in the tasks' command.
/// tools/slurm/test.sh runs a sweep whose paths hold a space and a quote against a real Slurm.
final class SlurmScriptSafetyTests: CLITestCase {
    static let grammar = CLITestCase.root.path + "/grammars/cfg3f-l3.cfg"
    /// One unit, a few seconds to train.
    static let tiny = ["--sizes", "tiny", "--variants", "1gram", "--steps", "20", "--eval-every", "10",
                       "--val-samples", "50", "--gen-samples", "8", "--threads", "1"]

    /// The names in `folder` (a refused command must leave it as it was).
    func contents(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? ["<missing>"]).sorted()
    }

    /// Runs the batch script as Slurm runs task `task` (with the variables Slurm sets); returns its exit status and
    /// standard error.
    func runTask(_ script: String, task: Int) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["SLURM_ARRAY_TASK_ID": "\(task)", "SLURM_CPUS_PER_TASK": "1"]) { $1 }
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let text = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: text, as: UTF8.self))
    }

    func testAnOptionWithALineBreakOrAControlCharacterIsRefusedAndNothingIsWritten() throws {
        let folder = try temporaryFolder()
        for (option, shown, character) in [
            ("--partition=x\necho INJECTED", "\"--partition=x\\necho INJECTED\"", "a line break (U+000A)"),
            ("--partition=x\recho INJECTED", "\"--partition=x\\recho INJECTED\"", "a carriage return (U+000D)"),
            ("--comment=\u{1B}[2J", "\"--comment=\\u{1B}[2J\"", "a control character (U+001B)"),
            ("--comment=a\u{2028}b", "\"--comment=a\\u{2028}b\"", "a line or paragraph separator (U+2028)"),
        ] {
            let outcome = try run([Self.grammar] + Self.tiny + ["--out", folder + "/x.csv", "--slurm", "--dry-run",
                                                                "--slurm-option=--time=1:00:00", "--slurm-option", option])
            XCTAssertEqual(outcome.status, 2, outcome.stderr)
            XCTAssertTrue(outcome.stderr.contains("error: --slurm-option \(shown) holds \(character), which an #SBATCH line cannot carry"),
                          outcome.stderr)
            XCTAssertEqual(contents(folder), [], "nothing is written: no script, no sweep folder")
        }
    }

    func testAnEmptyOptionIsRefused() throws {
        let folder = try temporaryFolder()
        for option in [["--slurm-option", ""], ["--slurm-option="], ["--slurm-option", "  "]] {
            let outcome = try run([Self.grammar] + Self.tiny + ["--out", folder + "/x.csv", "--slurm", "--dry-run"] + option)
            XCTAssertEqual(outcome.status, 2, outcome.stderr)
            XCTAssertTrue(outcome.stderr.contains("is empty: it would write a bare #SBATCH line"), outcome.stderr)
            XCTAssertEqual(contents(folder), [])
        }
    }

    /// The results file, the grammar and the folder the command starts in: each goes into the script.
    func testAPathWithALineBreakIsRefusedAndNothingIsWritten() throws {
        let folder = try temporaryFolder()
        var outcome = try run([Self.grammar] + Self.tiny + ["--out", folder + "/a\nb.csv", "--slurm", "--dry-run"])
        XCTAssertEqual(outcome.status, 2, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("error: --out \"\(folder)/a\\nb.csv\" holds a line break (U+000A), which cannot be written safely into the Slurm script"),
                      outcome.stderr)
        XCTAssertEqual(contents(folder), [])

        let grammar = folder + "/g\nrm -rf x.cfg"
        try FileManager.default.copyItem(atPath: Self.grammar, toPath: grammar)
        outcome = try run([grammar] + Self.tiny + ["--out", folder + "/x.csv", "--slurm", "--dry-run"])
        XCTAssertEqual(outcome.status, 2, outcome.stderr)
        // Refused for every sweep, Slurm or not: the grammar's file name goes into every row.
        XCTAssertTrue(outcome.stderr.contains("the grammar's path \(folder)/g\\u{A}rm -rf x.cfg contains a control character (U+000A)"), outcome.stderr)
        XCTAssertEqual(contents(folder), ["g\nrm -rf x.cfg"])

        let start = folder + "/start\nhere"
        try FileManager.default.createDirectory(atPath: start, withIntermediateDirectories: false)
        outcome = try run([Self.grammar] + Self.tiny + ["--out", "x.csv", "--slurm", "--dry-run"], in: start)
        XCTAssertEqual(outcome.status, 2, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("error: the working directory \"\(folder)/start\\nhere\" holds a line break (U+000A)"), outcome.stderr)
        XCTAssertEqual(contents(start), [])
    }

    /// Spaces, both quotes, '#' and '%' in the folder the command starts in, the results file and the grammar. In
    /// #SBATCH lines, sbatch's quoting (double quotes, `\"`) and Slurm's file-name patterns (`%%` is '%'); in the
    /// task's command and the printed sbatch command, bash's. The script then runs a task there.
    func testPathsWithSpacesAndQuotesAreQuotedForSbatchAndForBash() throws {
        let folder = try temporaryFolder()
        let start = folder + "/it's a \"dir\" #1 %j"
        try FileManager.default.createDirectory(atPath: start, withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: Self.grammar, toPath: start + "/g h's.cfg")
        let dry = try run(["sweep"] + Self.tiny + ["--out", "x y.csv", "--slurm", "--dry-run", "g h's.cfg"], in: start)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        let scriptPath = start + "/x y.csv.runs/sweep.sbatch"
        let script = read(scriptPath)
        let bashStart = "'\(folder)/it'\\''s a \"dir\" #1 %j"
        for line in ["\n#SBATCH --job-name=cfg-run-x_y\n",
                     "\n#SBATCH --output=\"\(folder)/it's a \\\"dir\\\" #1 %%j/x y.csv.runs/slurm-%A_%a.out\"\n",
                     "\ncd \(bashStart)'\n",
                     " --out \(bashStart)/x y.csv' --unit \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-1}\" -- 'g h'\\''s.cfg'\n"] {
            XCTAssertTrue(script.contains(line), "\(line)\n\(script)")
        }
        // The printed command, pasted into a shell, names the script.
        let printed = try XCTUnwrap(dry.stderr.components(separatedBy: "submit it with: sbatch ").last?
            .split(separator: "\n").first.map(String.init))
        XCTAssertEqual(printed, "\(bashStart)/x y.csv.runs/sweep.sbatch'")
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.arguments = ["-c", "test -f " + printed]
        try shell.run()
        shell.waitUntilExit()
        XCTAssertEqual(shell.terminationStatus, 0, "bash reads \(printed) as the script's path")
        // A task runs in that folder and writes its unit there; merge reads it.
        let task = try runTask(scriptPath, task: 0)
        XCTAssertEqual(task.status, 0, task.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: start + "/x y.csv.runs/tiny_1gram_seed1.done"), contents(start + "/x y.csv.runs").joined(separator: ", "))
        let merged = try run(["merge", start + "/x y.csv"])
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertTrue(read(start + "/x y.csv").contains("\ng h's,1gram,tiny,"), read(start + "/x y.csv"))
    }

    /// Slurm drops every backslash of an --output file name, and then expands no %A or %a: refused, unless the
    /// user's own --output says where the logs go.
    func testABackslashInTheLogFolderIsRefusedUnlessTheOptionsSetTheOutput() throws {
        let folder = try temporaryFolder()
        let results = folder + "/back\\slash"
        try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: false)
        let refused = try run([Self.grammar] + Self.tiny + ["--out", results + "/x.csv", "--slurm", "--dry-run"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("error: the sweep's folder \"\(results)/x.csv.runs\" holds a backslash"), refused.stderr)
        XCTAssertEqual(contents(results), [])
        let ownOutput = try run([Self.grammar] + Self.tiny + ["--out", results + "/x.csv", "--slurm", "--dry-run",
                                                              "--slurm-option", "--output=/dev/null"])
        XCTAssertEqual(ownOutput.status, 0, ownOutput.stderr)
        XCTAssertTrue(read(results + "/x.csv.runs/sweep.sbatch").contains("\n#SBATCH --output=/dev/null\n"))
    }

    /// `cfg-run sweep -- -g.cfg`: the tasks' command keeps the grammar after `--`, where it is not read as an option.
    func testAGrammarPathStartingWithADashStaysAPathInTheTasks() throws {
        let folder = try temporaryFolder()
        try FileManager.default.copyItem(atPath: Self.grammar, toPath: folder + "/-g.cfg")
        let dry = try run(["sweep"] + Self.tiny + ["--out", "x.csv", "--slurm", "--dry-run", "--", "-g.cfg"], in: folder)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        let script = read(folder + "/x.csv.runs/sweep.sbatch")
        XCTAssertTrue(script.hasSuffix(" --threads \"${SLURM_CPUS_PER_TASK:-1}\" -- -g.cfg\n"), script)
        let task = try runTask(folder + "/x.csv.runs/sweep.sbatch", task: 0)
        XCTAssertEqual(task.status, 0, task.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/x.csv.runs/tiny_1gram_seed1.done"), task.stderr)
    }
}
