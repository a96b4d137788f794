import Files
import Foundation
import Runner

let kgramSpec = CommandSpec(
    name: "kgram", summary: "regime calibration: count-based character k-gram models fitted on a run's characters",
    positionals: ["G.cfg"],
    options: [
        OptionSpec("--chars", value: "N1,N2,...", help: "characters to fit on (e.g. a run's chars column at the steps of interest)"),
        OptionSpec("--orders", value: "K1-K2", help: "orders k (default 3-10)"),
        OptionSpec("--seeds", value: "1,2,3", help: "training streams: the sentences of the sweep runs with these seeds (default 1)"),
        OptionSpec("--window", value: "N", help: "as the sweep's --window: longer sentences are skipped, as a run skips them"),
        OptionSpec("--val-samples", value: "N", help: "validation sentences, as the sweep's (default \(SweepSettings.defaults.validationSamples))"),
        OptionSpec("--data-seed", value: "S", help: "seed of the validation set and of the generation draws, as the sweep's (default \(SweepSettings.defaults.dataSeed))"),
        OptionSpec("--gen-samples", value: "N", help: "sentences sampled from each model for gen_accuracy (default 2000; 0: none)"),
        OptionSpec("--out", value: "FILE.csv", help: "write the CSV there (default: stdout)"),
    ],
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

func runKGram(_ arguments: ParsedArguments) throws -> Int32 {
    let path = arguments.positionals[0]
    guard let charsText = arguments.string("--chars") else { throw UsageError("--chars is required (e.g. --chars 1000000,5000000)") }
    let characters = try listOption(arguments, "--chars", default: charsText) { text -> Int in
        guard let n = Int(text.replacingOccurrences(of: "_", with: "")), n > 0, n <= 10_000_000_000 else {
            throw UsageError("--chars expects positive integers, got '\(text)'")
        }
        return n
    }
    let orderText = arguments.string("--orders") ?? "3-10"
    // Exactly K or K1-K2: every piece a whole number (so '3--5', '3-x-5' and '3-5-' are refused, not read as 3-5).
    let bounds = orderText.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
    guard (1...2).contains(bounds.count), let low = bounds.first!, let high = bounds.last!, 1 <= low, low <= high, high <= 16 else {
        throw UsageError("--orders expects K or K1-K2 within 1...16, got '\(orderText)'")
    }
    let orders = low...high
    let seeds = try listOption(arguments, "--seeds", default: "1") { text -> UInt64 in
        guard let seed = UInt64(text) else { throw UsageError("--seeds expects non-negative integers, got '\(text)'") }
        return seed
    }
    var settings = SweepSettings.defaults
    settings.grammarPath = path
    settings.window = try arguments.int("--window", default: settings.window, range: 2...100_000)
    settings.validationSamples = try arguments.int("--val-samples", default: settings.validationSamples, range: 1...10_000_000)
    settings.dataSeed = try arguments.uint64("--data-seed", default: settings.dataSeed)
    let samples = try arguments.int("--gen-samples", default: 2000, range: 0...10_000_000)
    let out = try arguments.string("--out").map { out in try usage { try FileSystem.prepareOutputFile(out, inputs: [path]) } }
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
