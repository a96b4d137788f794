import Files
import Foundation

/// A sweep as a Slurm job array: task K runs unit K (`cfg-run sweep ... --unit K`) in the sweep's directory, which
/// the tasks share (each holds the directory's lock shared and its unit's lock exclusively). `cfg-run merge` then
/// assembles the CSV from the finished shards.
///
/// Every value is checked when the array is made (`init` throws), so that a script is never written that does
/// something else than run the sweep: a line break in a path or an option would end an `#SBATCH` line or the task's
/// command and start a line of its own.
public struct SlurmArray {
    /// Units to run (sweep-order indices).
    public let units: [Int]
    /// The command of one task, without `--unit` and `--threads` (added per task) and without its operands: the
    /// executable, then its options.
    public let command: [String]
    /// The task's positional arguments (the grammar), written last, after a `--` that ends the options, so that one
    /// starting with `-` is not read as an option.
    public let operands: [String]
    /// The folder the tasks start in (paths in `command` may be relative to it).
    public let workingDirectory: String
    /// The sweep's state folder (`FILE.csv.runs`): the script and the tasks' logs go there.
    public let directory: String
    /// Lines for `#SBATCH`, as the user gave them (e.g. `--partition=cpu`, `--time=2:00:00`).
    public let options: [String]
    /// CPUs per task when the options do not say (and threads per task).
    public let defaultCPUs: Int
    /// The time limit when the options do not say.
    public static let defaultTime = "24:00:00"

    /// Throws a `SweepError` naming the value and what to do when a value cannot be written safely into the script:
    /// an empty option (a bare `#SBATCH`), a control character (a line break, a carriage return, NUL, ...) in an
    /// option, the working directory, the sweep's folder or any word of the task's command, or a backslash in the
    /// sweep's folder when the tasks' logs go there (Slurm's file names cannot hold one).
    public init(units: [Int], command: [String], operands: [String], workingDirectory: String, directory: String,
                options: [String], defaultCPUs: Int) throws(SweepError) {
        self.units = units
        self.command = command
        self.operands = operands
        self.workingDirectory = workingDirectory
        self.directory = directory
        self.options = options
        self.defaultCPUs = defaultCPUs
        if let problem { throw SweepError(problem) }
    }

    public var scriptPath: String { directory + "/sweep.sbatch" }
    /// Where the ids of submitted jobs are kept, one per line, so that a rerun can see which are still queued.
    public var jobsPath: String { directory + "/slurm-jobs" }

    /// Why the script cannot be written safely, or nil.
    private var problem: String? {
        for option in options {
            if option.allSatisfy(\.isWhitespace) {
                return "--slurm-option \(SlurmArray.shown(option)) is empty: it would write a bare #SBATCH line; give an sbatch option such as --partition=cpu, or leave it out"
            }
            if let character = SlurmArray.firstControlCharacter(in: option) {
                return "--slurm-option \(SlurmArray.shown(option)) holds \(character), which an #SBATCH line cannot carry (a line break would end it, and the rest would run as a command of the script): give each sbatch option as its own --slurm-option, without control characters"
            }
        }
        // The folder the command starts in first (every relative path lies below it), then what the user typed.
        let renameIt = "rename it, or give a path without control characters"
        var words = [("the working directory", workingDirectory, "start cfg-run in a folder whose path has no control characters"),
                     ("the cfg-run executable", command.first ?? "", "run a cfg-run whose path has no control characters")]
        for (index, word) in command.enumerated().dropFirst() {
            let previous = command[index - 1]
            words.append((previous.hasPrefix("--") ? previous : "the task's argument", word, renameIt))
        }
        words += operands.map { ("the task's argument", $0, renameIt) }
        words.append(("the sweep's folder", directory, renameIt))
        for (name, word, remedy) in words {
            if let character = SlurmArray.firstControlCharacter(in: word) {
                return "\(name) \(SlurmArray.shown(word)) holds \(character), which cannot be written safely into the Slurm script (a line break would end the task's command, and the rest would run as a command of its own): \(remedy)"
            }
        }
        if !given("--output", "-o") && directory.contains("\\") {
            return "the sweep's folder \(SlurmArray.shown(directory)) holds a backslash, which the tasks' log files (#SBATCH --output) cannot: Slurm drops every backslash of that name and then expands no %A or %a, so every task would write to one wrong file; give --out a path without backslashes"
        }
        return nil
    }

