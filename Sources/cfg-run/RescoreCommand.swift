import Files
import Foundation
import Runner

let rescoreSpec = CommandSpec(
    name: "rescore", summary: "score a sweep's final checkpoints on another validation set (measures validation-set noise)",
    positionals: ["FILE.csv"],
    options: [Options.validationSamples.with(help: "sentences of the new validation set (required; e.g. 5000)").spec,
              Options.dataSeed.with(help: "seed of the new validation set (required; not the sweep's, or it is the same set)").spec,
              Options.threads.spec, Options.out.with(help: "write the CSV there (required)").spec],
    details: """
    Reads the sweep folder FILE.csv.runs/ (as merge does) and scores the final checkpoint of every finished run on
    a validation set of --val-samples sentences drawn with --data-seed, with its exact entropy: the same trained
    models, other sentences. A sweep's validation set is one sample shared by every run, so part of a difference
    between two designs comes from which sentences were drawn; the seeds' intervals do not hold that part, and
    comparing the two files shows its size. The output has the columns of a results file, one row per run: the
    run's final row with val_loss_per_char, true_entropy_per_char and excess_per_char of the new set (generation
    columns are the run's own: they do not depend on the validation set), so summary, assert and plot read it.
    Runs that are unfinished, diverged or whose final checkpoint is not on this machine (checkpoints are not
    committed) are listed and left out; then the exit status is 1. Run it from where the sweep ran (the grammar
    path is the sweep's); a grammar changed since is refused.
    Example: cfg-run rescore results/plateau-d32-40k.csv --val-samples 5000 --data-seed 7 --out /tmp/d32-val5000.csv
    """)

func runRescore(_ arguments: ParsedArguments) throws -> Int32 {
    let given = arguments.positionals[0]
    guard arguments.given(Options.validationSamples), arguments.given(Options.dataSeed) else {
        throw UsageError("--val-samples and --data-seed are required (the new validation set: e.g. --val-samples 5000 --data-seed 7)")
    }
    guard let outPath = try arguments.optional(Options.out) else { throw UsageError("--out FILE is required") }
    let results = try usage { try FileSystem.resolveOutputFile(given) }
    let out = try usage { try FileSystem.prepareOutputFile(outPath, inputs: [results]) }
    let directory = try usage { try SweepDirectory.openExisting(results + ".runs") }
    let sweep = directory.manifest.settings
    let settings = FinalCheckpointScorer.settings(of: directory, validationSamples: try arguments.value(Options.validationSamples),
                                                  dataSeed: try arguments.value(Options.dataSeed))
    if settings.dataSeed == sweep.dataSeed {
        throw UsageError("--data-seed \(settings.dataSeed) is the sweep's own: its validation set would overlap the one already scored; choose another seed")
    }
    let grammar = try loadGrammar(settings.grammarPath)
    if let recorded = directory.grammar, let change = recorded.change(to: GrammarRecord(grammar)) {
        throw UsageError("\(settings.grammarPath) has changed since the sweep ran (\(change)): its runs cannot be scored against it")
    }
    let data = try usage { try SweepData(settings: settings, grammar: grammar, log: printError) }
    printError(String(format: "new validation set: %d sentences (data seed %llu), true entropy %.4f nats/char; the sweep's: %d sentences (data seed %llu)",
                      settings.validationSamples, settings.dataSeed, data.trueEntropyPerCharacter, sweep.validationSamples, sweep.dataSeed))
    let scorer = FinalCheckpointScorer(directory: directory, data: data)
    let units = directory.manifest.units
    let threads = try arguments.value(Options.threads)
    var rows: [ResultRow] = []
    var skipped = 0
    let started = Date()
    for (index, unit) in units.enumerated() {
        let name = "unit \(index) (\(unit.size.name) \(unit.design) seed \(unit.seed))"
        switch try usage({ try scorer.score(unit, threads: threads) }) {
        case .scored(let row, let sweepExcess):
            rows.append(row)
            let elapsed = Date().timeIntervalSince(started), left = elapsed / Double(index + 1) * Double(units.count - index - 1)
            printError(String(format: "%@: excess %.5f (the sweep's %.5f) | %d of %d runs | ETA %@", name, row.excess,
                              sweepExcess, index + 1, units.count, formatDuration(left)))
        case .skipped(let why):
            skipped += 1
            printError("left out: \(name): \(why)")
        }
    }
    guard !rows.isEmpty else {
        printError("no run could be scored (above); \(out) not written")
        return 1
    }
    try writeResults(SweepRows.csv(rows), to: out)
    printError("wrote \(out): \(rows.count) of \(units.count) runs\(skipped > 0 ? "; \(skipped) left out (above)" : "")")
    return skipped > 0 ? 1 : 0
}
