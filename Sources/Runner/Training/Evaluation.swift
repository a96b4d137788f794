import Foundation
import Model
import SeededRandom
import Tokenizer

/// Per-character metrics, comparable across vocabulary designs (each design scores its head: `Design.nats`).
public enum Evaluation {
    /// Wilson score interval for `successes` of `trials` at 95%.
    public static func wilson(successes: Int, trials: Int, z: Double = 1.959964) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let n = Double(trials), p = Double(successes) / n
        let denominator = 1 + z * z / n
        let center = (p + z * z / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denominator
        return (max(0, center - half), min(1, center + half))
    }
}

/// What evaluation needs from a model, so that trained GPTs and the grammar's exact "oracle" model are scored by
/// the same code: scores of packed windows, and sampling from BOS.
public protocol EvaluatedModel: AnyObject {
    /// Windows a `score` call accepts at once.
    var windowsPerCall: Int { get }
    /// Runs `windows` windows (row-major inputs/targets) and hands `use` the per-position logits (`rows x classes`)
    /// and cross-entropy; the buffers are valid only inside `use`.
    func score<T>(inputs: [Int32], targets: [Int32], windows: Int,
                  _ use: (_ logits: UnsafeBufferPointer<Float>, _ losses: UnsafeBufferPointer<Float>) -> T) -> T
    /// Samples one continuation per prompt until `isEnd` or `maxLength` tokens.
    func generate(prompts: [[Int32]], maxLength: Int, using generator: inout SeededGenerator,
                  classToken: (Int) -> Int32, isEnd: (Int32) -> Bool) -> [(tokens: [Int32], ended: Bool)]
}

/// The evaluation of a sweep: validation loss per character on the fixed validation set, and generation accuracy
/// on sentences sampled from BOS with the fixed generation seed.
public struct Evaluator {
    public let data: SweepData
    public let tokenizer: Tokenizer

    public init(data: SweepData, tokenizer: Tokenizer) {
        self.data = data
        self.tokenizer = tokenizer
    }

    /// Nats per character on the validation set; `progress` hears (windows done, windows) after every call.
    public func validationLoss(_ model: EvaluatedModel, progress: (Int, Int) -> Void = { _, _ in }) -> Double {
        let windows = WindowPacker(tokenizer: tokenizer, window: data.window).packAll(data.validation)
        var nats = 0.0
        var first = 0
        while first < windows.count {
            let count = min(model.windowsPerCall, windows.count - first)
            let range = (first * data.window)..<((first + count) * data.window)
            let targets = Array(windows.targets[range])
            nats += model.score(inputs: Array(windows.inputs[range]), targets: targets, windows: count) { logits, losses in
                tokenizer.nats(logits: logits, positionLosses: losses, targets: targets)
            }
            first += count
            progress(first, windows.count)
        }
        precondition(windows.characters == data.validationCharacters, "validation packing lost characters")
        return nats / Double(windows.characters)
    }

    /// Sentences sampled from BOS (temperature 1) that end with EOS and that the grammar accepts, of `samples`.
    /// `progress` hears the samples done after every batch.
    public func generationSuccesses(_ model: EvaluatedModel, samples: Int, batch: Int = 64,
                                    progress: (Int) -> Void = { _ in }) -> Int {
        var generator = SeededGenerator(seed: data.settings.dataSeed, stream: 3)
        var successes = 0
        var remaining = samples
        while remaining > 0 {
            let count = min(batch, remaining)
            let prompts = [[Int32]](repeating: [tokenizer.inputBOS], count: count)
            let outputs = model.generate(prompts: prompts, maxLength: data.window, using: &generator,
                                         classToken: tokenizer.nextInputToken(forClass:), isEnd: tokenizer.isEnd)
            for output in outputs {
                let (sentence, ended) = tokenizer.decode(output.tokens)
                if ended, !sentence.isEmpty, (try? data.parser.accepts(sentence)) == true { successes += 1 }
            }
            remaining -= count
            progress(samples - remaining)
        }
        return successes
    }
}

/// A trained GPT seen by the evaluator.
final class GPTEvaluation: EvaluatedModel {
    let model: GPT
    let batch: Int
    private lazy var sampler = Generator(model: model, batch: batch)

    init(model: GPT, generationBatch: Int) {
        self.model = model
        self.batch = generationBatch
    }

    var windowsPerCall: Int { model.batch }

    /// The forward pass without gradients; the logits and losses are the model's own buffers.
    func score<T>(inputs: [Int32], targets: [Int32], windows: Int,
                  _ use: (_ logits: UnsafeBufferPointer<Float>, _ losses: UnsafeBufferPointer<Float>) -> T) -> T {
        inputs.withUnsafeBufferPointer { i in
            targets.withUnsafeBufferPointer { t in
                _ = model.forward(inputs: i.baseAddress!, targets: t.baseAddress!, windows: windows, gradients: false)
            }
        }
        return use(model.logits, model.positionLosses)
    }

    func generate(prompts: [[Int32]], maxLength: Int, using generator: inout SeededGenerator,
                  classToken: (Int) -> Int32, isEnd: (Int32) -> Bool) -> [(tokens: [Int32], ended: Bool)] {
        sampler.generate(prompts: prompts, maxLength: maxLength, using: &generator, classToken: classToken, isEnd: isEnd)
    }
}
