import Model

/// Settings shared by every run of a sweep (everything that defines a result, except the run's own variant,
/// size and seed). Threads are deliberately not here: results do not depend on them.
public struct SweepSettings: Codable, Equatable, Sendable {
    public var grammarPath: String
    public var steps = 1000
    /// Windows per step and window length in characters (sentences are packed whole into windows).
    public var batch = 16
    /// 0: chosen from the grammar (its longest sentence + 2, at least 64, at most `SweepData.longestDefaultWindow`;
    /// 256 for a grammar without a longest sentence).
    public var window = 0
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
    public var decayStart: Int? { learningRateSchedule.stablePhaseEnd }

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
