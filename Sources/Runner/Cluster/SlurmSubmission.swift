import Files
import Foundation

/// A sweep submitted as a Slurm job array (`cfg-run ... --slurm`): the script for the units that have not finished,
/// written into the sweep's folder and submitted (or only written, for a dry run). Refused while tasks of an earlier
/// submission of the sweep are still queued or running.
public enum SlurmSubmission {
    /// What a submission did.
    public enum Outcome {
        /// Every unit has finished: nothing was submitted; the results file was rewritten from them.
        case allFinished
        /// The script was written (`--dry-run`), for these units.
        case written(script: String, description: String)
        /// The array was submitted as job `id`.
        case submitted(id: String, description: String, logs: String)
    }

    /// The job array of a sweep's tasks: `task` is the command of one task before its `--unit` (the executable and
    /// the sweep's own arguments, its results file absolute; see `SlurmArray`), the grammar path after `--`.
    /// Checked without writing anything, so that a value the script cannot carry is refused before any work.
    public static func array(for request: SweepJob.CheckedRequest, task: [String], options: [String], cpus: Int,
                             units: [Int]) throws -> SlurmArray {
        let cwd = FileManager.default.currentDirectoryPath
        let out = request.out!, absoluteOut = out.hasPrefix("/") ? out : cwd + "/" + out
        return try SlurmArray(units: units, command: task + ["--out", absoluteOut], operands: [request.request.grammarPath],
                              workingDirectory: cwd, directory: absoluteOut + ".runs", options: options, defaultCPUs: cpus)
    }

    /// Writes the script for the units of `job` that have not finished and submits it, unless `dryRun`.
    public static func submit(_ job: SweepJob, task: [String], options: [String], cpus: Int, dryRun: Bool) throws -> Outcome {
        let unfinished = try job.unfinishedUnits()
        guard !unfinished.isEmpty else {
            try job.writeFinishedResults()
            return .allFinished
        }
        let array = try self.array(for: job.request, task: task, options: options, cpus: cpus, units: unfinished)
        if let active = array.activeTasks(), !active.isEmpty {
            throw SweepError("\(active.count) task\(active.count == 1 ? "" : "s") of an earlier submission of this sweep \(active.count == 1 ? "is" : "are") still queued or running (\(active.prefix(5).joined(separator: ", "))\(active.count > 5 ? ", ..." : "")); wait for them, or cancel them with scancel, then rerun to submit what is left")
        }
        try array.writeScript()
        let count = job.sweep.units.count
        let description = "a job array of \(unfinished.count) task\(unfinished.count == 1 ? "" : "s") (units \(SlurmArray.arraySpec(unfinished)) of \(count))"
        if dryRun { return .written(script: array.scriptPath, description: description) }
        let id = try array.submit()
        return .submitted(id: id, description: description, logs: "\(job.directory.path)/slurm-\(id)_*.out")
    }
}
