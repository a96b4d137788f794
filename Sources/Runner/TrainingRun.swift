import Foundation
import Grammar
import Model
import SeededRandom
import Tokenizer

/// Settings shared by every run of a sweep (everything that defines a result, except the run's own variant,
/// size and seed). Threads are deliberately not here: results do not depend on them.
public struct SweepSettings: Codable, Equatable, Sendable {
    public var grammarPath: String
    public var steps = 1000
    /// Windows per step and window length in characters (sentences are packed whole into windows).
    public var batch = 16
    public var window = 0   // 0: chosen from the grammar (longest sentence + 2, at least 64)
    public var learningRate: Float = 2e-3
    public var warmupSteps = -1  // -1: 5% of the steps (at least 10)
    public var minimumLearningRateFraction: Float = 0.1
    public var adam = AdamWSettings()
    public var evalEvery = 0  // 0: steps / 10
    public var validationSamples = 500
    public var generationSamples = 200
    /// Seed of the validation set and of the generation draws (fixed across runs of a sweep).
    public var dataSeed: UInt64 = 20_250_101
    public var positions: GPTConfig.Positions = .learned
    /// The learning-rate schedule: cosine (nil, the default) or warmup-stable-decay.
    public var schedule: ScheduleSettings?

    public init(grammarPath: String) { self.grammarPath = grammarPath }

    /// Every setting at its default (the command line's defaults come from here).
    public static let defaults = SweepSettings(grammarPath: "")

    public var effectiveWarmup: Int { warmupSteps >= 0 ? warmupSteps : max(10, steps / 20) }

    /// The learning rate of every step.
    public var learningRateSchedule: any LearningRateSchedule {
        if let schedule, schedule.kind == .warmupStableDecay {
            return WarmupStableDecaySchedule(peak: learningRate, warmupSteps: effectiveWarmup, totalSteps: steps,
                                             decaySteps: schedule.decaySteps(of: steps),
                                             minimumFraction: minimumLearningRateFraction)
        }
        return CosineSchedule(peak: learningRate, warmupSteps: effectiveWarmup, totalSteps: steps,
                              minimumFraction: minimumLearningRateFraction)
    }

    /// With warmup-stable-decay, the step at which the decay starts (the end of the stable phase); nil with cosine.
    public var decayStart: Int? {
        guard let schedule, schedule.kind == .warmupStableDecay else { return nil }
        return steps - schedule.decaySteps(of: steps)
    }

    /// What makes the settings unusable (checked before a sweep starts), or nil.
    public var problem: String? {
        if let decayStart {
            if decayStart <= effectiveWarmup {
                return "with --schedule wsd the decay starts at step \(decayStart), inside the warmup of \(effectiveWarmup) steps: use fewer warmup steps or a shorter decay"
            }
            if !evaluationSteps.contains(decayStart) {
                return "with --schedule wsd the decay starts at step \(decayStart), which must be an evaluation step (a multiple of --eval-every, now \(effectiveEvalEvery)) so that the run can be extended from there: choose --eval-every dividing \(decayStart)"
            }
        }
        return nil
    }
    public var effectiveEvalEvery: Int { evalEvery > 0 ? evalEvery : max(1, steps / 10) }

    /// Steps at which a run is evaluated (and checkpointed): every `evalEvery`, and the last.
    public var evaluationSteps: [Int] {
        var steps = Array(stride(from: effectiveEvalEvery, to: self.steps, by: effectiveEvalEvery))
        steps.append(self.steps)
        return steps
    }
}

/// A learning-rate schedule other than the default cosine (stored only when given, so that the settings of cosine
/// sweeps read as before).
public struct ScheduleSettings: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case warmupStableDecay = "wsd" }
    public var kind: Kind
    /// The fraction of the steps the final decay takes.
    public var decayFraction: Float

    /// The decay fraction unless told otherwise: the last fifth of training.
    public static let defaultDecayFraction: Float = 0.2

    public init(kind: Kind, decayFraction: Float) {
        self.kind = kind
        self.decayFraction = decayFraction
    }

    public func decaySteps(of steps: Int) -> Int { Int((Double(steps) * Double(decayFraction)).rounded()) }
}

/// One unit of work: a (vocabulary design, size, seed) run. It can execute on its own (e.g. as one task of a
/// cluster job array): all it shares with other runs is the files in the sweep's directory.
public struct RunUnit: Hashable, Codable, Sendable {
    public let design: VocabularyDesign
    public let size: ModelSize
    public let seed: UInt64

    public init(design: VocabularyDesign, size: ModelSize, seed: UInt64) {
        self.design = design
        self.size = size
        self.seed = seed
    }

    /// A file-name-safe identifier.
    public var id: String {
        "\(size.name)_\(design.description)_seed\(seed)".map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "." }
            .map(String.init).joined()
    }
}

/// The grammar and the evaluation sets of a sweep: the same for every run.
public final class SweepData: @unchecked Sendable {
    public let grammar: Grammar
    public let parser: ChartParser
    public let sampler: GrammarSampler
    public let settings: SweepSettings
    /// Validation sentences and their exact total log-loss (inside algorithm) and characters (EOS counted).
    public let validation: [[Int]]
    public let trueNats: Double
    public let validationCharacters: Int
    /// Window length in characters.
    public let window: Int

    public var trueEntropyPerCharacter: Double { trueNats / Double(validationCharacters) }

    /// The default window is the longest sentence plus BOS and EOS (at least 64), but no more than this; grammars
    /// without a longest sentence get 256. Longer sentences are skipped in training.
    public static let longestDefaultWindow = 4096

