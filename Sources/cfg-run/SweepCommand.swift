import Files
import Foundation
import Grammar
import Model
import Runner
import Tokenizer

/// The library's defaults: what the help text says and what the parser uses, from one place.
private let defaults = SweepSettings.defaults
private let defaultSizes = Sweep.defaultSizes.joined(separator: ",")
private let defaultVariants = Sweep.defaultVariants.joined(separator: ",")

private func number(_ x: Float) -> String { String(format: "%g", x) }

let sweepSpec = CommandSpec(
    name: "sweep", summary: "train models of several sizes with each vocabulary design; write the comparison as CSV",
    positionals: ["G.cfg"],
    options: [
        OptionSpec("--sizes", value: "S1,S2,...", help: "model sizes: presets (below) or L<layers>-d<width>-h<heads> (default \(defaultSizes))"),
        OptionSpec("--variants", value: "V1,V2,...", help: "vocabulary designs (default \(defaultVariants))"),
        OptionSpec("--seeds", value: "1,2,3", help: "training seeds (default 1)"),
        OptionSpec("--steps", value: "N", help: "training steps per run (default \(defaults.steps))"),
        OptionSpec("--eval-every", value: "N", help: "evaluate (and checkpoint) every N steps (default steps/10)"),
        OptionSpec("--gen-samples", value: "N", help: "sentences sampled from BOS per evaluation for gen_accuracy (default \(defaults.generationSamples))"),
        OptionSpec("--val-samples", value: "N", help: "validation sentences (default \(defaults.validationSamples))"),
        OptionSpec("--out", value: "FILE.csv", help: "write the CSV there (and keep resumable state in FILE.csv.runs/); default: stdout"),
        OptionSpec("--threads", value: "N", help: "worker threads in all (default: all cores), shared by the --jobs runs; results do not depend on it"),
        OptionSpec("--jobs", value: "N", help: "runs trained at once, each with threads/N threads (default: as many as threads, at most the number of runs); results do not depend on it"),
        OptionSpec("--batch", value: "N", help: "windows per step (default \(defaults.batch))"),
        OptionSpec("--window", value: "N", help: "window length in characters (default: the grammar's longest sentence + 2, at least 64, at most \(SweepData.longestDefaultWindow); 256 if unbounded)"),
        OptionSpec("--lr", value: "X", help: "peak learning rate (default \(number(defaults.learningRate))), reached after warmup, then decayed to --min-lr"),
        OptionSpec("--schedule", value: "cosine|wsd", help: "learning-rate schedule after warmup: cosine decay (default), or wsd: warmup-stable-decay, the peak until the final --decay fraction of the steps, then a linear decay (extendable)"),
        OptionSpec("--decay", value: "F", help: "with --schedule wsd: the fraction of the steps the final decay takes (default \(number(ScheduleSettings.defaultDecayFraction)))"),
        OptionSpec("--extend-from", value: "FILE.csv", help: "start each run from the end of the stable phase of the same run in an earlier wsd sweep with fewer --steps (kept in FILE.csv.runs): the rows are those of training the longer budget from the start"),
        OptionSpec("--warmup", value: "N", help: "warmup steps (default 5% of the steps, at least 10)"),
        OptionSpec("--weight-decay", value: "X", help: "AdamW decoupled weight decay on matrices (default \(number(defaults.adam.weightDecay)))"),
        OptionSpec("--beta1", value: "X", help: "AdamW beta1 (default \(number(defaults.adam.beta1)))"),
        OptionSpec("--beta2", value: "X", help: "AdamW beta2 (default \(number(defaults.adam.beta2)))"),
        OptionSpec("--min-lr", value: "F", help: "final learning rate as a fraction of the peak (default \(number(defaults.minimumLearningRateFraction)))"),
        OptionSpec("--grad-clip", value: "X", help: "global gradient-norm clip (default \(number(defaults.adam.gradientClip)); 0 = off)"),
        OptionSpec("--positions", value: "learned|rotary", help: "position encoding (default \(defaults.positions.rawValue), as GPT-2)"),
        OptionSpec("--data-seed", value: "S", help: "seed of the validation set and of the generation draws (default \(defaults.dataSeed))"),
        OptionSpec("--unit", value: "K", help: "run only unit K (0-based, in size, variant, seed order) and print its rows: one task of a job array"),
        OptionSpec("--slurm", help: "submit the sweep to Slurm as a job array (task K runs unit K) instead of running it here; needs --out"),
        OptionSpec("--slurm-option", value: "ARG", help: "an #SBATCH line for --slurm, e.g. --partition=cpu or --time=2:00:00 (repeatable)"),
        OptionSpec("--dry-run", help: "with --slurm: write FILE.csv.runs/sweep.sbatch but do not submit it"),
        OptionSpec("--max-memory", value: "GB", help: "refuse runs whose model needs more memory than this (default: half this machine's memory, at most 8)"),
    ],
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
    let items = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
    if let empty = items.firstIndex(of: "") {
        throw UsageError("\(name) expects a comma-separated list without empty items, got '\(text)' (item \(empty + 1) is empty)")
    }
    return try items.map(parse)
}

