import Foundation
import Runner

/// `--slurm`: the job array of the units that have not finished.
func submitToSlurm(_ job: SweepJob, _ arguments: ParsedArguments) throws -> Int32 {
    let out = job.request.out!
    switch try usage({ try SlurmSubmission.submit(job, task: try slurmTask(arguments), options: try arguments.all(SweepOptions.slurmOption),
                                                   cpus: try arguments.optional(Options.threads) ?? 2, dryRun: arguments.flag(SweepOptions.dryRun)) }) {
    case .allFinished:
        printError("all \(job.sweep.units.count) runs have finished; nothing to submit. Their rows are in \(out)")
    case .written(let script, let description):
        printError("wrote \(script): \(description); submit it with: sbatch \(SlurmArray.quoted(script))")
    case .submitted(let id, let description, let logs):
        print(id)
        printError("submitted job \(id): \(description); logs in \(logs). When it is done: cfg-run merge \(SlurmArray.quoted(out))")
    }
    return 0
}

/// A task's command before its `--unit`: this executable and the sweep's own arguments as given (the tasks start in
/// this folder), without those of the submission itself; --extend-from has done its work by then (the units
/// continue from their checkpoints in the sweep's folder).
func slurmTask(_ arguments: ParsedArguments) throws -> [String] {
    let excluded: Set<String> = ["--slurm", "--slurm-option", "--dry-run", "--jobs", "--threads", "--unit", "--out", "--extend-from"]
    var command = [currentExecutable(), "sweep"]
    for option in sweepSpec.options where !excluded.contains(option.name) {
        if option.isFlag {
            if arguments.flags.contains(option.name) { command.append(option.name) }
        } else {
            for value in arguments.values[option.name] ?? [] { command += [option.name, value] }
        }
    }
    return command
}

/// The absolute path of the running cfg-run (the cluster's nodes run the same file).
func currentExecutable() -> String {
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
    let path = CommandLine.arguments[0]
    if path.hasPrefix("/") { return path }
    if path.contains("/") { return FileManager.default.currentDirectoryPath + "/" + path }
    return Bundle.main.executablePath ?? path
}
