import Foundation
import Kernels
import SeededRandom

/// A GPT-2 style decoder trained on the CPU, in the manner of llm.c: a forward and a backward pass written by
/// hand, layer by layer, over one arena of parameters, one of gradients and one of activations, all allocated when
/// the model is made (nothing is allocated per step).
///
/// Per position t of a window of `seq` tokens:
///   input embedding (token / exact n-gram / hierarchical / hashed Over-Encoding) + learned position (or rotary
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

    private let floats: UnsafeMutablePointer<Float>
    private let floatCount: Int
    private let ints: UnsafeMutablePointer<Int32>
    private let intCount: Int
    private var acts: Activations!
    /// Per-chunk partial sums of the gradient norm (allocated once, not per step).
    let normScratch: UnsafeMutablePointer<Double>
    /// Each block's parameters and gradients, looked up by name once here rather than in every step.
    let blockParameters: [LayerParameters], blockGradients: [LayerParameters]
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
        let layout = self.layout, parameters = self.parameters, gradients = self.gradients
        blockParameters = (0..<config.layers).map { LayerParameters(layout: layout, base: parameters, layer: $0) }
        blockGradients = (0..<config.layers).map { LayerParameters(layout: layout, base: gradients, layer: $0) }
        // Two passes over the activation plan: count, then carve one allocation.
        var floatTotal = 0, intTotal = 0
        _ = Activations(config: config, layout: layout, rows: batch * seq, batch: batch, seq: seq,
                        floats: { floatTotal += $0; return UnsafeMutablePointer(bitPattern: 64)! },
                        ints: { intTotal += $0; return UnsafeMutablePointer(bitPattern: 64)! })
        floatCount = floatTotal
        intCount = intTotal
        floats = ArenaMemory.allocate(floats: floatTotal)
        floats.initialize(repeating: 0, count: max(1, floatTotal))
        ints = .allocate(capacity: max(1, intTotal))
        ints.initialize(repeating: 0, count: max(1, intTotal))
        var floatOffset = 0, intOffset = 0
        let floatBase = floats, intBase = ints
        acts = Activations(config: config, layout: layout, rows: batch * seq, batch: batch, seq: seq,
                           floats: { count in defer { floatOffset += count }; return floatBase + floatOffset },
                           ints: { count in defer { intOffset += count }; return intBase + intOffset })
        initialize(seed: seed)
    }

    deinit {
        ArenaMemory.deallocate(parameters)
        ArenaMemory.deallocate(gradients)
        ArenaMemory.deallocate(firstMoment)
        ArenaMemory.deallocate(secondMoment)
        ArenaMemory.deallocate(floats)
        ints.deallocate()
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

    public func zeroGradients() { gradients.update(repeating: 0, count: layout.count) }

    /// The main head's logits of the last forward pass: `rows x classes`.
    public var logits: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: acts.heads[0].logits, count: rowsInUse * config.classes)
    }

    /// The main head's cross-entropy per position of the last forward pass (0 where the target was ignored).
    public var positionLosses: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: acts.heads[0].losses, count: rowsInUse)
    }

    /// The weighted total loss of the last forward pass.
    public var loss: Float { lastLoss }

    // MARK: Forward

    /// Runs the model on `windows` windows of `seq` tokens (`inputs`, row-major) and returns the weighted loss
    /// against `targets` (class ids; negative entries are ignored). Writes the gradient of the loss with respect to
    /// the logits as it goes, ready for `backward()`.
    @discardableResult
    public func forward(inputs: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, windows: Int? = nil) -> Float {
        let b = windows ?? batch
        precondition(b <= batch)
        let n = b * seq, d = config.width, a = acts!
        rowsInUse = n
        a.tokens.update(from: inputs, count: n)
        a.targets.update(from: targets, count: n)

        embedForward(rows: n)
        if config.positions == .learned {
            let wpe = parameters + layout["wpe"]!.offset
            for w in 0..<b {
                for t in 0..<seq { axpyRow(wpe + t * d, a.residual[0] + (w * seq + t) * d, d) }
            }
        }
        for l in 0..<config.layers { blockForward(l, windows: b) }

        // Heads: the main one, then the multi-token ones (head j predicts the target j - 1 positions later).
        var total: Float = 0
        let lnf = layout["ln_f.weight"]!.offset, lnfBias = layout["ln_f.bias"]!.offset
        let head = parameters + layout["lm_head.weight"]!.offset
        for j in 0..<config.predictionDepth {
            let h = a.heads[j]
            let input: UnsafeMutablePointer<Float>
            if j == 0 {
                input = a.residual[config.layers]
            } else {
                mtpForward(j, rows: n, windows: b)
                input = h.hidden!
            }
            LayerNorm.forward(output: h.lnf, mean: h.lnfMean, reciprocalStd: h.lnfRstd, input: input,
                              weight: parameters + lnf, bias: parameters + lnfBias, rows: n, columns: d, pool: pool)
            Linear.forward(h.logits, h.lnf, rows: n, inputs: d, outputs: config.classes, weight: head, bias: nil,
                           pool: pool)
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
                                         losses: h.losses, dLogits: h.dLogits, scale: scale, pool: pool)
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

    /// Fills `ids` with the padded n-gram id of order k at every position of every window (see `NGramID`).
    private func ngramIDs(order k: Int, rows n: Int, modulo: Int? = nil, into ids: UnsafeMutablePointer<Int32>) {
        let tokens = acts.tokens
        for r in 0..<n {
            let start = r - r % seq
            ids[r] = NGramID.id(order: k, position: r % seq, vocabulary: config.vocabulary, modulo: modulo) {
                tokens[start + $0]
            }
        }
    }

    private func embedForward(rows n: Int) {
        let d = config.width, a = acts!, x = a.residual[0]
        switch config.input {
        case .token:
            Embedding.gather(output: x, table: parameters + layout["wte"]!.offset, ids: a.tokens, rows: n, width: d,
                             accumulate: false, pool: pool)
        case .ngram(let order):
            ngramIDs(order: order, rows: n, into: a.ngramIDs[0])
            Embedding.gather(output: x, table: parameters + layout["ngram.\(order)"]!.offset, ids: a.ngramIDs[0],
                             rows: n, width: d, accumulate: false, pool: pool)
        case .hierarchical(let order):
            Embedding.gather(output: x, table: parameters + layout["wte"]!.offset, ids: a.tokens, rows: n, width: d,
                             accumulate: false, pool: pool)
            for k in 2...order {
                ngramIDs(order: k, rows: n, into: a.ngramIDs[k - 2])
                Embedding.gather(output: x, table: parameters + layout["ngram.\(k)"]!.offset, ids: a.ngramIDs[k - 2],
                                 rows: n, width: d, accumulate: true, pool: pool)
            }
        case .hashed(let order, let rows, let slices):
            let scale = 1 / Float(1 + slices * (order - 1))
            Embedding.gather(output: x, table: parameters + layout["wte"]!.offset, ids: a.tokens, rows: n, width: d,
                             scale: scale, accumulate: false, pool: pool)
            let w = d / slices
            var i = 0
            for k in 2...order {
                for s in 0..<slices {
                    let m = ParameterLayout.hashedRows(base: rows, order: k, slice: s, slices: slices)
                    ngramIDs(order: k, rows: n, modulo: m, into: a.ngramIDs[i])
                    Embedding.gather(output: a.hashedSlices[i], table: parameters + layout["oe.\(k).\(s).table"]!.offset,
                                     ids: a.ngramIDs[i], rows: n, width: w, accumulate: false, pool: pool)
                    // x += scale * slice proj^T  (the projection is linear, so the scale goes on the slice rows)
                    MatrixMultiply.multiply(m: n, n: d, k: w, a: a.hashedSlices[i], lda: w, transposeA: false,
                                            b: parameters + layout["oe.\(k).\(s).proj"]!.offset, ldb: w,
                                            transposeB: true, c: a.embeddingScratch, ldc: d, accumulate: false,
                                            pool: pool)
                    for e in 0..<(n * d) { x[e] += scale * a.embeddingScratch[e] }
                    i += 1
                }
            }
        }
    }

    private func blockForward(_ l: Int, windows b: Int) {
        let n = b * seq, d = config.width, a = acts!, la = a.layers[l]
        let p = blockParameters[l]
        let x = a.residual[l]
        LayerNorm.forward(output: la.ln1, mean: la.ln1Mean, reciprocalStd: la.ln1Rstd, input: x, weight: p.ln1Weight,
                          bias: p.ln1Bias, rows: n, columns: d, pool: pool)
        Linear.forward(la.qkv, la.ln1, rows: n, inputs: d, outputs: 3 * d, weight: p.attnWeight, bias: p.attnBias,
                       pool: pool)
        if config.positions == .rotary {
            Rotary.apply(la.qkv, rows: n, seq: seq, width: d, heads: config.heads, inverse: false, pool: pool)
        }
        Attention.forward(output: la.atty, logSumExp: la.lse, qkv: la.qkv, batch: b, seq: seq, width: d,
                          heads: config.heads, pool: pool)
        // res2 = x + atty W^T + b
        la.res2.update(from: x, count: n * d)
        Linear.forward(la.res2, la.atty, rows: n, inputs: d, outputs: d, weight: p.projWeight, bias: p.projBias,
                       accumulate: true, pool: pool)
        LayerNorm.forward(output: la.ln2, mean: la.ln2Mean, reciprocalStd: la.ln2Rstd, input: la.res2,
                          weight: p.ln2Weight, bias: p.ln2Bias, rows: n, columns: d, pool: pool)
        Linear.forward(la.fc, la.ln2, rows: n, inputs: d, outputs: 4 * d, weight: p.fcWeight, bias: p.fcBias,
                       pool: pool)
        GELU.forward(output: a.fcGelu, tanh: la.fcTanh, input: la.fc, count: n * 4 * d, pool: pool)
        let out = a.residual[l + 1]
        out.update(from: la.res2, count: n * d)
        Linear.forward(out, a.fcGelu, rows: n, inputs: 4 * d, outputs: d, weight: p.fc2Weight, bias: p.fc2Bias,
                       accumulate: true, pool: pool)
    }

    /// Multi-token head j (0-based, j >= 1): h_j = proj [ln_h(h_{j-1}); ln_e(mtp.wte[token t + j])].
    private func mtpForward(_ j: Int, rows n: Int, windows b: Int) {
        let d = config.width, a = acts!, h = a.heads[j]
        let previous = j == 1 ? a.residual[config.layers] : a.heads[j - 1].hidden!
        let name = "mtp.\(j + 1)."
        for r in 0..<n {
            let t = r % seq
            h.shiftedTokens![r] = t + j < seq ? a.tokens[r + j] : 0
        }
        Embedding.gather(output: h.embedded!, table: parameters + layout["mtp.wte"]!.offset, ids: h.shiftedTokens!,
                         rows: n, width: d, accumulate: false, pool: pool)
        LayerNorm.forward(output: h.lnH!, mean: h.lnHMean!, reciprocalStd: h.lnHRstd!, input: previous,
                          weight: parameters + layout[name + "ln_h.weight"]!.offset,
                          bias: parameters + layout[name + "ln_h.bias"]!.offset, rows: n, columns: d, pool: pool)
        LayerNorm.forward(output: h.lnE!, mean: h.lnEMean!, reciprocalStd: h.lnERstd!, input: h.embedded!,
                          weight: parameters + layout[name + "ln_e.weight"]!.offset,
                          bias: parameters + layout[name + "ln_e.bias"]!.offset, rows: n, columns: d, pool: pool)
        let proj = parameters + layout[name + "proj.weight"]!.offset
        Linear.forward(h.hidden!, h.lnH!, rows: n, inputs: d, outputs: d, weight: proj, weightStride: 2 * d,
                       bias: nil, pool: pool)
        Linear.forward(h.hidden!, h.lnE!, rows: n, inputs: d, outputs: d, weight: proj + d, weightStride: 2 * d,
                       bias: nil, accumulate: true, pool: pool)
    }

    // MARK: Backward

    /// Accumulates the gradient of the last forward pass's loss into `gradients`.
    public func backward() {
        let n = rowsInUse, d = config.width, a = acts!
        let b = n / seq
        let head = parameters + layout["lm_head.weight"]!.offset
        let dHead = gradients + layout["lm_head.weight"]!.offset
        let lnfW = layout["ln_f.weight"]!.offset, lnfB = layout["ln_f.bias"]!.offset
        let dResidual = a.dResidual
        dResidual.update(repeating: 0, count: n * d)
        // Heads from the last to the first: head j's hidden state feeds head j+1, so when head j is reached its
        // gradient buffer already holds head j+1's contribution.
        let depth = config.predictionDepth
        if depth > 1 { a.dHidden[(depth - 1) % 2].update(repeating: 0, count: n * d) }
        for j in stride(from: depth - 1, through: 0, by: -1) {
            let h = a.heads[j]
            let dHidden = j == 0 ? dResidual : a.dHidden[j % 2]
            Linear.backward(dX: a.dLn, accumulateInput: false, dW: dHead, dB: nil, dY: h.dLogits, x: h.lnf,
                            weight: head, rows: n, inputs: d, outputs: config.classes, pool: pool)
            LayerNorm.backward(dInput: dHidden, dWeight: gradients + lnfW, dBias: gradients + lnfB, dOutput: a.dLn,
                               input: j == 0 ? a.residual[config.layers] : h.hidden!, weight: parameters + lnfW,
                               mean: h.lnfMean, reciprocalStd: h.lnfRstd, rows: n, columns: d,
                               scratch: a.layerNormScratch, pool: pool)
            if j > 0 {
                let dPrevious = j == 1 ? dResidual : a.dHidden[(j - 1) % 2]
                if j > 1 { dPrevious.update(repeating: 0, count: n * d) }
                mtpBackward(j, dHidden: dHidden, dPrevious: dPrevious, rows: n)
            }
        }
        for l in stride(from: config.layers - 1, through: 0, by: -1) { blockBackward(l, windows: b) }
        if config.positions == .learned {
            let dwpe = gradients + layout["wpe"]!.offset
            for t in 0..<seq {
                for w in 0..<b { axpyRow(dResidual + (w * seq + t) * d, dwpe + t * d, d) }
            }
        }
        embedBackward(rows: n)
    }

    private func mtpBackward(_ j: Int, dHidden: UnsafeMutablePointer<Float>, dPrevious: UnsafeMutablePointer<Float>,
                             rows n: Int) {
        let d = config.width, a = acts!, h = a.heads[j]
        let previous = j == 1 ? a.residual[config.layers] : a.heads[j - 1].hidden!
        let name = "mtp.\(j + 1)."
        let proj = layout[name + "proj.weight"]!.offset
        // hidden = lnH P[:, :d]^T + lnE P[:, d:]^T
        Linear.backward(dX: a.dLn, accumulateInput: false, dW: gradients + proj, dB: nil, dY: dHidden, x: h.lnH!,
                        weight: parameters + proj, weightStride: 2 * d, rows: n, inputs: d, outputs: d, pool: pool)
        LayerNorm.backward(dInput: dPrevious, dWeight: gradients + layout[name + "ln_h.weight"]!.offset,
                           dBias: gradients + layout[name + "ln_h.bias"]!.offset, dOutput: a.dLn, input: previous,
                           weight: parameters + layout[name + "ln_h.weight"]!.offset, mean: h.lnHMean!,
                           reciprocalStd: h.lnHRstd!, rows: n, columns: d, scratch: a.layerNormScratch, pool: pool)
        Linear.backward(dX: a.dLn, accumulateInput: false, dW: gradients + proj + d, dB: nil, dY: dHidden, x: h.lnE!,
                        weight: parameters + proj + d, weightStride: 2 * d, rows: n, inputs: d, outputs: d, pool: pool)
        a.dEmbedding.update(repeating: 0, count: n * d)
        LayerNorm.backward(dInput: a.dEmbedding, dWeight: gradients + layout[name + "ln_e.weight"]!.offset,
                           dBias: gradients + layout[name + "ln_e.bias"]!.offset, dOutput: a.dLn, input: h.embedded!,
                           weight: parameters + layout[name + "ln_e.weight"]!.offset, mean: h.lnEMean!,
                           reciprocalStd: h.lnERstd!, rows: n, columns: d, scratch: a.layerNormScratch, pool: pool)
        Embedding.scatterAdd(dTable: gradients + layout["mtp.wte"]!.offset, dOutput: a.dEmbedding,
                             ids: h.shiftedTokens!, rows: n, width: d, pool: pool)
    }

    private func blockBackward(_ l: Int, windows b: Int) {
        let n = b * seq, d = config.width, a = acts!, la = a.layers[l]
        let p = blockParameters[l], g = blockGradients[l]
        let dResidual = a.dResidual
        // MLP: residual[l+1] = res2 + gelu(ln2 Wfc^T + bfc) Wfc2^T + bfc2
        GELU.fromTanh(output: a.fcGelu, input: la.fc, tanh: la.fcTanh, count: n * 4 * d, pool: pool)
        Linear.backward(dX: a.dFc, accumulateInput: false, dW: g.fc2Weight, dB: g.fc2Bias, dY: dResidual,
                        x: a.fcGelu, weight: p.fc2Weight, rows: n, inputs: 4 * d, outputs: d, pool: pool)
        GELU.backward(dInput: a.dFc, input: la.fc, tanh: la.fcTanh, dOutput: a.dFc, count: n * 4 * d, pool: pool)
        Linear.backward(dX: a.dLn, accumulateInput: false, dW: g.fcWeight, dB: g.fcBias, dY: a.dFc, x: la.ln2,
                        weight: p.fcWeight, rows: n, inputs: d, outputs: 4 * d, pool: pool)
        LayerNorm.backward(dInput: dResidual, dWeight: g.ln2Weight, dBias: g.ln2Bias, dOutput: a.dLn, input: la.res2,
                           weight: p.ln2Weight, mean: la.ln2Mean, reciprocalStd: la.ln2Rstd, rows: n, columns: d,
                           scratch: a.layerNormScratch, pool: pool)
        // Attention: res2 = x + atty Wproj^T + bproj
        Linear.backward(dX: a.dAtty, accumulateInput: false, dW: g.projWeight, dB: g.projBias, dY: dResidual,
                        x: la.atty, weight: p.projWeight, rows: n, inputs: d, outputs: d, pool: pool)
        Attention.backward(dQKV: a.dQKV, dOutput: a.dAtty, qkv: la.qkv, output: la.atty, logSumExp: la.lse, batch: b,
                           seq: seq, width: d, heads: config.heads, pool: pool)
        if config.positions == .rotary {
            Rotary.apply(a.dQKV, rows: n, seq: seq, width: d, heads: config.heads, inverse: true, pool: pool)
        }
        Linear.backward(dX: a.dLn, accumulateInput: false, dW: g.attnWeight, dB: g.attnBias, dY: a.dQKV, x: la.ln1,
                        weight: p.attnWeight, rows: n, inputs: d, outputs: 3 * d, pool: pool)
        LayerNorm.backward(dInput: dResidual, dWeight: g.ln1Weight, dBias: g.ln1Bias, dOutput: a.dLn,
                           input: a.residual[l], weight: p.ln1Weight, mean: la.ln1Mean, reciprocalStd: la.ln1Rstd,
                           rows: n, columns: d, scratch: a.layerNormScratch, pool: pool)
    }

    private func embedBackward(rows n: Int) {
        let d = config.width, a = acts!, dx = a.dResidual
        switch config.input {
        case .token:
            Embedding.scatterAdd(dTable: gradients + layout["wte"]!.offset, dOutput: dx, ids: a.tokens, rows: n,
                                 width: d, pool: pool)
        case .ngram(let order):
            Embedding.scatterAdd(dTable: gradients + layout["ngram.\(order)"]!.offset, dOutput: dx,
                                 ids: a.ngramIDs[0], rows: n, width: d, pool: pool)
        case .hierarchical(let order):
            Embedding.scatterAdd(dTable: gradients + layout["wte"]!.offset, dOutput: dx, ids: a.tokens, rows: n,
                                 width: d, pool: pool)
            for k in 2...order {
                Embedding.scatterAdd(dTable: gradients + layout["ngram.\(k)"]!.offset, dOutput: dx,
                                     ids: a.ngramIDs[k - 2], rows: n, width: d, pool: pool)
            }
        case .hashed(let order, _, let slices):
            let scale = 1 / Float(1 + slices * (order - 1))
            Embedding.scatterAdd(dTable: gradients + layout["wte"]!.offset, dOutput: dx, ids: a.tokens, rows: n,
                                 width: d, scale: scale, pool: pool)
            let w = d / slices
            var i = 0
            for k in 2...order {
                for s in 0..<slices {
                    let proj = layout["oe.\(k).\(s).proj"]!.offset
                    // slice -> x through scale * proj: dProj += scale dx^T slice; dSlice = scale dx proj
                    MatrixMultiply.multiply(m: d, n: w, k: n, a: dx, lda: d, transposeA: true, b: a.hashedSlices[i],
                                            ldb: w, transposeB: false, c: a.embeddingScratch, ldc: w,
                                            accumulate: false, pool: pool)
                    let dProj = gradients + proj
                    for e in 0..<(d * w) { dProj[e] += scale * a.embeddingScratch[e] }
                    MatrixMultiply.multiply(m: n, n: w, k: d, a: dx, lda: d, transposeA: false, b: parameters + proj,
                                            ldb: w, transposeB: false, c: a.embeddingScratch, ldc: w,
                                            accumulate: false, pool: pool)
                    Embedding.scatterAdd(dTable: gradients + layout["oe.\(k).\(s).table"]!.offset,
                                         dOutput: a.embeddingScratch, ids: a.ngramIDs[i], rows: n, width: w,
                                         scale: scale, pool: pool)
                    i += 1
                }
            }
        }
    }
}

