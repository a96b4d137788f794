import Foundation
import Grammar
import Model
import SeededRandom
import Tokenizer

/// Where a run stands, for progress lines.
public struct RunProgress: Sendable {
    public let step: Int
    public let steps: Int
    public let loss: Double
    public let tokensPerSecond: Double
}

public struct RunFailure: Error, CustomStringConvertible {
    public let description: String
}

/// Trains and evaluates one `RunUnit`, writing its rows to a shard file and checkpointing at every evaluation
/// step, so that an interrupted run continues from its last checkpoint with the same result.
///
/// Files in `directory`: `<id>.csv` (the run's rows, no header), `<id>.ckpt` (the latest checkpoint), `<id>.done`
/// (present once the run has finished).
public struct RunExecutor {
    public let unit: RunUnit
    public let data: SweepData
    public let directory: String
    public let threads: Int

    public init(unit: RunUnit, data: SweepData, directory: String, threads: Int) {
        self.unit = unit
        self.data = data
        self.directory = directory
        self.threads = threads
    }

    var shardPath: String { directory + "/" + unit.id + ".csv" }
    var checkpointPath: String { directory + "/" + unit.id + ".ckpt" }
    var donePath: String { directory + "/" + unit.id + ".done" }

    public var isDone: Bool { FileManager.default.fileExists(atPath: donePath) }

    /// The model configuration of this run.
    public static func modelConfig(_ unit: RunUnit, tokenizer: Tokenizer, window: Int,
                                   positions: GPTConfig.Positions) -> GPTConfig {
        let design = unit.design
        let input: GPTConfig.InputEmbedding
        switch design.kind {
        case .oneGram, .gpt, .output: input = .token
        case .input: input = .ngram(n: design.n)
        case .hierarchicalInput:
            if let rows = design.hashRows {
                input = .hashed(n: design.n, rows: rows, slices: design.hashSlices ?? 1)
            } else {
                input = .hierarchical(n: design.n)
            }
        }
        return GPTConfig(vocabulary: tokenizer.inputVocabulary, classes: tokenizer.classes, layers: unit.size.layers,
                         width: unit.size.width, heads: unit.size.heads, maxSequence: window, input: input,
                         positions: positions)
    }

    /// Runs (or resumes, or replays a finished) unit; `emit` receives every row in order, `progress` a report
    /// after every step. `stop` is asked after every checkpoint: when it says yes the run returns there, unfinished
    /// (as if interrupted), to be resumed by a later call. Returns the rows.
    @discardableResult
    public func execute(progress: (RunProgress) -> Void = { _ in }, emit: (ResultRow) -> Void = { _ in },
                        stop: (Int) -> Bool = { _ in false }) throws -> [ResultRow] {
        let settings = data.settings
        let tokenizer = Tokenizer(design: unit.design, alphabet: data.grammar.terminals.count)
        let config = RunExecutor.modelConfig(unit, tokenizer: tokenizer, window: data.window, positions: settings.positions)
        if !config.problems.isEmpty {
            throw RunFailure(description: "\(unit.id): \(config.problems.joined(separator: "; "))")
        }
        var rows = readShard()
        if isDone {
            rows.forEach(emit)
            return rows
        }
        let model = GPT(config: config, batch: settings.batch, seq: data.window, threads: threads, seed: unit.seed)
        var generator = SeededGenerator(seed: unit.seed, stream: 1)
        var packer = WindowPacker(tokenizer: tokenizer, window: data.window)
        var tokens = 0, characters = 0
        var wall = 0.0
        var trainNats = 0.0, trainCharacters = 0
        if FileManager.default.fileExists(atPath: checkpointPath) {
            let (state, metadata) = try Checkpoint.load(into: model, from: checkpointPath)
            generator = SeededGenerator(state: state)
            tokens = Int(metadata["tokens"] ?? "") ?? 0
            characters = Int(metadata["chars"] ?? "") ?? 0
            wall = Double(metadata["wall_s"] ?? "") ?? 0
            if let pending = metadata["pending"], !pending.isEmpty {
                packer.pending = pending.split(separator: " ").compactMap { Int($0) }
            }
            rows = rows.filter { $0.step <= model.step }
        } else {
            rows = []
        }
        try writeShard(rows)
        rows.forEach(emit)

        let schedule = CosineSchedule(peak: settings.learningRate, warmupSteps: settings.effectiveWarmup,
                                      totalSteps: settings.steps, minimumFraction: settings.minimumLearningRateFraction)
        let evaluationSteps = Set(settings.evaluationSteps)
        let sampler = data.sampler
        var sessionStart = Date()
        while model.step < settings.steps {
            let stepStart = Date()
            let batch = packer.pack(count: settings.batch) { sampler.sample(using: &generator) }
            let rate = schedule.rate(at: model.step)
            model.zeroGradients()
            let loss = batch.inputs.withUnsafeBufferPointer { i in
                batch.targets.withUnsafeBufferPointer { t in model.forward(inputs: i.baseAddress!, targets: t.baseAddress!) }
            }
            guard loss.isFinite else {
                var row = baseRow(model: model, config: config)
                row.step = model.step + 1
                row.tokens = tokens
                row.chars = characters
                row.learningRate = Double(rate)
                row.wallSeconds = wall + Date().timeIntervalSince(sessionStart)
                row.status = "diverged"
                rows.append(row)
                try appendShard(row)
                emit(row)
                FileManager.default.createFile(atPath: donePath, contents: Data())
                throw RunFailure(description: "\(unit.id): the loss became \(loss) at step \(model.step + 1); the run stops here (marked 'diverged' in the CSV) and the sweep goes on")
            }
            model.backward()
            model.optimizerStep(learningRate: rate, settings: settings.adam)
            trainNats += Evaluation.nats(logits: model.logits, positionLosses: model.positionLosses,
                                         targets: batch.targets, tokenizer: tokenizer)
            trainCharacters += batch.characters
            tokens += batch.tokens
            characters += batch.characters
            let seconds = Date().timeIntervalSince(stepStart)
            progress(RunProgress(step: model.step, steps: settings.steps, loss: trainNats / Double(max(1, trainCharacters)),
                                 tokensPerSecond: Double(batch.tokens) / max(seconds, 1e-9)))
            if evaluationSteps.contains(model.step) {
                var row = baseRow(model: model, config: config)
                row.step = model.step
                row.tokens = tokens
                row.chars = characters
                row.learningRate = Double(rate)
                row.trainLoss = trainNats / Double(max(1, trainCharacters))
                evaluate(model: model, tokenizer: tokenizer, into: &row)
                wall += Date().timeIntervalSince(sessionStart)
                sessionStart = Date()
                row.wallSeconds = wall
                rows.append(row)
                try appendShard(row)
                emit(row)
                trainNats = 0
                trainCharacters = 0
                let metadata = ["tokens": "\(tokens)", "chars": "\(characters)", "wall_s": "\(wall)",
                                "pending": packer.pending.map { $0.map(String.init).joined(separator: " ") } ?? ""]
                try Checkpoint.save(model, rngState: generator.state, metadata: metadata, to: checkpointPath)
                if model.step < settings.steps && stop(model.step) { return rows }
            }
        }
        FileManager.default.createFile(atPath: donePath, contents: Data())
        return rows
    }

