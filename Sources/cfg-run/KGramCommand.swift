import Files
import Foundation
import Runner

let kgramSpec = CommandSpec(
    name: "kgram", summary: "regime calibration: count-based character k-gram models fitted on a run's characters",
    positionals: ["G.cfg"],
    options: [kgramCharacters.spec, kgramOrders.spec,
              Options.seeds.with(help: "training streams: the sentences of the sweep runs with these seeds (default 1)").spec,
              Options.window.with(help: "as the sweep's --window: longer sentences are skipped, as a run skips them").spec,
              Options.validationSamples.with(help: "validation sentences, as the sweep's (default \(SweepSettings.defaults.validationSamples))").spec,
              Options.dataSeed.with(help: "seed of the validation set and of the generation draws, as the sweep's (default \(SweepSettings.defaults.dataSeed))").spec,
              kgramSamples.spec, Options.out.with(help: "write the CSV there (default: stdout)").spec],
    details: """
    For each seed, fits interpolated Witten-Bell k-gram models on the sentences a sweep's run with that seed trains
    on (its own seeded stream, the same sentences in the same order, those longer than the window skipped), up to
    each --chars count, and scores them on the sweep's validation set (the same sentences as a sweep with the same
    --val-samples, --data-seed and --window), and by generation accuracy: --gen-samples sentences sampled from
    the model from the sentence start (temperature 1), each checked with the exact parser (it must end within the
    window), with a 95% Wilson interval. Columns: grammar, model, order, chars, seed, val_loss_per_char,
    true_entropy_per_char, excess_per_char, gen_accuracy, gen_accuracy_lo, gen_accuracy_hi, gen_samples. A table's
    neural numbers next to these say which regime they are in: a model no better than a k-gram on the same
    characters has learnt local statistics only (on a shallow grammar a high-order k-gram also generates well).
    """)

let kgramCharacters = Options.list("--chars", value: "N1,N2,...", help: "characters to fit on (required; e.g. a run's chars column at the steps of interest)") { text -> Int in
    guard let n = Int(text.replacingOccurrences(of: "_", with: "")), n > 0, n <= 10_000_000_000 else {
        throw UsageError("--chars expects positive integers, got '\(text)'")
    }
    return n
}
let kgramOrders = Options.span("--orders", value: "K1-K2", help: "orders k (default 3-10)", default: 3...10, range: 1...16)
let kgramSamples = Options.generationSamples.with(help: "sentences sampled from each model for gen_accuracy (default 2000; 0: none)")
    .defaulting(to: 2000)

func runKGram(_ arguments: ParsedArguments) throws -> Int32 {
    let path = arguments.positionals[0]
    guard let characters = try arguments.optional(kgramCharacters) else {
        throw UsageError("--chars is required (e.g. --chars 1000000,5000000)")
    }
    let orders = try arguments.value(kgramOrders)
    let seeds = try arguments.value(Options.seeds)
    var settings = SweepSettings.defaults
    settings.grammarPath = path
    settings.window = try arguments.value(Options.window)
    settings.validationSamples = try arguments.value(Options.validationSamples)
    settings.dataSeed = try arguments.value(Options.dataSeed)
    let samples = try arguments.value(kgramSamples)
    let out = try arguments.optional(Options.out).map { out in try usage { try FileSystem.prepareOutputFile(out, inputs: [path]) } }
    let grammar = try loadGrammar(path)
    let data = try usage { try SweepData(settings: settings, grammar: grammar, log: printError) }
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    var csv = "grammar,model,order,chars,seed,val_loss_per_char,true_entropy_per_char,excess_per_char,gen_accuracy,gen_accuracy_lo,gen_accuracy_hi,gen_samples\n"
    if out == nil { print(csv, terminator: "") }
    for seed in seeds {
        let rows = try usage {
            try CharacterNGramCalibration.rows(data: data, orders: orders, characters: characters, seed: seed,
                                               generationSamples: samples, progress: { printError("seed \(seed): \($0)") })
        }
        for row in rows {
            var accuracy = ResultRow()
            accuracy.genAccuracy = row.generationAccuracy
            accuracy.genSamples = samples
            if samples > 0 {
                (accuracy.genLow, accuracy.genHigh) = Evaluation.wilson(successes: row.generationSuccesses, trials: samples)
            }
            let line = String(format: "%@,kgram-wb,%d,%d,%llu,%.6f,%.6f,%.6f,%@", CSV.quote(name), row.order, row.characters,
                              row.seed, row.lossPerCharacter, data.trueEntropyPerCharacter, row.excessPerCharacter,
                              accuracy.generationColumns)
            csv += line + "\n"
            if out == nil { print(line) }
        }
        if out == nil { fflush(stdout) }
    }
    if let out { try writeResults(csv, to: out) }
    return 0
}
