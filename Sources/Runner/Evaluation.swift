import Foundation
import Model
import SeededRandom
import Tokenizer

/// Per-character metrics, comparable across vocabulary designs.
public enum Evaluation {
    /// The natural-log loss of each target position of a forward pass, per design:
    /// - character designs: -log p(next character) (the cross-entropy the model computed);
    /// - `Ngram-out`: -log of the marginal of the joint over grams that start with the actual next character;
    /// - `Ngram-gpt`: -log p(next chunk) (a chunk covers several characters).
    /// Returns the summed nats over positions with a target.
    public static func nats(logits: UnsafeBufferPointer<Float>, positionLosses: UnsafeBufferPointer<Float>,
                            targets: [Int32], tokenizer: Tokenizer) -> Double {
        let classes = tokenizer.classes
        var total = 0.0
        if tokenizer.design.kind != .output {
            for (r, target) in targets.enumerated() where target >= 0 { total += Double(positionLosses[r]) }
            return total
        }
        let first = tokenizer.firstCharacter
        for (r, target) in targets.enumerated() where target >= 0 {
            let row = logits.baseAddress! + r * classes
            let wanted = first[Int(target)]
            var maxValue = -Float.infinity
            for c in 0..<classes { maxValue = max(maxValue, row[c]) }
            var all = 0.0, matching = 0.0
            for c in 0..<classes {
                let e = exp(Double(row[c] - maxValue))
                all += e
                if first[c] == wanted { matching += e }
            }
            total += log(all) - log(matching)
        }
        return total
    }

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
    /// Runs `windows` windows (row-major inputs/targets) and returns per-position logits and cross-entropy.
    func score(inputs: [Int32], targets: [Int32], windows: Int) -> (logits: UnsafeBufferPointer<Float>, losses: UnsafeBufferPointer<Float>)
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
            let (logits, losses) = model.score(inputs: Array(windows.inputs[range]), targets: targets, windows: count)
            nats += Evaluation.nats(logits: logits, positionLosses: losses, targets: targets, tokenizer: tokenizer)
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

    func score(inputs: [Int32], targets: [Int32], windows: Int) -> (logits: UnsafeBufferPointer<Float>, losses: UnsafeBufferPointer<Float>) {
        inputs.withUnsafeBufferPointer { i in
            targets.withUnsafeBufferPointer { t in _ = model.forward(inputs: i.baseAddress!, targets: t.baseAddress!, windows: windows) }
        }
        return (model.logits, model.positionLosses)
    }

    func generate(prompts: [[Int32]], maxLength: Int, using generator: inout SeededGenerator,
                  classToken: (Int) -> Int32, isEnd: (Int32) -> Bool) -> [(tokens: [Int32], ended: Bool)] {
        sampler.generate(prompts: prompts, maxLength: maxLength, using: &generator, classToken: classToken, isEnd: isEnd)
    }
}
