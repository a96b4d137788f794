import Files
import Foundation
import Runner

let mergeSpec = CommandSpec(
    name: "merge", summary: "assemble a sweep's CSV from its finished runs (after a Slurm job array, or any time)",
    positionals: ["FILE.csv"],
    options: [],
    details: """
    Reads FILE.csv.runs/ (the state of a sweep run with --out FILE.csv, by --unit tasks or a job array) and writes
    FILE.csv with the rows of every finished run, in sweep order: the same file a sweep run here would write. Runs
    that have not finished are listed, and the exit status is then 1; a run whose files are damaged, or that comes
    from a sweep with other settings, is an error (exit status 2) that names the file. Safe while tasks are still
    running (only finished runs are read); refused while a whole sweep runs in that folder.
    """)

func runMerge(_ arguments: ParsedArguments) throws -> Int32 {
    let given = arguments.positionals[0]
    let out = try usage { try FileSystem.resolveOutputFile(given) }
    let directory = try usage { try SweepDirectory.openExisting(out + ".runs") }
    let (rows, missing) = try usage { try directory.collect() }
    try usage { try directory.writeResults(rows, to: out) }
    let units = directory.manifest.units
    printError("\(out): \(units.count - missing.count) of \(units.count) runs, \(rows.count) rows")
    guard !missing.isEmpty else { return 0 }
    for unit in missing {
        let index = units.firstIndex(of: unit)!
        let state = (try? directory.state(of: unit)).map { state -> String in
            if case .inProgress(let step, _) = state { return "checkpointed at step \(step) of \(directory.manifest.settings.steps)" }
            return "not started"
        } ?? "unreadable"
        printError("missing: unit \(index) (\(unit.size.name) \(unit.design) seed \(unit.seed)): \(state)")
    }
    printError("\(missing.count) run\(missing.count == 1 ? " has" : "s have") not finished: run them (rerun the sweep command, with --slurm to resubmit them to the cluster), then merge again")
    return 1
}
