/// One named parameter tensor in the flat parameter arena.
public struct ParameterTensor: Sendable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// Weight decay applies to matrices (and tables) only, not to biases and LayerNorm parameters.
    public var decays: Bool { shape.count >= 2 }
    /// An embedding table, position table or output head: not among the paper's non-embedding parameters.
    public let isEmbedding: Bool
    /// GPT-2 initialisation: N(0, std); std 0 with `one` for LayerNorm weights, 0 for biases.
    let initStd: Float
    let initOne: Bool
}

/// Where every parameter lives in the arena, in the canonical order shared with `tools/torch_reference.py`.
public struct ParameterLayout: Sendable {
    public let tensors: [ParameterTensor]
    public let count: Int
    private let index: [String: Int]

    public subscript(name: String) -> ParameterTensor? { index[name].map { tensors[$0] } }

    /// The input layer's tensors (in the layout's order, at its start).
    public let inputTensors: [ParameterTensor]

    public init(_ config: GPTConfig) {
        var tensors: [ParameterTensor] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int], std: Float = 0, one: Bool = false, embedding: Bool = false) {
            tensors.append(ParameterTensor(name: name, shape: shape, offset: offset, isEmbedding: embedding, initStd: std, initOne: one))
            offset += shape.reduce(1, *)
        }
        let v = config.vocabulary, d = config.width, l = config.layers
        let std: Float = 0.02, residualStd = 0.02 / Float(2 * l).squareRoot()
        for tensor in config.input.tensors(config.inputShape) {
            add(tensor.name, tensor.shape, std: tensor.initStd, embedding: tensor.isEmbedding)
        }
        inputTensors = tensors
        if config.positions == .learned { add("wpe", [config.maxSequence, d], std: std, embedding: true) }
        for layer in 0..<l {
            let p = "h.\(layer)."
            add(p + "ln_1.weight", [d], one: true)
            add(p + "ln_1.bias", [d])
            add(p + "attn.c_attn.weight", [3 * d, d], std: std)
            add(p + "attn.c_attn.bias", [3 * d])
            add(p + "attn.c_proj.weight", [d, d], std: residualStd)
            add(p + "attn.c_proj.bias", [d])
            add(p + "ln_2.weight", [d], one: true)
            add(p + "ln_2.bias", [d])
            add(p + "mlp.c_fc.weight", [4 * d, d], std: std)
            add(p + "mlp.c_fc.bias", [4 * d])
            add(p + "mlp.c_proj.weight", [d, 4 * d], std: residualStd)
            add(p + "mlp.c_proj.bias", [d])
        }
        add("ln_f.weight", [d], one: true)
        add("ln_f.bias", [d])
        add("lm_head.weight", [config.classes, d], std: std, embedding: true)
        if config.predictionDepth > 1 {
            add("mtp.wte", [v, d], std: std, embedding: true)
            for j in 2...config.predictionDepth {
                add("mtp.\(j).ln_h.weight", [d], one: true)
                add("mtp.\(j).ln_h.bias", [d])
                add("mtp.\(j).ln_e.weight", [d], one: true)
                add("mtp.\(j).ln_e.bias", [d])
                add("mtp.\(j).proj.weight", [d, 2 * d], std: std)
            }
        }
        self.tensors = tensors
        self.count = offset
        self.index = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
    }

    /// Parameters outside the embedding tables, the position table and the output head (the paper's count).
    public var nonEmbeddingCount: Int { tensors.filter { !$0.isEmbedding }.reduce(0) { $0 + $1.count } }
}
