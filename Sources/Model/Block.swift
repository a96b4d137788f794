import Kernels

/// Where a block's attention looks.
enum AttentionContext {
    /// `batch` whole windows of `seq` positions, causal (training, evaluation); the log-sum-exps are kept for the
    /// backward pass.
    case windows(batch: Int, seq: Int, logSumExp: UnsafeMutablePointer<Float>)
    /// One new position per row at `position`, attending to the rows' key/value cache (sampling).
    case cache(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, position: Int, capacity: Int,
               scratch: UnsafeMutablePointer<Float>)
}

/// The weights of one block as the forward pass reads them.
struct BlockWeights {
    let ln1Weight, ln1Bias, attnBias, projBias, ln2Weight, ln2Bias, fcBias, fc2Bias: UnsafePointer<Float>
    let attn, proj, fc, fc2: LinearWeight

    init(_ t: BlockTensors, packed: (attn: UnsafePointer<Float>, proj: UnsafePointer<Float>, fc: UnsafePointer<Float>,
                                     fc2: UnsafePointer<Float>)? = nil) {
        (ln1Weight, ln1Bias, attnBias, projBias) = (UnsafePointer(t.ln1Weight), UnsafePointer(t.ln1Bias),
                                                    UnsafePointer(t.attnBias), UnsafePointer(t.projBias))
        (ln2Weight, ln2Bias, fcBias, fc2Bias) = (UnsafePointer(t.ln2Weight), UnsafePointer(t.ln2Bias),
                                                 UnsafePointer(t.fcBias), UnsafePointer(t.fc2Bias))
        if let packed {
            (attn, proj, fc, fc2) = (.packed(packed.attn), .packed(packed.proj), .packed(packed.fc), .packed(packed.fc2))
        } else {
            (attn, proj, fc, fc2) = (.plain(t.attnWeight), .plain(t.projWeight), .plain(t.fcWeight), .plain(t.fc2Weight))
        }
    }
}

/// The buffers of one block's forward pass, `rows` rows each. Training keeps every one for the backward pass;
/// sampling updates the residual stream in place (`input`, `afterAttention` and `output` one buffer) and lets the
/// two norms share theirs.
struct BlockBuffers {
    let input: UnsafePointer<Float>
    let ln1, ln1Mean, ln1Rstd, qkv, atty, afterAttention: UnsafeMutablePointer<Float>
    let ln2, ln2Mean, ln2Rstd, fc, fcTanh, fcGelu, output: UnsafeMutablePointer<Float>
}

/// A pre-LayerNorm transformer block: x + attention(ln_1 x), then + MLP(ln_2 .) with a 4x GELU hidden layer.
/// One forward pass for training, evaluation and sampling (the attention context differs), and training's backward.
enum Block {
    static func forward(_ w: BlockWeights, _ b: BlockBuffers, rows n: Int, config: GPTConfig, attention: AttentionContext,
                        pool: WorkerPool?) {
        let d = config.width
        LayerNorm.forward(output: b.ln1, mean: b.ln1Mean, reciprocalStd: b.ln1Rstd, input: b.input, weight: w.ln1Weight,
                          bias: w.ln1Bias, rows: n, columns: d, pool: pool)
        Linear.forward(b.qkv, b.ln1, rows: n, inputs: d, outputs: 3 * d, weight: w.attn, bias: w.attnBias, pool: pool)
        switch attention {
        case .windows(let batch, let seq, let logSumExp):
            if config.positions == .rotary {
                Rotary.apply(b.qkv, rows: n, seq: seq, width: d, heads: config.heads, inverse: false, pool: pool)
            }
            Attention.forward(output: b.atty, logSumExp: logSumExp, qkv: b.qkv, batch: batch, seq: seq, width: d,
                              heads: config.heads, pool: pool)
        case .cache(let keys, let values, let position, let capacity, let scratch):
            if config.positions == .rotary {
                Rotary.apply(b.qkv, rows: n, seq: 1, width: d, heads: config.heads, positionOffset: position, inverse: false,
                             pool: pool)
            }
            Attention.decode(output: b.atty, qkv: b.qkv, keys: keys, values: values, rows: n, position: position,
                             capacity: capacity, width: d, heads: config.heads, scratch: scratch)
        }
        // afterAttention = input + atty W^T + b
        if UnsafePointer(b.afterAttention) != b.input { b.afterAttention.update(from: b.input, count: n * d) }
        Linear.forward(b.afterAttention, b.atty, rows: n, inputs: d, outputs: d, weight: w.proj, bias: w.projBias,
                       accumulate: true, pool: pool)
        LayerNorm.forward(output: b.ln2, mean: b.ln2Mean, reciprocalStd: b.ln2Rstd, input: b.afterAttention,
                          weight: w.ln2Weight, bias: w.ln2Bias, rows: n, columns: d, pool: pool)
        Linear.forward(b.fc, b.ln2, rows: n, inputs: d, outputs: 4 * d, weight: w.fc, bias: w.fcBias, pool: pool)
        GELU.forward(output: b.fcGelu, tanh: b.fcTanh, input: b.fc, count: n * 4 * d, pool: pool)
        // output = afterAttention + gelu(fc) W2^T + b2
        if b.output != b.afterAttention { b.output.update(from: b.afterAttention, count: n * d) }
        Linear.forward(b.output, b.fcGelu, rows: n, inputs: 4 * d, outputs: d, weight: w.fc2, bias: w.fc2Bias,
                       accumulate: true, pool: pool)
    }

