/// The shape of a GPT: sizes, the input embedding, positions and the output head(s).
public struct GPTConfig: Codable, Equatable, Sendable {
    /// How a position's input vector is built from the token window.
    public enum InputEmbedding: Codable, Equatable, Sendable {
        /// One row per token (`wte`).
        case token
        /// Exact n-gram table only: position t embeds the n tokens ending at t (`ngram.n`).
        case ngram(n: Int)
        /// Sum of the token table and exact 2..n-gram tables (hierarchical n-gram input).
        case hierarchical(n: Int)
        /// Over-Encoding: the token table plus hashed 2..n-gram tables (`id mod (rows + 2i)`), each split into
        /// `slices` tables of width d/slices with a projection back to d, the sum divided by 1 + slices (n - 1).
        case hashed(n: Int, rows: Int, slices: Int)
    }

    public enum Positions: String, Codable, Sendable { case learned, rotary }

    /// Input token vocabulary (ids 0..<vocabulary).
    public var vocabulary: Int
    /// Output classes of the softmax head (the vocabulary, or a joint n-gram vocabulary).
    public var classes: Int
    public var layers: Int
    public var width: Int
    public var heads: Int
    /// Longest window (learned position table rows; KV-cache length).
    public var maxSequence: Int
    public var input: InputEmbedding
    public var positions: Positions
    /// Multi-token prediction depth J (1: one head). Head j predicts the token j steps ahead.
    public var predictionDepth: Int
    /// Loss weight of each head (`predictionDepth` values; the first is the main head's, normally 1).
    public var predictionWeights: [Float]

    public init(vocabulary: Int, classes: Int? = nil, layers: Int, width: Int, heads: Int, maxSequence: Int,
                input: InputEmbedding = .token, positions: Positions = .learned, predictionDepth: Int = 1,
                predictionWeights: [Float]? = nil) {
        self.vocabulary = vocabulary
        self.classes = classes ?? vocabulary
        self.layers = layers
        self.width = width
        self.heads = heads
        self.maxSequence = maxSequence
        self.input = input
        self.positions = positions
        self.predictionDepth = predictionDepth
        self.predictionWeights = predictionWeights ?? [1] + [Float](repeating: 0.1, count: max(0, predictionDepth - 1))
    }

    /// Problems that make the configuration unusable (empty when valid).
    public var problems: [String] {
        var problems: [String] = []
        if vocabulary < 1 || classes < 1 { problems.append("vocabulary and classes must be positive") }
        if layers < 1 || width < 1 || heads < 1 || maxSequence < 1 { problems.append("layers, width, heads and sequence length must be positive") }
        if heads > 0 && width % heads != 0 { problems.append("width \(width) is not divisible by heads \(heads)") }
        if positions == .rotary && heads > 0 && (width / heads) % 2 != 0 { problems.append("rotary positions need an even head width") }
        if predictionDepth < 1 || predictionWeights.count != predictionDepth { problems.append("predictionWeights must have predictionDepth entries") }
        switch input {
        case .token: break
        case .ngram(let n), .hierarchical(let n):
            if n < 2 { problems.append("n-gram order must be at least 2") }
        case .hashed(let n, let rows, let slices):
            if n < 2 || rows < 1 || slices < 1 || width % slices != 0 { problems.append("hashed input needs n >= 2, rows >= 1 and width divisible by slices") }
        }
        if !problems.isEmpty { return problems }
        for table in tables where table.rows * table.columns > GPTConfig.maximumTableParameters {
            problems.append("\(table.name) has \(GPTConfig.count(table.rows)) rows of \(GPTConfig.count(table.columns)) (over \(GPTConfig.count(GPTConfig.maximumTableParameters)) parameters)\(table.advice)")
        }
        return problems
    }

    /// The most parameters one embedding table or head may have: beyond it, a design's vocabulary is too large
    /// for this engine (use hashed input, a smaller n or a smaller alphabet).
    public static let maximumTableParameters = 64e6

    /// The embedding tables and the head as (rows, columns), counted in floating point so that no vocabulary,
    /// however absurd, can overflow before it is refused.
    var tables: [(name: String, rows: Double, columns: Double, advice: String)] {
        let d = Double(width)
        let tooLarge = ": use hashed input (Ngram-hin@m=...,k=...) or a smaller n"
        var tables: [(String, Double, Double, String)] = []
        switch input {
        case .token:
            tables.append(("the token embedding over \(vocabulary) tokens", Double(vocabulary), d, ": use a smaller n or alphabet"))
        case .ngram(let n):
            tables.append(("an exact \(n)-gram table over \(vocabulary) tokens", power(Double(vocabulary + 1), n), d, tooLarge))
        case .hierarchical(let n):
            tables.append(("the token embedding", Double(vocabulary), d, ""))
            for k in 2...max(2, n) {
                tables.append(("an exact \(k)-gram table over \(vocabulary) tokens", power(Double(vocabulary + 1), k), d, tooLarge))
            }
        case .hashed(let n, let rows, let slices):
            tables.append(("the token embedding", Double(vocabulary), d, ""))
            tables.append(("the largest hashed table (m = \(rows))", Double(rows) + 2 * Double((n - 1) * slices - 1),
                           d / Double(slices), ": use a smaller m"))
        }
        tables.append(("the output head over \(classes) classes", Double(classes), d,
                       ": the output vocabulary is too large; use a smaller n or alphabet"))
        return tables
    }

