import Foundation
import Grammar
import Kernels
import Model
import SeededRandom
import Tokenizer

/// Where a run stands, for progress lines: after a training step, or during an evaluation.
public struct RunProgress: Sendable {
    public let step: Int
    public let steps: Int
    public let loss: Double
    public let tokensPerSecond: Double
    /// During an evaluation: what part of it is done, e.g. "generation 1024/10000" (nil after a training step).
    public var evaluating: String? = nil
}

/// Trains and evaluates one `RunUnit` in a sweep's directory, replacing its shard and checkpoint at every
/// evaluation step, so that an interrupted run continues from its last checkpoint with the same result.
public struct RunExecutor {
    public let unit: RunUnit
    public let data: SweepData
    public let directory: SweepDirectory
    /// The worker pool to train with, asked before every step (nil: one thread): a sweep hands a run more threads
    /// once the runs beside it have finished. Results do not depend on it.
    public let pool: () -> WorkerPool?

    public init(unit: RunUnit, data: SweepData, directory: SweepDirectory, threads: Int) {
        let pool = threads > 1 ? WorkerPool(threads: threads) : nil
        self.init(unit: unit, data: data, directory: directory, pool: { pool })
    }

    public init(unit: RunUnit, data: SweepData, directory: SweepDirectory, pool: @escaping () -> WorkerPool?) {
        self.unit = unit
        self.data = data
        self.directory = directory
        self.pool = pool
    }

    /// The model configuration of a run, and its tokenizer; a failure (with the reasons) when the design or the
    /// model is too large or malformed for this grammar: checked in floating point before any table is sized, so no
    /// vocabulary, however absurd, can overflow, hang or exhaust memory.
    public static func modelConfig(_ unit: RunUnit, alphabet: Int, window: Int, batch: Int,
                                   positions: GPTConfig.Positions, memoryLimit: Double) -> Result<(GPTConfig, Tokenizer), SweepError> {
        modelConfig(input: unit.design, output: unit.design, size: unit.size, alphabet: alphabet, window: window,
                    batch: batch, positions: positions, memoryLimit: memoryLimit)
            .map { ($0, Tokenizer(design: unit.design, alphabet: alphabet)) }
    }

    /// The model whose input side (vocabulary, input layer) is `input`'s and whose heads are `output`'s: a run's
    /// model has one design on both sides; `cfg-run bench` may mix them.
    public static func modelConfig(input: VocabularyDesign, output: VocabularyDesign, size: ModelSize, alphabet: Int,
                                   window: Int, batch: Int, positions: GPTConfig.Positions,
                                   memoryLimit: Double) -> Result<GPTConfig, SweepError> {
        let vocabulary = input.definition.inputVocabulary(alphabet: alphabet), classes = output.definition.classes(alphabet: alphabet)
        let limit = Double(Int32.max)
        for (design, count) in [(input, vocabulary), (output, classes)] where count > limit {
            return .failure(SweepError("\(design) over \(alphabet) terminals needs \(GPTConfig.count(count)) token ids (more than 32-bit ids hold); use a smaller n"))
        }
        let weights = output.definition.predictionWeights
        let config = GPTConfig(vocabulary: Int(vocabulary), classes: Int(classes), layers: size.layers, width: size.width,
                               heads: size.heads, maxSequence: window, input: input.definition.inputLayer, positions: positions,
                               predictionDepth: weights.count, predictionWeights: weights)
        let label = input == output ? "\(input) at size \(size)" : "\(input) in, \(output) out, at size \(size)"
        if let problem = RunExecutor.problem(config, batch: batch, window: window, memoryLimit: memoryLimit, label: label) {
            return .failure(problem)
        }
        return .success(config)
    }

    /// Why a model configuration cannot be trained here (malformed, a table beyond the engine's limit, or more
    /// memory than `memoryLimit` bytes for `batch` windows of `window` tokens), or nil. `label` starts the message.
    public static func problem(_ config: GPTConfig, batch: Int, window: Int, memoryLimit: Double, label: String) -> SweepError? {
        if !config.problems.isEmpty {
            return SweepError("\(label): \(config.problems.joined(separator: "; "))")
        }
        let bytes = config.estimatedBytes(batch: batch, seq: window)
        if bytes > memoryLimit {
            return SweepError("\(label) needs about \(gigabytes(bytes)) of memory (batch \(batch) x window \(window); the limit is \(gigabytes(memoryLimit)), see --max-memory): use a smaller n, model, batch or window")
        }
        return nil
    }

