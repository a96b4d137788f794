import Files
import Foundation
import Runner
import Tokenizer

let sweepSpec = CommandSpec(
    name: "sweep", summary: "train models of several sizes with each vocabulary design; write the comparison as CSV",
    positionals: ["G.cfg"], options: SweepOptions.all,
    details: """
    The main job (also: cfg-run G.cfg [options]). Every (size, variant, seed) is one run: fresh sentences from the
    grammar (seeded by the run's seed), packed whole as BOS+sentence+EOS into windows; AdamW, cosine schedule
    (or warmup-stable-decay: a wsd sweep can later be extended to more steps with --extend-from).
    At every evaluation point a CSV row: val_loss_per_char on a fixed validation set, excess_per_char = val loss -
    the grammar's true entropy on the same sentences (KL per character; 0 is perfect), gen_accuracy of sentences
    sampled from BOS at temperature 1 with a 95% Wilson interval. Rerun the same command after an interruption to
    resume. A summary table goes to stderr at the end.

    Variants: \(VocabularyDesign.spellings).
    Sizes:
    \(ModelSize.presets.map { "  \($0.name.padding(toLength: 6, withPad: " ", startingAt: 0)) L\($0.layers)-d\($0.width)-h\($0.heads)   \($0.nonEmbeddingParameters) non-embedding parameters" }.joined(separator: "\n"))
    """)

/// A library error that is the user's to fix: exit status 2 with its message.
func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as UsageError { throw error } catch { throw UsageError("\(error)") }
}

func runSweep(_ arguments: ParsedArguments) throws -> Int32 {
    let slurm = arguments.flag(SweepOptions.slurm)
    if slurm {
        guard arguments.given(Options.out) else { throw UsageError("--slurm needs --out FILE.csv: the tasks share the folder FILE.csv.runs") }
        guard !arguments.given(SweepOptions.unit) else { throw UsageError("--slurm and --unit do not go together: the job array runs every unit") }
    } else if arguments.flag(SweepOptions.dryRun) || arguments.given(SweepOptions.slurmOption) {
        throw UsageError("--dry-run and --slurm-option go with --slurm")
    }
    let sweep = try usage {
        try Sweep(settings: try SweepOptions.settings(arguments), sizes: try arguments.value(Options.sizes),
                  designs: try arguments.value(Options.variants), seeds: try arguments.value(Options.seeds))
    }
    var request = SweepJob.Request(sweep: sweep, out: try arguments.optional(Options.out), unit: try arguments.optional(SweepOptions.unit),
                                   extendFrom: try arguments.optional(SweepOptions.extendFrom), threads: try arguments.value(Options.threads),
                                   jobs: try arguments.optional(SweepOptions.jobs), memoryLimit: try arguments.value(Options.maxMemory))
    request.submitted = slurm
    let checked = try usage { try SweepJob.check(request) }
    // A value that the Slurm script cannot carry is refused now, while nothing is written.
    if slurm { _ = try usage { try SlurmSubmission.array(for: checked, task: try slurmTask(arguments), options: arguments.all(SweepOptions.slurmOption), cpus: 1, units: []) } }
    InterruptHandler.install(directory: checked.isTemporary ? nil : checked.folder, temporary: checked.isTemporary ? checked.folder : nil)
    defer { if checked.isTemporary { try? FileManager.default.removeItem(atPath: checked.folder) } }

    let job: SweepJob
    switch try usage({ try SweepJob.start(checked, log: printError) }) {
    case .finishedEarlier(let rows):
        if let k = request.unit {
            let unit = sweep.units[k]
            print(ResultRow.header)
            for row in rows where row.size == unit.size.name && row.variant == unit.design.description && row.seed == unit.seed { print(row.csvLine) }
        }
        return rows.contains { $0.status != "ok" } ? 1 : 0
    case .ready(let ready):
        job = ready
    }
    if slurm { return try submitToSlurm(job, arguments) }
    if request.unit != nil {
        let progress = SweepProgress(units: sweep.units, steps: sweep.settings.steps) { "unit \($0)" }
        var headerPrinted = false
        let rows = try usage {
            try job.runUnit(events: progress.handle) { row in
                if !headerPrinted { print(ResultRow.header) }
                headerPrinted = true
                print(row.csvLine)
                try stopIfNobodyReads()
            }
        }
        progress.end()
        return rows.last?.status == "diverged" ? 1 : 0
    }

    let (jobs, each) = job.parallelism
    if jobs > 1 { printError("\(sweep.units.count) runs, \(jobs) at a time with \(each) thread\(each > 1 ? "s" : "") each") }
    let progress = SweepProgress(units: sweep.units, steps: sweep.settings.steps) { "run \($0 + 1)/\(sweep.units.count)" }
    let started = Date()
    var headerPrinted = false
    let rows = try usage {
        try job.run(events: progress.handle) { rows in
            // Without --out the rows go to standard output in sweep order, as soon as every run before them is done.
            if !headerPrinted { print(ResultRow.header) }
            headerPrinted = true
            for row in rows { print(row.csvLine) }
            try stopIfNobodyReads()
        }
    }
    progress.end()
    printError("sweep finished: \(sweep.units.count) runs in \(formatDuration(Date().timeIntervalSince(started)))")
    if let table = try? ResultsTable(csv: SweepRows.csv(rows)) { printError(table.summary()) }
    return rows.contains { $0.status != "ok" } ? 1 : 0
}

/// Flushes the rows printed so far. When nobody reads them any more (`| head`, a closed terminal) the sweep stops:
/// what it saved is kept (with --out) or removed with its temporary folder.
func stopIfNobodyReads() throws {
    fflush(stdout)
    if ferror(stdout) != 0 { throw UsageError("standard output was closed (its reader ended); the sweep stops") }
}

/// Replaces a file with `text` (atomically).
func writeResults(_ text: String, to path: String) throws {
    try usage { try FileSystem.writeAtomically(text, to: path) }
}