func floatOption(_ arguments: ParsedArguments, _ name: String, default value: Float, range: ClosedRange<Float>) throws -> Float {
    guard let text = arguments.string(name) else { return value }
    guard let exact = Double(text), let parsed = Float(exactly: Float(exact)), range.contains(parsed) else {
        throw UsageError("\(name) expects a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
    }
    // The training arithmetic is 32-bit: a value that would round to 0 there is refused, not silently zeroed.
    if exact != 0 && parsed == 0 {
        throw UsageError("\(name) \(text) is too small for 32-bit floating point (it would be 0); give 0 or at least \(Float.leastNormalMagnitude)")
    }
    return parsed + 0  // -0 reads as 0
}

/// `--positions`, for every command that takes it.
func positionsOption(_ arguments: ParsedArguments, default value: GPTConfig.Positions) throws -> GPTConfig.Positions {
    guard let text = arguments.string("--positions") else { return value }
    guard let positions = GPTConfig.Positions(rawValue: text) else {
        throw UsageError("--positions expects learned or rotary, got '\(text)'")
    }
    return positions
}

/// A library error that is the user's to fix: exit status 2 with its message.
func usage<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as SweepError { throw UsageError(error.description) }
    catch let error as FileError { throw UsageError(error.description) }
    catch let error as FileReading.Failure { throw UsageError(error.description) }
}