    /// Bytes in GB with three significant digits (0.00412 GB, 12.3 GB), so that small limits do not read as 0.0.
    static func gigabytes(_ bytes: Double) -> String { String(format: "%.3g GB", bytes / 1e9) }

    /// The default memory limit of a run: half of this machine's memory, at most 8 GB.
    public static var defaultMemoryLimit: Double { min(8e9, Double(ProcessInfo.processInfo.physicalMemory) / 2) }

    /// Runs (or resumes, or replays a finished) unit; `emit` receives every row in order (once it is saved: an error
    /// it throws stops the run there, to be resumed), `progress` a report after every step. `stop` is asked after
    /// every checkpoint: when it says yes the run returns there, unfinished (as if interrupted), to be resumed by a
    /// later call. A run whose loss stops being finite ends with a row of
    /// status `diverged` (and is finished). Returns the rows. Throws `SweepError` when the unit's files are
    /// inconsistent, another process trains the unit, or a file cannot be written (nothing is lost then: rerun).
    @discardableResult
    public func execute(progress: (RunProgress) -> Void = { _ in }, emit: (ResultRow) throws -> Void = { _ in },
                        stop: (Int) -> Bool = { _ in false }) throws -> [ResultRow] {
        let settings = data.settings
        let unitLock = try directory.lockUnit(unit)
        defer { unitLock.release() }
        let state = try directory.state(of: unit)
        if case .finished(let rows) = state {
            for row in rows { try emit(row) }
            return rows
        }
        var run = try start(from: state)
        try directory.writeShard(run.rows, of: unit)
        for row in run.rows { try emit(row) }
        let evaluationSteps = Set(settings.evaluationSteps)
        while run.model.step < settings.steps {
            if let diverged = try train(&run, progress: progress) {
                run.rows.append(diverged)
                try directory.writeShard(run.rows, of: unit)
                try directory.markDone(unit, rows: run.rows)
                try emit(diverged)
                return run.rows
            }
            guard evaluationSteps.contains(run.model.step) else { continue }
            let row = evaluate(&run, progress: progress)
            try checkpoint(run)
            try emit(row)
            if run.model.step < settings.steps && stop(run.model.step) { return run.rows }
        }
        try directory.markDone(unit, rows: run.rows)
        return run.rows
    }

    /// A run in training: its model and everything else a checkpoint restores.
    private struct TrainingState {
        let model: GPT
        let config: GPTConfig
        let tokenizer: Tokenizer
        var generator: SeededGenerator
        var packer: WindowPacker
        var counters: RunCheckpoint
        var rows: [ResultRow]
        /// Training loss since the last evaluation.
        var trainNats = 0.0, trainCharacters = 0
        /// The learning rate of the latest step.
        var lastRate: Float = 0
        var sessionStart = Date()
    }

    /// A fresh run, or one resumed from its checkpoint with its rows so far.
    private func start(from state: SweepDirectory.UnitState) throws -> TrainingState {
        let settings = data.settings
        let (config, tokenizer) = try RunExecutor.modelConfig(unit, alphabet: data.grammar.terminals.count, window: data.window,
                                                              batch: settings.batch, positions: settings.positions,
                                                              memoryLimit: .infinity).get()
        let model = GPT(config: config, batch: settings.batch, seq: data.window, pool: pool(), seed: unit.seed)
        var run = TrainingState(model: model, config: config, tokenizer: tokenizer, generator: SeededGenerator(seed: unit.seed, stream: 1),
                                packer: WindowPacker(tokenizer: tokenizer, window: data.window),
                                counters: RunCheckpoint(sweep: directory.fingerprintText), rows: [])
        if case .inProgress(_, let savedRows) = state {
            let path = directory.checkpointPath(unit)
            do {
                let (rng, metadata) = try Checkpoint.load(into: model, from: path)
                run.generator = SeededGenerator(state: rng)
                run.counters = try RunCheckpoint(metadata: metadata, checkpoint: path)
            } catch {
                throw SweepError("\(error). To redo this run from the start, delete \(unit.id).ckpt in \(directory.path) and rerun")
            }
            run.packer.pending = run.counters.pending
            run.rows = savedRows
        }
        return run
    }