    /// Bytes a model of this shape needs to train on `batch` windows of `seq` tokens and to sample `samplingBatch`
    /// sequences: parameters with their gradients and two AdamW moments, the activations, and the sampler's key/value
    /// cache. An estimate in floating point (within a few percent of the arenas), so that it cannot overflow.
    public func estimatedBytes(batch: Int, seq: Int, samplingBatch: Int = 64) -> Double {
        let d = Double(width), l = Double(layers), rows = Double(batch) * Double(seq), c = Double(classes)
        var parameters = tables.reduce(0) { $0 + $1.rows * $1.columns }
        if case .hashed(let n, let rows, let slices) = input {
            // `tables` lists the largest hashed table once; there are (n - 1) x slices, each with a projection.
            let count = Double((n - 1) * slices), sliceWidth = d / Double(slices)
            parameters += (count - 1) * (Double(rows) + count) * sliceWidth + count * d * sliceWidth
        }
        parameters += l * (12 * d * d + 13 * d) + 2 * d
        if positions == .learned { parameters += Double(maxSequence) * d }
        let depth = Double(predictionDepth)
        if predictionDepth > 1 { parameters += Double(vocabulary) * d + (depth - 1) * (2 * d * d + 4 * d) }
        // Per layer: LayerNorm outputs, qkv, attention output, residual, the MLP's fc and kept tanh.
        let perLayer = rows * (15 * d + 6) + Double(batch * heads * seq)
        let activations = l * perLayer + (l + 1) * rows * d + depth * rows * (2 * c + 8 * d) + rows * 21 * d
        let sampling = 2 * l * Double(samplingBatch) * Double(maxSequence) * d + Double(samplingBatch) * (c + 12 * d)
            + parameters
        return 4 * (4 * parameters + activations + sampling)
    }
}

extension GPTConfig {
    /// Floating-point operations per token of a training step (forward and backward) on windows of `seq`: 6 per
    /// non-embedding parameter and per head weight, and 6 per layer for the attention's two products (width x the
    /// seq / 2 positions a causal query sees on average, both ways). The usual estimate (Kaplan et al.; nanoGPT's
    /// MFU), used by `cfg-run bench` for GFLOP/s.
    public func trainingFLOPsPerToken(seq: Int) -> Double {
        let d = Double(width), l = Double(layers)
        return 6 * Double(ParameterLayout(self).nonEmbeddingCount) + 6 * l * d * Double(seq) + 6 * d * Double(classes)
    }

    /// Floating-point operations per token of KV-cached sampling up to `length` tokens (forward only: a third of
    /// the training figure, the attention over length / 2 cached positions on average).
    public func samplingFLOPsPerToken(length: Int) -> Double {
        let d = Double(width), l = Double(layers)
        return 2 * Double(ParameterLayout(self).nonEmbeddingCount) + l * d * Double(length) + 2 * d * Double(classes)
    }

    /// A count for messages: "1,048,576", or "1.2e+15" when astronomically large.
    static func count(_ x: Double) -> String {
        guard x < 1e15 else { return String(format: "%.2g", x) }
        let digits = String(Int64(x))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }
}

private func power(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<exponent { result *= base }
    return result
}

/// One named parameter tensor in the flat parameter arena.
public struct ParameterTensor: Sendable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// Weight decay applies to matrices (and tables) only, not to biases and LayerNorm parameters.
    public var decays: Bool { shape.count >= 2 }
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

    /// Rows of the hashed table for order k (2...n) and slice s.
    public static func hashedRows(base: Int, order k: Int, slice s: Int, slices: Int) -> Int {
        base + 2 * ((k - 2) * slices + s)
    }

    public init(_ config: GPTConfig) {
        var tensors: [ParameterTensor] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int], std: Float = 0, one: Bool = false) {
            tensors.append(ParameterTensor(name: name, shape: shape, offset: offset, initStd: std, initOne: one))
            offset += shape.reduce(1, *)
        }
        let v = config.vocabulary, d = config.width, l = config.layers
        let std: Float = 0.02, residualStd = 0.02 / Float(2 * l).squareRoot()
        switch config.input {
        case .token:
            add("wte", [v, d], std: std)
        case .ngram(let n):
            add("ngram.\(n)", [ipow(v + 1, n), d], std: std)
        case .hierarchical(let n):
            add("wte", [v, d], std: std)
            for k in 2...n { add("ngram.\(k)", [ipow(v + 1, k), d], std: std) }
        case .hashed(let n, let rows, let slices):
            add("wte", [v, d], std: std)
            for k in 2...n {
                for s in 0..<slices {
                    add("oe.\(k).\(s).table", [ParameterLayout.hashedRows(base: rows, order: k, slice: s, slices: slices), d / slices], std: std)
                    add("oe.\(k).\(s).proj", [d, d / slices], std: std)
                }
            }
        }
        if config.positions == .learned { add("wpe", [config.maxSequence, d], std: std) }
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
        add("lm_head.weight", [config.classes, d], std: std)
        if config.predictionDepth > 1 {
            add("mtp.wte", [v, d], std: std)
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

    /// Parameters outside the embedding tables and the output head (the paper's parameter count).
    public var nonEmbeddingCount: Int {
        tensors.filter { t in
            !(t.name == "wte" || t.name == "wpe" || t.name.hasPrefix("ngram.") || t.name.hasSuffix(".table")
              || t.name == "lm_head.weight" || t.name == "mtp.wte")
        }.reduce(0) { $0 + $1.count }
    }
}

func ipow(_ base: Int, _ exponent: Int) -> Int {
    var result = 1
    for _ in 0..<exponent { result *= base }
    return result
}