func runSweep(_ arguments: ParsedArguments) throws -> Int32 {
    let path = arguments.positionals[0]
    let sizes = try listOption(arguments, "--sizes", default: defaultSizes) { text -> ModelSize in
        do { return try ModelSize(parsing: text) } catch { throw UsageError("\(error)") }
    }
    let designs: [VocabularyDesign]
    do { designs = try VocabularyDesign.list(parsing: arguments.string("--variants") ?? defaultVariants) }
    catch { throw UsageError("--variants: \(error)") }
    let seeds = try listOption(arguments, "--seeds", default: "1") { text -> UInt64 in
        guard let seed = UInt64(text) else { throw UsageError("--seeds expects non-negative integers, got '\(text)'") }
        return seed
    }
    var settings = defaults
    settings.grammarPath = path
    settings.steps = try arguments.int("--steps", default: defaults.steps, range: 1...10_000_000)
    settings.evalEvery = try arguments.int("--eval-every", default: defaults.evalEvery, range: 1...10_000_000)
    settings.generationSamples = try arguments.int("--gen-samples", default: defaults.generationSamples, range: 0...10_000_000)
    settings.validationSamples = try arguments.int("--val-samples", default: defaults.validationSamples, range: 1...10_000_000)
    settings.batch = try arguments.int("--batch", default: defaults.batch, range: 1...100_000)
    settings.window = try arguments.int("--window", default: defaults.window, range: 2...100_000)
    settings.learningRate = try floatOption(arguments, "--lr", default: defaults.learningRate, range: 0...10)
    settings.warmupSteps = try arguments.int("--warmup", default: defaults.warmupSteps, range: 0...10_000_000)
    settings.adam.weightDecay = try floatOption(arguments, "--weight-decay", default: defaults.adam.weightDecay, range: 0...10)
    settings.adam.beta1 = try floatOption(arguments, "--beta1", default: defaults.adam.beta1, range: 0...0.999999)
    settings.adam.beta2 = try floatOption(arguments, "--beta2", default: defaults.adam.beta2, range: 0...0.999999)
    settings.minimumLearningRateFraction = try floatOption(arguments, "--min-lr", default: defaults.minimumLearningRateFraction, range: 0...1)
    settings.adam.gradientClip = try floatOption(arguments, "--grad-clip", default: defaults.adam.gradientClip, range: 0...1e6)
    settings.dataSeed = try arguments.uint64("--data-seed", default: defaults.dataSeed)
    switch arguments.string("--schedule") ?? "cosine" {
    case "cosine":
        if arguments.string("--decay") != nil { throw UsageError("--decay goes with --schedule wsd") }
    case "wsd":
        let fraction = try floatOption(arguments, "--decay", default: ScheduleSettings.defaultDecayFraction, range: 0...1)
        settings.schedule = ScheduleSettings(kind: .warmupStableDecay, decayFraction: fraction)
    case let other:
        throw UsageError("--schedule expects cosine or wsd, got '\(other)'")
    }
    settings.positions = try positionsOption(arguments, default: defaults.positions)
    let threads = try arguments.int("--threads", default: ProcessInfo.processInfo.activeProcessorCount, range: 1...1024)
    let memoryLimit = try Double(floatOption(arguments, "--max-memory", default: Float(RunExecutor.defaultMemoryLimit / 1e9),
                                             range: 0.001...1e6)) * 1e9
    let sweep = try usage { try Sweep(settings: settings, sizes: sizes, designs: designs, seeds: seeds) }
    var unitIndex: Int?
    if let unitText = arguments.string("--unit") {
        guard let k = Int(unitText), sweep.units.indices.contains(k) else {
            throw UsageError("--unit expects an index in 0..<\(sweep.units.count) (this sweep has \(sweep.units.count) runs), got '\(unitText)'")
        }
        unitIndex = k
    }
    if arguments.flag("--slurm") {
        guard arguments.string("--out") != nil else { throw UsageError("--slurm needs --out FILE.csv: the tasks share the folder FILE.csv.runs") }
        guard unitIndex == nil else { throw UsageError("--slurm and --unit do not go together: the job array runs every unit") }
    } else if arguments.flag("--dry-run") || !arguments.strings("--slurm-option").isEmpty {
        throw UsageError("--dry-run and --slurm-option go with --slurm")
    }
    let jobs = try arguments.int("--jobs", default: 0, range: 1...1024)
    if jobs > 0 && (unitIndex != nil || arguments.flag("--slurm")) {
        throw UsageError("--jobs has no effect with \(unitIndex != nil ? "--unit (one run)" : "--slurm (each task runs one unit)"): leave it out")
    }
    if let control = path.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
        throw UsageError("the grammar's path \(displayToken(path, limit: 200)) contains a control character (\(String(format: "U+%04X", control.value))); rename the file: its name is written into every row")
    }
    // Where results go, checked before any work: never a device, a folder, a path below a file, or the grammar.
    let out = try arguments.string("--out").map { out in
        try usage { try FileSystem.prepareOutputFile(out, inputs: [path]) }
    }
    let extendFrom = try arguments.string("--extend-from").map { given in try usage { try earlierSweepFolder(given, out: out) } }
    let temporaryBase = NSTemporaryDirectory()
    if out == nil, FileSystem.kind(of: temporaryBase) != .directory {
        throw UsageError("TMPDIR is \(temporaryBase), which is \(FileSystem.exists(temporaryBase) ? "not a folder" : "missing"); a sweep without --out keeps its state in a temporary folder there: set TMPDIR to an existing folder, or give --out FILE.csv")
    }
    // A value that the Slurm script cannot carry is refused now, while nothing is written.
    if arguments.flag("--slurm") { _ = try slurmArray(arguments, out: out!, units: Array(sweep.units.indices)) }

    let grammar = try loadGrammar(path)
    printError("reading \(path) and computing the validation set's true entropy ...")
    let data = try usage { try SweepData(settings: settings, grammar: grammar, log: printError) }
    let problems = sweep.problems(data: data, memoryLimit: memoryLimit)
    guard problems.isEmpty else { throw UsageError(problems.joined(separator: "\n")) }
    printError(String(format: "grammar %@: %d terminals, window %d characters, true entropy %.4f nats/char on %d validation sentences",
                      path, grammar.terminals.count, data.window, data.trueEntropyPerCharacter, data.validation.count))

    // A results file that no sweep folder explains is replaced only by nothing: it is this sweep's finished result
    // (a committed CSV on a fresh clone: nothing to train), or it is not this sweep's to replace.
    if let out, FileSystem.exists(out), !FileSystem.exists(out + ".runs/sweep.json") {
        let text = try usage { String(decoding: try FileSystem.read(out), as: UTF8.self) }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        switch sweep.finishedResults(in: text, source: out, data: data, grammarName: name) {
        case .success(let rows):
            printError("\(out) already holds the finished result of this sweep (\(sweep.units.count) runs, checked against its settings); nothing to train. To train it again, move \(out) away")
            if let k = unitIndex {
                let unit = sweep.units[k]
                print(ResultRow.header)
                for row in rows where row.size == unit.size.name && row.variant == unit.design.description && row.seed == unit.seed { print(row.csvLine) }
            }
            return rows.contains { $0.status != "ok" } ? 1 : 0
        case .failure(let why):
            throw UsageError("\(out) exists and was not written by this sweep (there is no \(out).runs folder, and \(why.description.replacingOccurrences(of: out + " ", with: "it "))); it is not replaced: move it away or choose another --out")
        }
    }

    // Without --out the run state lives in a temporary folder, removed at the end whatever happens.
    let directoryPath = out.map { $0 + ".runs" } ?? temporaryBase + (temporaryBase.hasSuffix("/") ? "" : "/") + "cfg-run-sweep-\(getpid())"
    defer { if out == nil { try? FileManager.default.removeItem(atPath: directoryPath) } }
    InterruptHandler.install(directory: out == nil ? nil : directoryPath, temporary: out == nil ? directoryPath : nil)
    let directory = try usage {
        try SweepDirectory.open(directoryPath, settings: settings, units: sweep.units, grammar: GrammarRecord(grammar),
                                access: unitIndex == nil && !arguments.flag("--slurm") ? .sweep : .shared, log: printError)
    }

    if let extendFrom {
        let log = try usage {
            let earlier = try SweepDirectory.openExisting(extendFrom)
            return try directory.seed(from: earlier, only: unitIndex.map { [sweep.units[$0]] })
        }
        log.forEach { printError($0) }
    }

    if arguments.flag("--slurm") {
        return try submitToSlurm(arguments, sweep: sweep, directory: directory, out: out!)
    }

    if let k = unitIndex {
        let progress = SweepProgress(units: sweep.units, steps: settings.steps) { "unit \($0)" }
        var headerPrinted = false
        let rows = try usage {
            try sweep.runUnit(k, data: data, directory: directory, threads: threads, events: progress.handle) {
                if !headerPrinted { print(ResultRow.header) }
                headerPrinted = true
                print($0.csvLine)
                fflush(stdout)
            }
        }
        progress.end()
        return rows.last?.status == "diverged" ? 1 : 0
    }

    let effectiveJobs = min(jobs > 0 ? jobs : threads, sweep.units.count)
    if effectiveJobs > 1 {
        printError("\(sweep.units.count) runs, \(effectiveJobs) at a time with \(max(1, threads / effectiveJobs)) thread\(threads / effectiveJobs > 1 ? "s" : "") each")
    }
    let progress = SweepProgress(units: sweep.units, steps: settings.steps) { "run \($0 + 1)/\(sweep.units.count)" }
    let started = Date()
    var printed = 0, headerPrinted = false
    var lastWrite = Date.distantPast
    let rows = try usage {
        try sweep.run(data: data, directory: directory, threads: threads, jobs: effectiveJobs, events: progress.handle) { rows in
            if let out {
                // The CSV is replaced whole (atomically), so it is never cut mid-row; at most every 2 seconds.
                guard Date().timeIntervalSince(lastWrite) >= 2 else { return }
                lastWrite = Date()
                try writeResults(rows.all, to: out, directory: directoryPath)
            } else {
                // Standard output gets the rows in sweep order, as soon as every run before them has finished.
                let settled = rows.settled
                if !headerPrinted { print(ResultRow.header) }
                headerPrinted = true
                for row in settled[printed...] { print(row.csvLine) }
                printed = max(printed, settled.count)
                fflush(stdout)
                // Nobody reads the rows any more (`| head`, a closed terminal): stop, and leave nothing behind.
                if ferror(stdout) != 0 { throw UsageError("standard output was closed (its reader ended); the sweep stops") }
            }
        }
    }
    progress.end()
    if let out { try writeResults(rows.all, to: out, directory: directoryPath) }
    printError("sweep finished: \(sweep.units.count) runs in \(formatDuration(Date().timeIntervalSince(started)))")
    if let table = try? ResultsTable(csv: SweepRows.csv(rows.all)) { printError(table.summary()) }
    return rows.all.contains { $0.status != "ok" } ? 1 : 0
}