    /// The first character of `text` that a script line cannot carry, described ("a line break (U+000A)"), or nil:
    /// control characters (C0, DEL, C1: NUL, line feed, carriage return, escape, NEL, ...) and the Unicode line and
    /// paragraph separators.
    static func firstControlCharacter(in text: String) -> String? {
        guard let scalar = text.unicodeScalars.first(where: SlurmArray.isControl) else { return nil }
        let code = String(format: "U+%04X", scalar.value)
        switch scalar {
        case "\n": return "a line break (\(code))"
        case "\r": return "a carriage return (\(code))"
        case "\0": return "a NUL character (\(code))"
        case "\t": return "a tab (\(code))"
        case "\u{2028}", "\u{2029}": return "a line or paragraph separator (\(code))"
        default: return "a control character (\(code))"
        }
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    /// `text` in double quotes for a message, its control characters written as escapes (`\n`, `\u{1B}`).
    static func shown(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\0": result += "\\0"
            case _ where isControl(scalar): result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// Whether the user's options set `long` (`--time=...`) or its one-letter form `short` (`-t ...`).
    private func given(_ long: String, _ short: String) -> Bool {
        options.contains { option in
            option == long || option.hasPrefix(long + "=") || option.hasPrefix(long + " ")
                || (option.hasPrefix(short) && !option.hasPrefix("--"))
        }
    }

    /// The array's index list in Slurm's form, ranges compressed: `0-3,7,9-10`.
    public static func arraySpec(_ indices: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        let sorted = indices.sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end > index ? "\(sorted[index])-\(sorted[end])" : "\(sorted[index])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// A word quoted for bash (and for a command the user copies into a shell).
    public static func quoted(_ word: String) -> String {
        word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=,:@+".contains($0) } && !word.isEmpty
            ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `text` as one word of an `#SBATCH` line, in double quotes. sbatch (tried with Slurm 22.05) splits those lines
    /// at whitespace outside quotes, ends them at a `#` outside quotes, takes `"` and `'` alike as quotes, and `\`
    /// as an escape, also inside quotes: so `"a b's #1"` is the word `a b's #1`, and `\"` and `\\` inside are a
    /// quote and a backslash. There is no variable expansion.
    static func sbatchWord(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A path as a Slurm file-name pattern that names itself: `%` doubled (Slurm expands `%A`, `%a`, `%j`, ...). A
    /// backslash cannot be written: where a name holds one, slurmstepd drops every backslash and expands nothing.
    static func literalFileNamePattern(_ path: String) -> String {
        path.replacingOccurrences(of: "%", with: "%%")
    }

    /// The job's name: `cfg-run-` and the results file's name without `.csv`, every character other than an ASCII
    /// letter or digit, `.`, `_` or `-` replaced by `_`, so that it needs no quoting anywhere (squeue, sacct, scripts).
    public var jobName: String {
        var stem = (directory as NSString).lastPathComponent
        for suffix in [".runs", ".csv"] where stem.hasSuffix(suffix) { stem.removeLast(suffix.count) }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        return "cfg-run-" + String(stem.map { allowed.contains($0) ? $0 : "_" })
    }

    /// The batch script.
    public var script: String {
        var lines = [
            "#!/bin/bash",
            "# A cfg-run sweep as a Slurm job array: task K runs unit K. Written by cfg-run; to resubmit the units that",
            "# have not finished, rerun the cfg-run command that wrote it; to assemble the CSV: cfg-run merge FILE.csv",
            "#SBATCH --job-name=\(jobName)",
            "#SBATCH --array=\(SlurmArray.arraySpec(units))",
        ]
        if !given("--cpus-per-task", "-c") { lines.append("#SBATCH --cpus-per-task=\(defaultCPUs)") }
        if !given("--time", "-t") { lines.append("#SBATCH --time=\(SlurmArray.defaultTime)") }
        // #SBATCH lines are not shell: sbatch's own quoting (sbatchWord), and Slurm's %-patterns in the file name.
        if !given("--output", "-o") {
            let logs = SlurmArray.literalFileNamePattern(directory) + "/slurm-%A_%a.out"
            lines.append("#SBATCH --output=" + SlurmArray.sbatchWord(logs))
        }
        lines += options.map { "#SBATCH \($0)" }
        lines += [
            "set -eu",
            "cd \(SlurmArray.quoted(workingDirectory))",
            "exec " + command.map(SlurmArray.quoted).joined(separator: " ")
                + " --unit \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-\(defaultCPUs)}\""
                + (operands.isEmpty ? "" : " -- " + operands.map(SlurmArray.quoted).joined(separator: " ")),
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the script (atomically) into the sweep's folder.
    public func writeScript() throws {
        try FileSystem.writeAtomically(script, to: scriptPath)
        chmod(scriptPath, 0o755)
    }

    /// Submits the script with `sbatch` and returns the job id (recorded in `jobsPath`).
    public func submit() throws -> String {
        let (status, output, errors) = try SlurmArray.execute("sbatch", ["--parsable", scriptPath])
        let id = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        guard status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw SweepError("sbatch \(SlurmArray.quoted(scriptPath)) failed (exit status \(status)): \(errors.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let earlier = (try? String(contentsOfFile: jobsPath, encoding: .utf8)) ?? ""
        try FileSystem.writeAtomically(earlier + id + "\n", to: jobsPath)
        return id
    }

    /// The tasks of earlier submissions of this sweep that Slurm still has queued or running (`squeue`), as
    /// "JOB_TASK STATE" strings; nil when `squeue` cannot be asked.
    public func activeTasks() -> [String]? {
        guard let text = try? String(contentsOfFile: jobsPath, encoding: .utf8) else { return [] }
        let ids = text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        guard !ids.isEmpty else { return [] }
        guard let (status, output, _) = try? SlurmArray.execute("squeue", ["-h", "-r", "-o", "%i %T", "-j", ids.joined(separator: ",")]),
              status == 0 else { return nil }
        return output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// Runs a program found on PATH; returns its status, standard output and standard error.
    static func execute(_ program: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { throw SweepError("cannot run \(program): \(error.localizedDescription)") }
        // Standard error is read on another thread while standard output is read here (either may fill its pipe).
        final class Collected: @unchecked Sendable { var data = Data() }
        let errors = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errors.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        if process.terminationStatus == 127 {
            throw SweepError("\(program) is not installed here (not found on PATH): submit from a machine of the cluster, or use --dry-run to write the script only")
        }
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors.data, as: UTF8.self))
    }
}
