import Foundation
import Kernels

/// AdamW hyperparameters (the paper's defaults: betas (0.9, 0.98), weight decay 0.1).
public struct AdamWSettings: Codable, Equatable, Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.98
    public var epsilon: Float = 1e-8
    /// Decoupled weight decay, applied to matrices and tables only.
    public var weightDecay: Float = 0.1
    /// Global gradient-norm clipping threshold (0: no clipping).
    public var gradientClip: Float = 1.0
    public init() {}
}

/// A learning rate per step.
public protocol LearningRateSchedule: Sendable {
    /// The rate for step `step` (0-based).
    func rate(at step: Int) -> Float
    /// The step at which the rate starts to depend on the budget (the end of a stable phase, from which a run can
    /// be extended to a longer budget), or nil when every step's rate depends on it.
    var stablePhaseEnd: Int? { get }
}

extension LearningRateSchedule {
    public var stablePhaseEnd: Int? { nil }
}

/// Learning rate with linear warmup and cosine decay to `minimumFraction` of the peak.
public struct CosineSchedule: LearningRateSchedule, Codable, Equatable, Sendable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minimumFraction: Float

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, minimumFraction: Float = 0.1) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimumFraction = minimumFraction
    }

    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Float(step - warmupSteps) / Float(span))
        let cosine = 0.5 * (1 + cos(Float.pi * progress))
        return peak * (minimumFraction + (1 - minimumFraction) * cosine)
    }
}

/// Warmup-stable-decay: linear warmup to the peak, the peak until the last `decaySteps` steps, then a linear decay
/// to `minimumFraction` of the peak. Until the decay starts the rate does not depend on the budget, so a run can be
/// extended from a checkpoint of its stable phase and end as a run with the longer budget from the start would.
public struct WarmupStableDecaySchedule: LearningRateSchedule, Codable, Equatable, Sendable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decaySteps: Int
    public var minimumFraction: Float

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, decaySteps: Int, minimumFraction: Float = 0.1) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decaySteps = decaySteps
        self.minimumFraction = minimumFraction
    }

    /// The first step of the decay: every step before it is the stable phase (or warmup).
    public var decayStart: Int { totalSteps - decaySteps }
    public var stablePhaseEnd: Int? { decayStart }

    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        if step < decayStart { return peak }
        let progress = Float(step - decayStart) / Float(max(1, decaySteps))
        return peak * (minimumFraction + (1 - minimumFraction) * (1 - min(1, progress)))
    }
}

extension GPT {
    /// The global L2 norm of the gradients (reduced in a fixed order).
    public func gradientNorm() -> Float {
        Float(AdamW.sumOfSquares(gradients, count: layout.count, scratch: normScratch, pool: pool).squareRoot())
    }

    /// One AdamW step at `learningRate`, after clipping the global gradient norm; returns the norm before
    /// clipping. Does not zero the gradients.
    @discardableResult
    public func optimizerStep(learningRate: Float, settings: AdamWSettings = AdamWSettings()) -> Float {
        let norm = gradientNorm()
        // As torch.nn.utils.clip_grad_norm_: scale by clip / (norm + 1e-6) when that is below 1.
        let scale: Float = settings.gradientClip > 0 ? min(1, settings.gradientClip / (norm + 1e-6)) : 1
        step += 1
        for tensor in layout.tensors {
            AdamW.update(parameters: parameters + tensor.offset, gradients: gradients + tensor.offset,
                         firstMoment: firstMoment + tensor.offset, secondMoment: secondMoment + tensor.offset,
                         count: tensor.count, learningRate: learningRate, beta1: settings.beta1,
                         beta2: settings.beta2, epsilon: settings.epsilon,
                         weightDecay: tensor.decays ? settings.weightDecay : 0, step: step, gradientScale: scale,
                         pool: pool)
        }
        return norm
    }
}