/// `--slurm`: writes the job array's script for the units that have not finished and submits it (not with
/// `--dry-run`). Refused while tasks of an earlier submission are still queued or running.
func submitToSlurm(_ arguments: ParsedArguments, sweep: Sweep, directory: SweepDirectory, out: String) throws -> Int32 {
    var unfinished: [Int] = []
    for (index, unit) in sweep.units.enumerated() {
        if case .finished = try usage({ try directory.state(of: unit) }) { continue }
        unfinished.append(index)
    }
    guard !unfinished.isEmpty else {
        let (rows, _) = try usage { try directory.collect() }
        try writeResults(rows, to: out, directory: directory.path)
        printError("all \(sweep.units.count) runs have finished; nothing to submit. Their rows are in \(out)")
        return 0
    }
    let array = try slurmArray(arguments, out: out, units: unfinished)
    if let active = array.activeTasks(), !active.isEmpty {
        throw UsageError("\(active.count) task\(active.count == 1 ? "" : "s") of an earlier submission of this sweep \(active.count == 1 ? "is" : "are") still queued or running (\(active.prefix(5).joined(separator: ", "))\(active.count > 5 ? ", ..." : "")); wait for them, or cancel them with scancel, then rerun to submit what is left")
    }
    try usage { try array.writeScript() }
    let description = "a job array of \(unfinished.count) task\(unfinished.count == 1 ? "" : "s") (units \(SlurmArray.arraySpec(unfinished)) of \(sweep.units.count))"
    if arguments.flag("--dry-run") {
        printError("wrote \(array.scriptPath): \(description); submit it with: sbatch \(SlurmArray.quoted(array.scriptPath))")
        return 0
    }
    let id = try usage { try array.submit() }
    print(id)
    printError("submitted job \(id): \(description); logs in \(directory.path)/slurm-\(id)_*.out. When it is done: cfg-run merge \(SlurmArray.quoted(out))")
    return 0
}

