import Foundation
import Kernels
import SeededRandom

/// A GPT-2 style decoder trained on the CPU, in the manner of llm.c: a forward and a backward pass written by
/// hand, layer by layer, over one arena of parameters, one of gradients and one of activations, all allocated when
/// the model is made (nothing is allocated per step).
///
/// Per position t of a window of `seq` tokens:
///   input layer (`InputLayer`: token / exact n-gram / hierarchical / hashed Over-Encoding) + learned position (or rotary
///   q, k) -> `layers` pre-LayerNorm blocks (causal multi-head attention, 4x GELU MLP) -> final LayerNorm ->
///   untied linear head -> softmax cross-entropy; optionally extra multi-token-prediction heads.
/// The exact definition, shared with `tools/torch_reference.py`, is in `GPTConfig` and `ParameterLayout`.
public final class GPT {
    public let config: GPTConfig
    public let layout: ParameterLayout
    /// Rows per batch and window length the activations are sized for.
    public let batch: Int
    public let seq: Int
    /// May be replaced between steps (e.g. a larger pool once other runs on the machine have finished): every
    /// kernel gives the same bits for any thread count, so results do not change.
    public var pool: WorkerPool?

    /// The parameter arena (`layout.count` floats), its gradient, and AdamW's two moments.
    public let parameters: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>
    let firstMoment: UnsafeMutablePointer<Float>
    let secondMoment: UnsafeMutablePointer<Float>
    /// AdamW steps taken so far.
    public internal(set) var step = 0

    /// The activation arena, and every buffer in it.
    private let arena: Arena
    private let acts: Activations
    /// Per-chunk partial sums of the gradient norm (allocated once, not per step).
    let normScratch: UnsafeMutablePointer<Double>
    /// Every tensor of the parameters and of the gradients, resolved by name once here.
    let weights: ModelTensors, weightGradients: ModelTensors
    private var rowsInUse = 0
    private var lastLoss: Float = .nan

    /// Creates a model with GPT-2 initialisation from `seed`, activations for `batch` windows of `seq` tokens,
    /// and a worker pool of `threads` threads.
    public convenience init(config: GPTConfig, batch: Int, seq: Int, threads: Int, seed: UInt64) {
        self.init(config: config, batch: batch, seq: seq, pool: threads > 1 ? WorkerPool(threads: threads) : nil, seed: seed)
    }

    /// Creates a model that runs its kernels on `pool`, which other models may share: a call that finds the pool
    /// busy with another model's runs on the calling thread alone, and the results are the same either way.
    public init(config: GPTConfig, batch: Int, seq: Int, pool: WorkerPool?, seed: UInt64) {
        precondition(config.problems.isEmpty, config.problems.joined(separator: "; "))
        precondition(seq <= config.maxSequence, "window longer than maxSequence")
        self.config = config
        self.layout = ParameterLayout(config)
        self.batch = batch
        self.seq = seq
        self.pool = pool
        let count = layout.count
        parameters = ArenaMemory.allocate(floats: count)
        gradients = ArenaMemory.allocate(floats: count)
        firstMoment = ArenaMemory.allocate(floats: count)
        secondMoment = ArenaMemory.allocate(floats: count)
        gradients.initialize(repeating: 0, count: count)
        normScratch = .allocate(capacity: max(1, (count + 65535) / 65536))
        firstMoment.initialize(repeating: 0, count: count)
        secondMoment.initialize(repeating: 0, count: count)
        weights = ModelTensors(config, layout: layout, base: parameters)
        weightGradients = ModelTensors(config, layout: layout, base: gradients)
        // The activation plan, run to count and then to carve one allocation.
        arena = Arena(Activations.plan(config: config, rows: batch * seq, batch: batch, seq: seq))
        acts = arena.carve { floats, ints in Activations(config: config, rows: batch * seq, batch: batch, seq: seq, floats: floats, ints: ints) }
        initialize(seed: seed)
    }

    deinit {
        ArenaMemory.deallocate(parameters)
        ArenaMemory.deallocate(gradients)
        ArenaMemory.deallocate(firstMoment)
        ArenaMemory.deallocate(secondMoment)
        normScratch.deallocate()
    }