    /// Samples the validation set and computes its exact log-loss; `log` hears how far it has got every few seconds
    /// (a large validation set of long sentences takes minutes).
    public init(settings: SweepSettings, grammar: Grammar, log: (String) -> Void = { _ in }) throws {
        self.settings = settings
        self.grammar = grammar
        do { try GrammarSampler.checkExpectedLength(of: grammar) } catch { throw SweepError(error.description) }
        parser = try ChartParser(grammar: grammar)
        sampler = GrammarSampler(grammar: grammar)
        let minLength = GrammarAnalysis.minLengths(grammar)[grammar.start]
        let maxLength = GrammarAnalysis.maxLengths(grammar)[grammar.start]
        if settings.window > 0 {
            window = settings.window
        } else {
            window = maxLength.isFinite ? max(64, Int(min(maxLength, Double(SweepData.longestDefaultWindow - 2))) + 2) : 256
        }
        guard Double(window) >= minLength + 2 else {
            throw SweepError("the shortest sentence of \(settings.grammarPath) has \(Int(minLength)) characters, so a window must hold at least \(Int(minLength) + 2) (BOS and EOS included); \(settings.window > 0 ? "--window is \(window)" : "the default window is \(window)"): give --window \(Int(minLength) + 2) or more")
        }
        var generator = SeededGenerator(seed: settings.dataSeed, stream: 2)
        var sentences: [[Int]] = []
        var draws = 0
        var lastReport = Date()
        let drawLimit = 10_000 + 100 * settings.validationSamples
        while sentences.count < settings.validationSamples {
            let s = sampler.sample(using: &generator)
            draws += 1
            if s.count + 2 <= window { sentences.append(s) }
            if draws % 1024 == 0 && Date().timeIntervalSince(lastReport) >= 5 {
                lastReport = Date()
                log("validation set: \(sentences.count) of \(settings.validationSamples) sentences sampled")
            }
            if draws >= drawLimit && sentences.count < settings.validationSamples {
                throw SweepError("only \(sentences.count) of \(draws) sentences sampled from \(settings.grammarPath) fit a window of \(window) characters (BOS and EOS included): give a larger --window (the longest sentence has \(maxLength.isFinite ? "\(Int(maxLength))" : "no bound on its") characters)")
            }
        }
        validation = sentences
        var nats = 0.0, characters = 0
        for (i, s) in sentences.enumerated() {
            nats -= try parser.logProbability(s)
            characters += s.count + 1
            if Date().timeIntervalSince(lastReport) >= 5 {
                lastReport = Date()
                log("validation set: the exact log-probability of \(i + 1) of \(sentences.count) sentences computed")
            }
        }
        trueNats = nats
        validationCharacters = characters
    }
}

/// Packs whole sentences (BOS ... EOS) into fixed windows; a sentence that does not fit the rest of a window
/// opens the next one. Capacity is measured in character-level tokens (length + 2) for every design, so that every
/// design sees the same sentences in the same windows (an n-gram-gpt window is then partly padding). The only
/// state besides the caller's generator is the sentence carried over to the next window.
struct WindowPacker {
    let tokenizer: Tokenizer
    let window: Int
    var pending: [Int]?

    struct Windows {
        var inputs: [Int32]
        var targets: [Int32]
        var tokens = 0
        var characters = 0
        var count: Int

        init(count: Int, window: Int, padding: Int32) {
            self.count = count
            inputs = [Int32](repeating: padding, count: count * window)
            targets = [Int32](repeating: -1, count: count * window)
        }
    }

    /// Writes `sentence` at token `offset` of window `w`; returns the tokens it took.
    private func place(_ sentence: [Int], window w: Int, offset: Int, into windows: inout Windows) -> Int {
        let encoded = tokenizer.encode(sentence)
        let at = w * window + offset
        for (i, token) in encoded.inputs.enumerated() {
            windows.inputs[at + i] = token
            windows.targets[at + i] = encoded.targets[i]
        }
        windows.tokens += encoded.inputs.count
        windows.characters += encoded.characters
        return encoded.inputs.count
    }

    /// Fills `count` windows with sentences from `next()` (skipping any longer than a window).
    mutating func pack(count: Int, next: () -> [Int]) throws -> Windows {
        var windows = Windows(count: count, window: window, padding: tokenizer.inputPadding)
        for w in 0..<count {
            var capacityUsed = 0, offset = 0, skipped = 0
            while true {
                let sentence = pending ?? next()
                pending = nil
                guard sentence.count + 2 <= window else {
                    skipped += 1
                    if skipped >= 100_000 {
                        throw SweepError("100,000 sentences in a row were longer than the window of \(window) characters: give a larger --window")
                    }
                    continue
                }
                if capacityUsed + sentence.count + 2 > window {
                    pending = sentence
                    break
                }
                offset += place(sentence, window: w, offset: offset, into: &windows)
                capacityUsed += sentence.count + 2
            }
        }
        return windows
    }

    /// Packs all of `sentences` (each must fit a window), in order, into as many windows as needed.
    func packAll(_ sentences: [[Int]]) -> Windows {
        var starts: [Int] = []  // window index of each sentence
        var w = 0, used = 0
        for sentence in sentences {
            precondition(sentence.count + 2 <= window)
            if used + sentence.count + 2 > window { w += 1; used = 0 }
            starts.append(w)
            used += sentence.count + 2
        }
        var windows = Windows(count: sentences.isEmpty ? 0 : w + 1, window: window, padding: tokenizer.inputPadding)
        var offset = 0
        for (i, sentence) in sentences.enumerated() {
            if i > 0 && starts[i] != starts[i - 1] { offset = 0 }
            offset += place(sentence, window: starts[i], offset: offset, into: &windows)
        }
        return windows
    }
}