    /// One training step; the row of a divergence (the loss stopped being finite) when there was one.
    private func train(_ run: inout TrainingState, progress: (RunProgress) -> Void) throws -> ResultRow? {
        let settings = data.settings, model = run.model
        let stepPool = pool()
        if stepPool !== model.pool { model.pool = stepPool }
        let stepStart = Date()
        var generator = run.generator
        let sampler = data.sampler
        let batch = try run.packer.pack(count: settings.batch) { sampler.sample(using: &generator) }
        run.generator = generator
        let rate = settings.learningRateSchedule.rate(at: model.step)
        model.zeroGradients()
        let loss = batch.inputs.withUnsafeBufferPointer { i in
            batch.targets.withUnsafeBufferPointer { t in model.forward(inputs: i.baseAddress!, targets: t.baseAddress!) }
        }
        guard loss.isFinite else {
            var row = baseRow(model: model, config: run.config)
            row.step = model.step + 1
            row.tokens = run.counters.tokens
            row.chars = run.counters.characters
            row.learningRate = Double(rate)
            row.wallSeconds = run.counters.wallSeconds + Date().timeIntervalSince(run.sessionStart)
            row.status = "diverged"
            return row
        }
        model.backward()
        model.optimizerStep(learningRate: rate, settings: settings.adam)
        run.trainNats += run.tokenizer.nats(logits: model.logits, positionLosses: model.positionLosses, targets: batch.targets)
        run.trainCharacters += batch.characters
        run.counters.tokens += batch.tokens
        run.counters.characters += batch.characters
        let seconds = Date().timeIntervalSince(stepStart)
        progress(RunProgress(step: model.step, steps: settings.steps, loss: run.trainNats / Double(max(1, run.trainCharacters)),
                             tokensPerSecond: Double(batch.tokens) / max(seconds, 1e-9)))
        run.lastRate = rate
        return nil
    }

    /// The row of an evaluation step (appended to the run's rows).
    private func evaluate(_ run: inout TrainingState, progress: (RunProgress) -> Void) -> ResultRow {
        let model = run.model, steps = data.settings.steps
        var row = baseRow(model: model, config: run.config)
        row.step = model.step
        row.tokens = run.counters.tokens
        row.chars = run.counters.characters
        row.learningRate = Double(run.lastRate)
        row.trainLoss = run.trainNats / Double(max(1, run.trainCharacters))
        let lossSoFar = row.trainLoss
        evaluate(model: model, tokenizer: run.tokenizer, into: &row) { done in
            progress(RunProgress(step: model.step, steps: steps, loss: lossSoFar, tokensPerSecond: 0, evaluating: done))
        }
        run.counters.wallSeconds += Date().timeIntervalSince(run.sessionStart)
        run.sessionStart = Date()
        row.wallSeconds = run.counters.wallSeconds
        run.rows.append(row)
        run.trainNats = 0
        run.trainCharacters = 0
        return row
    }

    /// The shard first, then the checkpoint (and at the end of a warmup-stable-decay run's stable phase, its
    /// checkpoint kept for a longer budget): a kill between the two leaves a row beyond the checkpoint, which the
    /// resumed run drops and writes again.
    private func checkpoint(_ run: TrainingState) throws {
        try directory.writeShard(run.rows, of: unit)
        var counters = run.counters
        counters.pending = run.packer.pending
        let metadata = counters.metadata
        do {
            // Before the checkpoint, so that a run killed in between redoes this step and writes it again.
            if run.model.step == data.settings.decayStart {
                try Checkpoint.save(run.model, rngState: run.generator.state, metadata: metadata, to: directory.stableCheckpointPath(unit))
            }
            try Checkpoint.save(run.model, rngState: run.generator.state, metadata: metadata, to: directory.checkpointPath(unit))
        } catch {
            throw SweepError("\(error)")
        }
    }

    private func baseRow(model: GPT, config: GPTConfig) -> ResultRow {
        var row = ResultRow()
        row.grammar = directory.grammarName
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
    /// `report` hears how far the evaluation has got (it can take minutes with many samples).
    private func evaluate(model: GPT, tokenizer: Tokenizer, into row: inout ResultRow, report: (String) -> Void) {
        let evaluator = Evaluator(data: data, tokenizer: tokenizer)
        let samples = data.settings.generationSamples
        let evaluated = GPTEvaluation(model: model, generationBatch: min(64, max(1, samples)))
        row.valLoss = evaluator.validationLoss(evaluated) { done, total in report("validation \(done)/\(total) windows") }
        row.excess = row.valLoss - data.trueEntropyPerCharacter
        row.genSamples = samples
        if samples > 0 {
            let successes = evaluator.generationSuccesses(evaluated, samples: samples) { done in
                report("generation \(done)/\(samples) samples")
            }
            let interval = Evaluation.wilson(successes: successes, trials: samples)
            (row.genAccuracy, row.genLow, row.genHigh) = (Double(successes) / Double(samples), interval.low, interval.high)
        }
    }
}