    /// GPT-2 initialisation: N(0, 0.02) weights and tables, residual projections scaled by 1/sqrt(2 layers),
    /// zero biases, unit LayerNorm gains. Normal draws by Box-Muller from one `SeededGenerator`.
    public func initialize(seed: UInt64) {
        var generator = SeededGenerator(seed: seed, stream: 0x6770_7431)
        for tensor in layout.tensors {
            let p = parameters + tensor.offset
            for i in 0..<tensor.count {
                p[i] = tensor.initOne ? 1 : tensor.initStd == 0 ? 0 : tensor.initStd * standardNormal(&generator)
            }
        }
        gradients.update(repeating: 0, count: layout.count)
        firstMoment.update(repeating: 0, count: layout.count)
        secondMoment.update(repeating: 0, count: layout.count)
        step = 0
    }

    /// The values of a named parameter tensor.
    public func parameter(_ name: String) -> UnsafeMutableBufferPointer<Float> {
        let t = layout[name]!
        return UnsafeMutableBufferPointer(start: parameters + t.offset, count: t.count)
    }

    /// The gradient of a named parameter tensor.
    public func gradient(_ name: String) -> UnsafeMutableBufferPointer<Float> {
        let t = layout[name]!
        return UnsafeMutableBufferPointer(start: gradients + t.offset, count: t.count)
    }

    /// Floats and ints of the activation arena, as `GPTConfig.estimatedBytes` counts them.
    public var allocatedCount: (floats: Int, ints: Int) { (arena.floatCount, arena.intCount) }

    public func zeroGradients() { gradients.update(repeating: 0, count: layout.count) }