    /// The gradients of one block, given `dResidual` (the gradient of its output), which it turns into the
    /// gradient of its input. `fcGelu` is recomputed from the kept tanh; `dFc`, `dLn`, `dAtty`, `dQKV` are scratch.
    static func backward(_ p: BlockTensors, gradients g: BlockTensors, _ b: BlockBuffers, logSumExp: UnsafePointer<Float>,
                         dResidual: UnsafeMutablePointer<Float>,
                         scratch: (dFc: UnsafeMutablePointer<Float>, dLn: UnsafeMutablePointer<Float>,
                                   dAtty: UnsafeMutablePointer<Float>, dQKV: UnsafeMutablePointer<Float>,
                                   layerNorm: UnsafeMutablePointer<Float>),
                         batch: Int, seq: Int, config: GPTConfig, pool: WorkerPool?) {
        let n = batch * seq, d = config.width
        // MLP: output = afterAttention + gelu(ln2 Wfc^T + bfc) Wfc2^T + bfc2
        GELU.fromTanh(output: b.fcGelu, input: b.fc, tanh: b.fcTanh, count: n * 4 * d, pool: pool)
        Linear.backward(dX: scratch.dFc, accumulateInput: false, dW: g.fc2Weight, dB: g.fc2Bias, dY: dResidual,
                        x: b.fcGelu, weight: p.fc2Weight, rows: n, inputs: 4 * d, outputs: d, pool: pool)
        GELU.backward(dInput: scratch.dFc, input: b.fc, tanh: b.fcTanh, dOutput: scratch.dFc, count: n * 4 * d, pool: pool)
        Linear.backward(dX: scratch.dLn, accumulateInput: false, dW: g.fcWeight, dB: g.fcBias, dY: scratch.dFc, x: b.ln2,
                        weight: p.fcWeight, rows: n, inputs: d, outputs: 4 * d, pool: pool)
        LayerNorm.backward(dInput: dResidual, dWeight: g.ln2Weight, dBias: g.ln2Bias, dOutput: scratch.dLn,
                           input: b.afterAttention, weight: p.ln2Weight, mean: b.ln2Mean, reciprocalStd: b.ln2Rstd,
                           rows: n, columns: d, scratch: scratch.layerNorm, pool: pool)
        // Attention: afterAttention = input + atty Wproj^T + bproj
        Linear.backward(dX: scratch.dAtty, accumulateInput: false, dW: g.projWeight, dB: g.projBias, dY: dResidual,
                        x: b.atty, weight: p.projWeight, rows: n, inputs: d, outputs: d, pool: pool)
        Attention.backward(dQKV: scratch.dQKV, dOutput: scratch.dAtty, qkv: b.qkv, output: b.atty, logSumExp: logSumExp,
                           batch: batch, seq: seq, width: d, heads: config.heads, pool: pool)
        if config.positions == .rotary {
            Rotary.apply(scratch.dQKV, rows: n, seq: seq, width: d, heads: config.heads, inverse: true, pool: pool)
        }
        Linear.backward(dX: scratch.dLn, accumulateInput: false, dW: g.attnWeight, dB: g.attnBias, dY: scratch.dQKV,
                        x: b.ln1, weight: p.attnWeight, rows: n, inputs: d, outputs: 3 * d, pool: pool)
        LayerNorm.backward(dInput: dResidual, dWeight: g.ln1Weight, dBias: g.ln1Bias, dOutput: scratch.dLn, input: b.input,
                           weight: p.ln1Weight, mean: b.ln1Mean, reciprocalStd: b.ln1Rstd, rows: n, columns: d,
                           scratch: scratch.layerNorm, pool: pool)
    }
}