    private func baseRow(model: GPT, config: GPTConfig) -> ResultRow {
        var row = ResultRow()
        row.grammar = URL(fileURLWithPath: data.settings.grammarPath).deletingPathExtension().lastPathComponent
        row.variant = unit.design.description
        row.size = unit.size.name
        row.layers = unit.size.layers
        row.dModel = unit.size.width
        row.heads = unit.size.heads
        row.params = model.layout.count
        row.nonEmbeddingParams = model.layout.nonEmbeddingCount
        row.seed = unit.seed
        row.trueEntropy = data.trueEntropyPerCharacter
        return row
    }

    /// Validation loss per character on the sweep's fixed validation set, and generation accuracy from BOS.
    private func evaluate(model: GPT, tokenizer: Tokenizer, into row: inout ResultRow) {
        let evaluator = Evaluator(data: data, tokenizer: tokenizer)
        let samples = data.settings.generationSamples
        let evaluated = GPTEvaluation(model: model, generationBatch: min(64, max(1, samples)))
        row.valLoss = evaluator.validationLoss(evaluated)
        row.excess = row.valLoss - data.trueEntropyPerCharacter
        row.genSamples = samples
        if samples > 0 {
            let successes = evaluator.generationSuccesses(evaluated, samples: samples)
            let interval = Evaluation.wilson(successes: successes, trials: samples)
            (row.genAccuracy, row.genLow, row.genHigh) = (Double(successes) / Double(samples), interval.low, interval.high)
        }
    }

    // MARK: Shard files

    func readShard() -> [ResultRow] {
        guard let text = try? String(contentsOfFile: shardPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { ResultRow(csvLine: String($0)) }
    }

    func writeShard(_ rows: [ResultRow]) throws {
        let text = rows.map { $0.csvLine + "\n" }.joined()
        try text.write(toFile: shardPath, atomically: true, encoding: .utf8)
    }

    func appendShard(_ row: ResultRow) throws {
        guard let handle = FileHandle(forWritingAtPath: shardPath) else {
            throw RunFailure(description: "cannot append to \(shardPath)")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((row.csvLine + "\n").utf8))
        try handle.synchronize()
    }
}

extension ResultRow {
    /// Parses a line written by `csvLine`.
    init?(csvLine: String) {
        let f = CSV.fields(Substring(csvLine))
        guard f.count == 23 else { return nil }
        func d(_ s: String) -> Double { Double(s) ?? .nan }
        grammar = f[0]; variant = f[1]; size = f[2]
        layers = Int(f[3]) ?? 0; dModel = Int(f[4]) ?? 0; heads = Int(f[5]) ?? 0
        params = Int(f[6]) ?? 0; nonEmbeddingParams = Int(f[7]) ?? 0; seed = UInt64(f[8]) ?? 0
        step = Int(f[9]) ?? 0; tokens = Int(f[10]) ?? 0; chars = Int(f[11]) ?? 0
        trainLoss = d(f[12]); valLoss = d(f[13]); excess = d(f[14]); trueEntropy = d(f[15])
        genAccuracy = d(f[16]); genLow = d(f[17]); genHigh = d(f[18]); genSamples = Int(f[19]) ?? 0
        learningRate = d(f[20]); wallSeconds = d(f[21]); status = f[22]
    }
}