    /// The main head's logits of the last forward pass: `rows x classes`.
    public var logits: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: acts.heads[0].logits, count: rowsInUse * config.classes)
    }

    /// The main head's cross-entropy per position of the last forward pass (0 where the target was ignored).
    public var positionLosses: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: acts.heads[0].losses, count: rowsInUse)
    }

    // MARK: Forward

    /// Runs the model on `windows` windows of `seq` tokens (`inputs`, row-major) and returns the weighted loss
    /// against `targets` (class ids; negative entries are ignored). With `gradients` (training), writes the gradient
    /// of the loss with respect to the logits as it goes, ready for `backward()`; without (evaluation), only the
    /// logits and losses.
    @discardableResult
    public func forward(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, windows: Int? = nil,
                        gradients: Bool = true) -> Float {
        let b = windows ?? batch
        precondition(b <= batch)
        let n = b * seq, d = config.width, a = acts
        rowsInUse = n
        a.tokens.update(from: inputs, count: n)
        a.targets.update(from: targets, count: n)

        config.input.forward(x: a.residual[0], rows: n, tokens: a.tokens, sequences: .windows(a.tokens, seq: seq),
                             weights: weights.input, workspace: a.input, shape: config.inputShape, pool: pool)
        if let wpe = weights.positions {
            for w in 0..<b {
                for t in 0..<seq { axpyRow(wpe + t * d, a.residual[0] + (w * seq + t) * d, d) }
            }
        }
        for l in 0..<config.layers {
            Block.forward(BlockWeights(weights.blocks[l]), blockBuffers(l), rows: n, config: config,
                          attention: .windows(batch: b, seq: seq, logSumExp: a.layers[l].lse), pool: pool)
        }

        // Heads: the main one (j = 0), then the multi-token ones (0-based head j predicts the target j positions later).
        var total: Float = 0
        for j in 0..<config.predictionDepth {
            let h = a.heads[j]
            let input: UnsafeMutablePointer<Float>
            if j == 0 {
                input = a.residual[config.layers]
            } else {
                mtpForward(j, rows: n, windows: b)
                input = h.hidden!
            }
            OutputHead.logits(h.logits, normed: h.lnf, mean: h.lnfMean, reciprocalStd: h.lnfRstd, input: input,
                              normWeight: weights.finalNormWeight, normBias: weights.finalNormBias,
                              head: .plain(weights.head), rows: n, config: config, pool: pool)
            // Targets of head j: the main targets shifted by j, ignored past the window's end.
            for w in 0..<b {
                for t in 0..<seq {
                    let r = w * seq + t
                    h.targets[r] = t + j < seq ? a.targets[r + j] : -1
                }
            }
            var valid = 0
            for r in 0..<n where h.targets[r] >= 0 { valid += 1 }
            let weight = config.predictionWeights[j]
            let scale = valid > 0 ? weight / Float(valid) : 0
            CrossEntropy.forwardBackward(logits: h.logits, targets: h.targets, rows: n, classes: config.classes,
                                         losses: h.losses, dLogits: gradients ? h.dLogits : nil, scale: scale, pool: pool)
            var sum: Float = 0
            for r in 0..<n { sum += h.losses[r] }
            total += valid > 0 ? weight * sum / Float(valid) : 0
        }
        lastLoss = total
        return total
    }

    private func axpyRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += x[i] }
    }

    /// Block l's buffers in the activation arena.
    private func blockBuffers(_ l: Int) -> BlockBuffers {
        let a = acts, la = a.layers[l]
        return BlockBuffers(input: a.residual[l], ln1: la.ln1, ln1Mean: la.ln1Mean, ln1Rstd: la.ln1Rstd, qkv: la.qkv,
                            atty: la.atty, afterAttention: la.res2, ln2: la.ln2, ln2Mean: la.ln2Mean,
                            ln2Rstd: la.ln2Rstd, fc: la.fc, fcTanh: la.fcTanh, fcGelu: a.fcGelu, output: a.residual[l + 1])
    }

    /// Multi-token head j (0-based, j >= 1): h_j = proj [ln_h(h_{j-1}); ln_e(mtp.wte[token t + j])].
    private func mtpForward(_ j: Int, rows n: Int, windows b: Int) {
        let d = config.width, a = acts, h = a.heads[j], head = weights.predictionHeads[j - 1]
        let previous = j == 1 ? a.residual[config.layers] : a.heads[j - 1].hidden!
        for r in 0..<n {
            let t = r % seq
            h.shiftedTokens![r] = t + j < seq ? a.tokens[r + j] : 0
        }
        Embedding.gather(output: h.embedded!, table: weights.predictionEmbedding!, ids: h.shiftedTokens!, rows: n,
                         width: d, accumulate: false, pool: pool)
        LayerNorm.forward(output: h.lnH!, mean: h.lnHMean!, reciprocalStd: h.lnHRstd!, input: previous,
                          weight: head.hiddenNormWeight, bias: head.hiddenNormBias, rows: n, columns: d, pool: pool)
        LayerNorm.forward(output: h.lnE!, mean: h.lnEMean!, reciprocalStd: h.lnERstd!, input: h.embedded!,
                          weight: head.embeddingNormWeight, bias: head.embeddingNormBias, rows: n, columns: d, pool: pool)
        Linear.forward(h.hidden!, h.lnH!, rows: n, inputs: d, outputs: d, weight: head.projection, weightStride: 2 * d,
                       bias: nil, pool: pool)
        Linear.forward(h.hidden!, h.lnE!, rows: n, inputs: d, outputs: d, weight: head.projection + d,
                       weightStride: 2 * d, bias: nil, accumulate: true, pool: pool)
    }

    // MARK: Backward

    /// Accumulates the gradient of the last forward pass's loss into `gradients`.
    public func backward() {
        let n = rowsInUse, d = config.width, a = acts
        let b = n / seq
        let dResidual = a.dResidual
        dResidual.update(repeating: 0, count: n * d)
        // Heads from the last to the first: head j's hidden state feeds head j+1, so when head j is reached its
        // gradient buffer already holds head j+1's contribution.
        let depth = config.predictionDepth
        if depth > 1 { a.dHidden[(depth - 1) % 2].update(repeating: 0, count: n * d) }
        for j in stride(from: depth - 1, through: 0, by: -1) {
            let h = a.heads[j]
            let dHidden = j == 0 ? dResidual : a.dHidden[j % 2]
            Linear.backward(dX: a.dLn, accumulateInput: false, dW: weightGradients.head, dB: nil, dY: h.dLogits, x: h.lnf,
                            weight: weights.head, rows: n, inputs: d, outputs: config.classes, pool: pool)
            LayerNorm.backward(dInput: dHidden, dWeight: weightGradients.finalNormWeight,
                               dBias: weightGradients.finalNormBias, dOutput: a.dLn,
                               input: j == 0 ? a.residual[config.layers] : h.hidden!, weight: weights.finalNormWeight,
                               mean: h.lnfMean, reciprocalStd: h.lnfRstd, rows: n, columns: d,
                               scratch: a.layerNormScratch, pool: pool)
            if j > 0 {
                let dPrevious = j == 1 ? dResidual : a.dHidden[(j - 1) % 2]
                if j > 1 { dPrevious.update(repeating: 0, count: n * d) }
                mtpBackward(j, dHidden: dHidden, dPrevious: dPrevious, rows: n)
            }
        }
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            Block.backward(weights.blocks[l], gradients: weightGradients.blocks[l], blockBuffers(l),
                           logSumExp: a.layers[l].lse, dResidual: dResidual,
                           scratch: (a.dFc, a.dLn, a.dAtty, a.dQKV, a.layerNormScratch), batch: b, seq: seq,
                           config: config, pool: pool)
        }
        if let dwpe = weightGradients.positions {
            for t in 0..<seq {
                for w in 0..<b { axpyRow(dResidual + (w * seq + t) * d, dwpe + t * d, d) }
            }
        }
        config.input.backward(dx: dResidual, rows: n, tokens: a.tokens, weights: weights.input, gradients: weightGradients.input,
                              workspace: a.input, shape: config.inputShape, pool: pool)
    }

    private func mtpBackward(_ j: Int, dHidden: UnsafeMutablePointer<Float>, dPrevious: UnsafeMutablePointer<Float>,
                             rows n: Int) {
        let d = config.width, a = acts, h = a.heads[j]
        let previous = j == 1 ? a.residual[config.layers] : a.heads[j - 1].hidden!
        let p = weights.predictionHeads[j - 1], g = weightGradients.predictionHeads[j - 1]
        // hidden = lnH P[:, :d]^T + lnE P[:, d:]^T
        Linear.backward(dX: a.dLn, accumulateInput: false, dW: g.projection, dB: nil, dY: dHidden, x: h.lnH!,
                        weight: p.projection, weightStride: 2 * d, rows: n, inputs: d, outputs: d, pool: pool)
        LayerNorm.backward(dInput: dPrevious, dWeight: g.hiddenNormWeight, dBias: g.hiddenNormBias, dOutput: a.dLn,
                           input: previous, weight: p.hiddenNormWeight, mean: h.lnHMean!, reciprocalStd: h.lnHRstd!,
                           rows: n, columns: d, scratch: a.layerNormScratch, pool: pool)
        Linear.backward(dX: a.dLn, accumulateInput: false, dW: g.projection + d, dB: nil, dY: dHidden, x: h.lnE!,
                        weight: p.projection + d, weightStride: 2 * d, rows: n, inputs: d, outputs: d, pool: pool)
        a.dEmbedding.update(repeating: 0, count: n * d)
        LayerNorm.backward(dInput: a.dEmbedding, dWeight: g.embeddingNormWeight, dBias: g.embeddingNormBias,
                           dOutput: a.dLn, input: h.embedded!, weight: p.embeddingNormWeight, mean: h.lnEMean!,
                           reciprocalStd: h.lnERstd!, rows: n, columns: d, scratch: a.layerNormScratch, pool: pool)
        Embedding.scatterAdd(dTable: weightGradients.predictionEmbedding!, dOutput: a.dEmbedding, ids: h.shiftedTokens!,
                             rows: n, width: d, pool: pool)
    }
}

/// A standard normal draw (Box-Muller on two uniform draws of the seeded generator).
func standardNormal(_ generator: inout SeededGenerator) -> Float {
    let u1 = max(generator.nextDouble(), 1e-300), u2 = generator.nextDouble()
    return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
}
