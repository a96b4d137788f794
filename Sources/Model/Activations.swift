import Kernels

/// The activation arena of a GPT: every buffer the forward and backward passes touch, carved from one float
/// allocation and one int allocation when the model is made.
struct Activations {
    struct Layer {
        let ln1, ln1Mean, ln1Rstd, qkv, lse, atty, res2, ln2, ln2Mean, ln2Rstd, fc: UnsafeMutablePointer<Float>
        /// tanh inside GELU(fc), kept for the backward pass (GELU's output is recomputed from it into `fcGelu`).
        let fcTanh: UnsafeMutablePointer<Float>
    }

    /// One prediction head: its final LayerNorm, logits, loss and (for multi-token heads j >= 1) the combination
    /// of the previous hidden state with the embedding of the token j steps ahead.
    struct Head {
        let lnf, lnfMean, lnfRstd, logits, dLogits, losses: UnsafeMutablePointer<Float>
        let targets: UnsafeMutablePointer<Int32>
        let hidden, embedded, lnH, lnHMean, lnHRstd, lnE, lnEMean, lnERstd: UnsafeMutablePointer<Float>?
        let shiftedTokens: UnsafeMutablePointer<Int32>?
    }

    let tokens, targets: UnsafeMutablePointer<Int32>
    let ngramIDs: [UnsafeMutablePointer<Int32>]
    let hashedSlices: [UnsafeMutablePointer<Float>]
    let residual: [UnsafeMutablePointer<Float>]
    let layers: [Layer]
    let heads: [Head]
    let embeddingScratch, layerNormScratch: UnsafeMutablePointer<Float>
    /// GELU's output for the layer at hand (forward: before the MLP's second product; backward: recomputed for its
    /// weight gradient), shared by the layers.
    let fcGelu: UnsafeMutablePointer<Float>
    let dResidual, dLn, dQKV, dAtty, dFc, dEmbedding: UnsafeMutablePointer<Float>
    let dHidden: [UnsafeMutablePointer<Float>]

    init(config: GPTConfig, layout: ParameterLayout, rows n: Int, batch: Int, seq: Int,
         floats: (Int) -> UnsafeMutablePointer<Float>, ints: (Int) -> UnsafeMutablePointer<Int32>) {
        let d = config.width, c = config.classes
        tokens = ints(n)
        targets = ints(n)
        var tables = 0, sliceWidth = 0
        switch config.input {
        case .token: break
        case .ngram: tables = 1
        case .hierarchical(let order): tables = order - 1
        case .hashed(let order, _, let slices):
            tables = (order - 1) * slices
            sliceWidth = d / slices
        }
        ngramIDs = (0..<tables).map { _ in ints(n) }
        hashedSlices = sliceWidth > 0 ? (0..<tables).map { _ in floats(n * sliceWidth) } : []
        residual = (0...config.layers).map { _ in floats(n * d) }
        layers = (0..<config.layers).map { _ in
            Layer(ln1: floats(n * d), ln1Mean: floats(n), ln1Rstd: floats(n), qkv: floats(n * 3 * d),
                  lse: floats(batch * config.heads * seq), atty: floats(n * d), res2: floats(n * d),
                  ln2: floats(n * d), ln2Mean: floats(n), ln2Rstd: floats(n), fc: floats(n * 4 * d),
                  fcTanh: floats(n * 4 * d))
        }
        heads = (0..<config.predictionDepth).map { j in
            let extra = j > 0
            return Head(lnf: floats(n * d), lnfMean: floats(n), lnfRstd: floats(n), logits: floats(n * c),
                        dLogits: floats(n * c), losses: floats(n), targets: ints(n),
                        hidden: extra ? floats(n * d) : nil, embedded: extra ? floats(n * d) : nil,
                        lnH: extra ? floats(n * d) : nil, lnHMean: extra ? floats(n) : nil,
                        lnHRstd: extra ? floats(n) : nil, lnE: extra ? floats(n * d) : nil,
                        lnEMean: extra ? floats(n) : nil, lnERstd: extra ? floats(n) : nil,
                        shiftedTokens: extra ? ints(n) : nil)
        }
        embeddingScratch = floats(max(n * d, d * max(1, sliceWidth)))
        layerNormScratch = floats(LayerNorm.scratchCount(rows: n, columns: d))
        fcGelu = floats(n * 4 * d)
        dResidual = floats(n * d)
        dLn = floats(n * d)
        dQKV = floats(n * 3 * d)
        dAtty = floats(n * d)
        dFc = floats(n * 4 * d)
        dEmbedding = floats(config.predictionDepth > 1 ? n * d : 0)
        dHidden = config.predictionDepth > 1 ? [floats(n * d), floats(n * d)] : []
    }
}