/// Pointers to one block's parameters (or gradients) in an arena.
struct LayerParameters {
    let ln1Weight, ln1Bias, attnWeight, attnBias, projWeight, projBias: UnsafeMutablePointer<Float>
    let ln2Weight, ln2Bias, fcWeight, fcBias, fc2Weight, fc2Bias: UnsafeMutablePointer<Float>

    init(layout: ParameterLayout, base: UnsafeMutablePointer<Float>, layer l: Int) {
        func at(_ name: String) -> UnsafeMutablePointer<Float> { base + layout["h.\(l).\(name)"]!.offset }
        ln1Weight = at("ln_1.weight"); ln1Bias = at("ln_1.bias")
        attnWeight = at("attn.c_attn.weight"); attnBias = at("attn.c_attn.bias")
        projWeight = at("attn.c_proj.weight"); projBias = at("attn.c_proj.bias")
        ln2Weight = at("ln_2.weight"); ln2Bias = at("ln_2.bias")
        fcWeight = at("mlp.c_fc.weight"); fcBias = at("mlp.c_fc.bias")
        fc2Weight = at("mlp.c_proj.weight"); fc2Bias = at("mlp.c_proj.bias")
    }
}

/// A standard normal draw (Box-Muller on two uniform draws of the seeded generator).
func standardNormal(_ generator: inout SeededGenerator) -> Float {
    let u1 = max(generator.nextDouble(), 1e-300), u2 = generator.nextDouble()
    return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
}
