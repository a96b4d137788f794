/// Typed pointers to every tensor of a model in one arena (the parameters, or their gradients), resolved by name
/// once when the model is made: the forward and backward passes and the sampler never look a tensor up by its name
/// (the names stay for checkpoints and the PyTorch fixtures).
struct ModelTensors {
    typealias Pointer = UnsafeMutablePointer<Float>

    /// One multi-token-prediction head (`mtp.j.*`, j >= 2).
    struct PredictionHead {
        let hiddenNormWeight, hiddenNormBias, embeddingNormWeight, embeddingNormBias, projection: Pointer
    }

    /// The input layer's tensors, in its own order (see `InputLayer.tensors`).
    let input: [Pointer]
    /// Learned positions (`wpe`); nil with rotary positions.
    let positions: Pointer?
    let blocks: [BlockTensors]
    let finalNormWeight, finalNormBias: Pointer
    /// The untied head, `[classes, width]`.
    let head: Pointer
    /// `mtp.wte`, and heads 2...depth (empty without multi-token prediction).
    let predictionEmbedding: Pointer?
    let predictionHeads: [PredictionHead]

    init(_ config: GPTConfig, layout: ParameterLayout, base: Pointer) {
        func at(_ name: String) -> Pointer { base + layout[name]!.offset }
        input = layout.inputTensors.map { base + $0.offset }
        positions = config.positions == .learned ? at("wpe") : nil
        blocks = (0..<config.layers).map { l in
            func block(_ name: String) -> Pointer { at("h.\(l).\(name)") }
            return BlockTensors(ln1Weight: block("ln_1.weight"), ln1Bias: block("ln_1.bias"),
                                attnWeight: block("attn.c_attn.weight"), attnBias: block("attn.c_attn.bias"),
                                projWeight: block("attn.c_proj.weight"), projBias: block("attn.c_proj.bias"),
                                ln2Weight: block("ln_2.weight"), ln2Bias: block("ln_2.bias"),
                                fcWeight: block("mlp.c_fc.weight"), fcBias: block("mlp.c_fc.bias"),
                                fc2Weight: block("mlp.c_proj.weight"), fc2Bias: block("mlp.c_proj.bias"))
        }
        finalNormWeight = at("ln_f.weight")
        finalNormBias = at("ln_f.bias")
        head = at("lm_head.weight")
        if config.predictionDepth > 1 {
            predictionEmbedding = at("mtp.wte")
            predictionHeads = (2...config.predictionDepth).map { j in
                PredictionHead(hiddenNormWeight: at("mtp.\(j).ln_h.weight"), hiddenNormBias: at("mtp.\(j).ln_h.bias"),
                               embeddingNormWeight: at("mtp.\(j).ln_e.weight"), embeddingNormBias: at("mtp.\(j).ln_e.bias"),
                               projection: at("mtp.\(j).proj.weight"))
            }
        } else {
            predictionEmbedding = nil
            predictionHeads = []
        }
    }
}

/// Pointers to one block's tensors (parameters or gradients).
struct BlockTensors {
    let ln1Weight, ln1Bias, attnWeight, attnBias, projWeight, projBias: UnsafeMutablePointer<Float>
    let ln2Weight, ln2Bias, fcWeight, fcBias, fc2Weight, fc2Bias: UnsafeMutablePointer<Float>
}