/// The job array of `--slurm` for `units` (sweep-order indices), its script not yet written. Throws when a value
/// cannot be written safely into the script (SlurmArray says which and why).
func slurmArray(_ arguments: ParsedArguments, out: String, units: [Int]) throws -> SlurmArray {
    // The task's command: this executable and the sweep's own arguments (paths as given: the tasks start here), the
    // grammar after `--` (a path starting with '-' is not an option there).
    // --extend-from has done its work: the units continue from their checkpoints in the sweep's folder.
    let excluded: Set<String> = ["--slurm", "--slurm-option", "--dry-run", "--jobs", "--threads", "--unit", "--out", "--extend-from"]
    var command = [currentExecutable(), "sweep"]
    for option in sweepSpec.options {
        let name = option.names.last!
        guard !excluded.contains(name) else { continue }
        if option.isFlag {
            if arguments.flag(name) { command.append(name) }
        } else {
            for value in arguments.strings(name) { command += [name, value] }
        }
    }
    let cwd = FileManager.default.currentDirectoryPath
    let absoluteOut = out.hasPrefix("/") ? out : cwd + "/" + out
    command += ["--out", absoluteOut]
    return try usage {
        try SlurmArray(units: units, command: command, operands: [arguments.positionals[0]], workingDirectory: cwd,
                       directory: absoluteOut + ".runs", options: arguments.strings("--slurm-option"),
                       defaultCPUs: try arguments.int("--threads", default: 2, range: 1...1024))
    }
}

/// The absolute path of the running cfg-run (the cluster's nodes run the same file).
func currentExecutable() -> String {
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
    let path = CommandLine.arguments[0]
    if path.hasPrefix("/") { return path }
    if path.contains("/") { return FileManager.default.currentDirectoryPath + "/" + path }
    return Bundle.main.executablePath ?? path
}

/// The state folder of the sweep that `--extend-from` names (its results file FILE.csv, or FILE.csv.runs itself),
/// checked before any work: it must exist, and must not be the state folder of this sweep's own `out`.
func earlierSweepFolder(_ given: String, out: String?) throws -> String {
    let folder = given.hasSuffix(".runs") && FileSystem.kind(of: given) == .directory ? given
        : try FileSystem.resolveOutputFile(given) + ".runs"
    if let out, folder == out + ".runs" || FileSystem.isSameFile(folder, out + ".runs") {
        throw SweepError("--extend-from names this sweep's own --out (\(out)); give the extended sweep another --out")
    }
    guard FileSystem.kind(of: folder) == .directory else {
        throw SweepError("--extend-from \(given): there is no sweep folder \(folder) (it holds the earlier runs' stable-phase checkpoints). Without it, leave out --extend-from: training the longer budget from the start gives the same rows")
    }
    return folder
}

/// Replaces the results CSV with `rows`; a failure (a full disk) says that nothing is lost.
func writeResults(_ rows: [ResultRow], to path: String, directory: String) throws {
    do {
        try FileSystem.writeAtomically(SweepRows.csv(rows), to: path)
    } catch {
        throw UsageError("\(error). Nothing is lost: every finished evaluation is kept in \(directory); make room and rerun the same command to write the CSV")
    }
}

/// Replaces a CSV file with `text` (atomically).
func writeResults(_ text: String, to path: String) throws {
    do { try FileSystem.writeAtomically(text, to: path) } catch { throw UsageError("\(error)") }
}
