import Foundation
import Grammar
import Model
import Runner
import Tokenizer

let defaultVariants = "1gram,3gram-gpt,3gram-in,3gram-hin,3gram-out"
let defaultSizes = "tiny,xs,s"

let sweepSpec = CommandSpec(
    name: "sweep", summary: "train models of several sizes with each vocabulary design; write the comparison as CSV",
    positionals: ["G.cfg"],
    options: [
        OptionSpec("--sizes", value: "S1,S2,...", help: "model sizes: presets (below) or L<layers>-d<width>-h<heads> (default \(defaultSizes))"),
        OptionSpec("--variants", value: "V1,V2,...", help: "vocabulary designs (default \(defaultVariants))"),
        OptionSpec("--seeds", value: "1,2,3", help: "training seeds (default 1)"),
        OptionSpec("--steps", value: "N", help: "training steps per run (default 1000)"),
        OptionSpec("--eval-every", value: "N", help: "evaluate (and checkpoint) every N steps (default steps/10)"),
        OptionSpec("--gen-samples", value: "N", help: "sentences sampled from BOS per evaluation for gen_accuracy (default 200)"),
        OptionSpec("--val-samples", value: "N", help: "validation sentences (default 500)"),
        OptionSpec("--out", value: "FILE.csv", help: "write the CSV there (and keep resumable state in FILE.csv.runs/); default: stdout"),
        OptionSpec("--threads", value: "N", help: "worker threads (default: all cores); results do not depend on it"),
        OptionSpec("--batch", value: "N", help: "windows per step (default 16)"),
        OptionSpec("--window", value: "N", help: "window length in characters (default: the grammar's longest sentence + 2, at least 64)"),
        OptionSpec("--lr", value: "X", help: "peak learning rate (default 0.002), cosine decay to 10% after warmup"),
        OptionSpec("--warmup", value: "N", help: "warmup steps (default 5% of the steps, at least 10)"),
        OptionSpec("--weight-decay", value: "X", help: "AdamW decoupled weight decay on matrices (default 0.1)"),
        OptionSpec("--beta1", value: "X", help: "AdamW beta1 (default 0.9)"),
        OptionSpec("--beta2", value: "X", help: "AdamW beta2 (default 0.98)"),
        OptionSpec("--min-lr", value: "F", help: "final learning rate as a fraction of the peak (default 0.1)"),
        OptionSpec("--grad-clip", value: "X", help: "global gradient-norm clip (default 1.0; 0 = off)"),
        OptionSpec("--positions", value: "learned|rotary", help: "position encoding (default learned, as GPT-2)"),
        OptionSpec("--data-seed", value: "S", help: "seed of the validation set and of the generation draws (default 20250101)"),
        OptionSpec("--unit", value: "K", help: "run only unit K (0-based, in size, variant, seed order) and print its rows: one task of a job array"),
    ],
    details: """
    The main job (also: cfg-run G.cfg [options]). Every (size, variant, seed) is one run: fresh sentences from the
    grammar (seeded by the run's seed), packed whole as BOS+sentence+EOS into windows; AdamW (betas 0.9/0.98,
    weight decay 0.1), cosine schedule. At every evaluation point a CSV row: val_loss_per_char on a fixed
    validation set, excess_per_char = val loss - the grammar's true entropy on the same sentences (KL per
    character; 0 is perfect), gen_accuracy of sentences sampled from BOS at temperature 1 with a 95% Wilson
    interval. Rerun the same command after an interruption to resume. A summary table goes to stderr at the end.

    Variants: \(VocabularyDesign.spellings).
    Sizes:
    \(sizeTable())
    """)

func sizeTable() -> String {
    ModelSize.presets.map { size in
        "  \(size.name.padding(toLength: 6, withPad: " ", startingAt: 0)) L\(size.layers)-d\(size.width)-h\(size.heads)   \(size.nonEmbeddingParameters) non-embedding parameters"
    }.joined(separator: "\n")
}

func listOption<T>(_ arguments: ParsedArguments, _ name: String, default value: String,
                   _ parse: (String) throws -> T) throws -> [T] {
    let text = arguments.string(name) ?? value
    let items = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    guard !items.isEmpty else { throw UsageError("\(name) expects a comma-separated list") }
    // Variant names may contain commas inside '@...' (m=...,k=...): rejoin those pieces.
    var joined: [String] = []
    for item in items {
        if let last = joined.last, last.contains("@"), item.hasPrefix("k=") || item.hasPrefix("m=") {
            joined[joined.count - 1] = last + "," + item
        } else {
            joined.append(item)
        }
    }
    return try joined.map(parse)
}

func floatOption(_ arguments: ParsedArguments, _ name: String, default value: Float, range: ClosedRange<Float>) throws -> Float {
    guard let text = arguments.string(name) else { return value }
    guard let parsed = Float(text), range.contains(parsed) else {
        throw UsageError("\(name) expects a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
    }
    return parsed
}

func runSweep(_ arguments: ParsedArguments) throws -> Int32 {
    let path = arguments.positionals[0]
    let sizes = try listOption(arguments, "--sizes", default: defaultSizes) { text -> ModelSize in
        do { return try ModelSize(parsing: text) } catch { throw UsageError("\(error)") }
    }
    let designs = try listOption(arguments, "--variants", default: defaultVariants) { text -> VocabularyDesign in
        do { return try VocabularyDesign(parsing: text) } catch { throw UsageError("\(error)") }
    }
    let seeds = try listOption(arguments, "--seeds", default: "1") { text -> UInt64 in
        guard let seed = UInt64(text) else { throw UsageError("--seeds expects non-negative integers, got '\(text)'") }
        return seed
    }
    var settings = SweepSettings(grammarPath: path)
    settings.steps = try arguments.int("--steps", default: 1000, range: 1...10_000_000)
    settings.evalEvery = try arguments.int("--eval-every", default: 0, range: 0...10_000_000)
    settings.generationSamples = try arguments.int("--gen-samples", default: 200, range: 0...10_000_000)
    settings.validationSamples = try arguments.int("--val-samples", default: 500, range: 1...10_000_000)
    settings.batch = try arguments.int("--batch", default: 16, range: 1...100_000)
    settings.window = try arguments.int("--window", default: 0, range: 0...100_000)
    settings.learningRate = try floatOption(arguments, "--lr", default: 2e-3, range: 0...10)
    settings.warmupSteps = try arguments.int("--warmup", default: -1, range: -1...10_000_000)
    settings.adam.weightDecay = try floatOption(arguments, "--weight-decay", default: 0.1, range: 0...10)
    settings.adam.beta1 = try floatOption(arguments, "--beta1", default: 0.9, range: 0...0.999999)
    settings.adam.beta2 = try floatOption(arguments, "--beta2", default: 0.98, range: 0...0.999999)
    settings.minimumLearningRateFraction = try floatOption(arguments, "--min-lr", default: 0.1, range: 0...1)
    settings.adam.gradientClip = try floatOption(arguments, "--grad-clip", default: 1, range: 0...1e6)
    settings.dataSeed = try arguments.uint64("--data-seed", default: 20_250_101)
    if let positions = arguments.string("--positions") {
        guard let value = GPTConfig.Positions(rawValue: positions) else {
            throw UsageError("--positions expects learned or rotary, got '\(positions)'")
        }
        settings.positions = value
    }
    let threads = try arguments.int("--threads", default: ProcessInfo.processInfo.activeProcessorCount, range: 1...1024)
    let grammar = try loadGrammar(path)
    printError("reading \(path) and computing the validation set's true entropy ...")
    let data = try SweepData(settings: settings, grammar: grammar)
    // Check every run's model before any training starts.
    let sweepDirectory = arguments.string("--out").map { $0 + ".runs" }
        ?? NSTemporaryDirectory() + "cfg-run-sweep-\(getpid())"
    let sweep = Sweep(settings: settings, sizes: sizes, designs: designs, seeds: seeds, directory: sweepDirectory,
                      threads: threads)
    for unit in sweep.units {
        let tokenizer = Tokenizer(design: unit.design, alphabet: grammar.terminals.count)
        let config = RunExecutor.modelConfig(unit, tokenizer: tokenizer, window: data.window, positions: settings.positions)
        if !config.problems.isEmpty {
            throw UsageError("\(unit.design) at size \(unit.size): \(config.problems.joined(separator: "; "))")
        }
    }
    printError(String(format: "grammar %@: %d terminals, window %d characters, true entropy %.4f nats/char on %d validation sentences",
                      path, grammar.terminals.count, data.window, data.trueEntropyPerCharacter, data.validation.count))

    if let unitText = arguments.string("--unit") {
        guard let k = Int(unitText), sweep.units.indices.contains(k) else {
            throw UsageError("--unit expects an index in 0..<\(sweep.units.count), got '\(unitText)'")
        }
        try sweep.prepareDirectory()
        let executor = RunExecutor(unit: sweep.units[k], data: data, directory: sweep.directory, threads: threads)
        print(ResultRow.header)
        try executor.execute(emit: { print($0.csvLine); fflush(stdout) })
        return 0
    }

    var file: FileHandle?
    if let out = arguments.string("--out") {
        guard FileManager.default.createFile(atPath: out, contents: nil), let handle = FileHandle(forWritingAtPath: out) else {
            throw UsageError("cannot write \(out)")
        }
        file = handle
    }
    var csv = ""
    let rows = try sweep.run(data: data, row: { line in
        csv += line + "\n"
        if let file {
            file.write(Data((line + "\n").utf8))
        } else {
            print(line)
            fflush(stdout)
        }
    }, log: printError)
    try file?.close()
    if arguments.string("--out") == nil { try? FileManager.default.removeItem(atPath: sweepDirectory) }
    if let table = try? ResultsTable(csv: csv) { printError(table.summary()) }
    return rows.contains { $0.status != "ok" } ? 1 : 0
}

let assertSpec = CommandSpec(
    name: "assert", summary: "check claims against a results CSV (for regression tests in CI)",
    positionals: ["RESULTS.csv", "CLAIM..."],
    options: [],
    details: """
    Each claim is one argument:
      'A < B on METRIC [for all sizes | at size S[,S2]] [for every seed] [by MARGIN]'   (also >)
      'A - B on METRIC increases with size'                                             (also decreases)
    A, B are variants; METRIC a column (excess_per_char, val_loss_per_char, gen_accuracy, ...). The final
    evaluation of each run counts; means over seeds unless 'for every seed'. Exit status 1 if any claim fails.
    Example: cfg-run assert results/x.csv "3gram-in < 1gram on excess_per_char for all sizes by 0.01"
    """)

func runAssert(_ arguments: ParsedArguments) throws -> Int32 {
    let path = arguments.positionals[0]
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
        throw UsageError("cannot read \(path)")
    }
    let table: ResultsTable
    do { table = try ResultsTable(csv: text, source: path) } catch { throw UsageError("\(error)") }
    var failed = 0
    for claimText in arguments.positionals.dropFirst() {
        let claim: Claim
        do { claim = try Claim(parsing: claimText) } catch { throw UsageError("\(error)") }
        let (holds, lines) = claim.check(table)
        print("\(holds ? "holds" : "FAILS"): \(claim)")
        for line in lines { print("  " + line) }
        if !holds { failed += 1 }
    }
    return failed > 0 ? 1 : 0
}

let summarySpec = CommandSpec(
    name: "summary", summary: "print the comparison table of a results CSV (as at the end of a sweep)",
    positionals: ["RESULTS.csv"],
    options: [OptionSpec("--baseline", value: "VARIANT", help: "the variant the others are compared with (default 1gram)")],
    details: """
    Per size (ordered by non-embedding parameters) and variant: the final evaluation's excess loss per character
    and generation accuracy, mean over seeds with a 95% t-interval, the difference to the baseline, and whether
    the intervals separate.
    """)

func runSummary(_ arguments: ParsedArguments) throws -> Int32 {
    let path = arguments.positionals[0]
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
        throw UsageError("cannot read \(path)")
    }
    do {
        print(try ResultsTable(csv: text, source: path).summary(baseline: arguments.string("--baseline") ?? "1gram"), terminator: "")
    } catch {
        throw UsageError(error.description)
    }
    return 0
}
