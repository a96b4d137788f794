/// The shape of a GPT: sizes, the input layer, positions and the output head(s).
public struct GPTConfig: Codable, Equatable, Sendable {
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
    /// How a position's input vector is built (see `InputLayer`).
    public var input: any InputLayer
    public var positions: Positions
    /// Multi-token prediction depth J (1: one head). Head j (0-based) predicts the token j + 1 steps ahead.
    public var predictionDepth: Int
    /// Loss weight of each head (`predictionDepth` values; the first is the main head's, normally 1).
    public var predictionWeights: [Float]

    public init(vocabulary: Int, classes: Int? = nil, layers: Int, width: Int, heads: Int, maxSequence: Int,
                input: any InputLayer = TokenEmbedding(), positions: Positions = .learned, predictionDepth: Int = 1,
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

    /// What the input layer's sizes depend on.
    public var inputShape: InputShape { InputShape(vocabulary: vocabulary, width: width) }

    /// Problems that make the configuration unusable (empty when valid).
    public var problems: [String] {
        var problems: [String] = []
        if vocabulary < 1 || classes < 1 { problems.append("vocabulary and classes must be positive") }
        if layers < 1 || width < 1 || heads < 1 || maxSequence < 1 { problems.append("layers, width, heads and sequence length must be positive") }
        if heads > 0 && width % heads != 0 { problems.append("width \(width) is not divisible by heads \(heads)") }
        if positions == .rotary && heads > 0 && (width / heads) % 2 != 0 { problems.append("rotary positions need an even head width") }
        if predictionDepth < 1 || predictionWeights.count != predictionDepth { problems.append("predictionWeights must have predictionDepth entries") }
        problems += input.problems(inputShape)
        if !problems.isEmpty { return problems }
        for table in tables where table.rows * table.columns > GPTConfig.maximumTableParameters {
            problems.append("\(table.name) has \(GPTConfig.count(table.rows)) rows of \(GPTConfig.count(table.columns)) (over \(GPTConfig.count(GPTConfig.maximumTableParameters)) parameters)\(table.advice)")
        }
        return problems
    }

    /// The most parameters one embedding table or head may have: beyond it, a design's vocabulary is too large
    /// for this engine (use hashed input, a smaller n or a smaller alphabet).
    public static let maximumTableParameters = 64e6

    /// The input layer's tables and the head, counted in floating point so that no vocabulary, however absurd, can
    /// overflow before it is refused.
    var tables: [TableSize] {
        input.tables(inputShape) + [TableSize(name: "the output head over \(classes) classes", rows: Double(classes),
                                              columns: Double(width),
                                              advice: ": the output vocabulary is too large; use a smaller n or alphabet")]
    }

    /// Bytes a model of this shape needs to train on `batch` windows of `seq` tokens and to sample `samplingBatch`
    /// sequences: the parameters with their gradients and two AdamW moments, the activation arena and the sampler's
    /// arena, counted by the very plans that size those allocations (`MemoryPlan`). Only for a configuration without
    /// `problems`, whose every table is within the limit (the plans count in `Int`).
    public func estimatedBytes(batch: Int, seq: Int, samplingBatch: Int = 64) -> Double {
        let layout = ParameterLayout(self)
        let training = Activations.plan(config: self, rows: batch * seq, batch: batch, seq: seq)
        let sampling = Generator.plan(config: self, batch: samplingBatch)
        return 4 * (4 * Double(layout.count) + training.floats + training.ints + sampling.floats + sampling.ints)
    }

    private enum CodingKeys: String, CodingKey {
        case vocabulary, classes, layers, width, heads, maxSequence, input, positions, predictionDepth, predictionWeights
    }

    /// The input layer is written as its specification (`{"ngram":{"n":3}}`, as earlier versions wrote it) and read
    /// back through the registry of input layers.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabulary = try c.decode(Int.self, forKey: .vocabulary)
        classes = try c.decode(Int.self, forKey: .classes)
        layers = try c.decode(Int.self, forKey: .layers)
        width = try c.decode(Int.self, forKey: .width)
        heads = try c.decode(Int.self, forKey: .heads)
        maxSequence = try c.decode(Int.self, forKey: .maxSequence)
        input = try InputLayers.make(try c.decode(InputLayerSpecification.self, forKey: .input))
        positions = try c.decode(Positions.self, forKey: .positions)
        predictionDepth = try c.decode(Int.self, forKey: .predictionDepth)
        predictionWeights = try c.decode([Float].self, forKey: .predictionWeights)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabulary, forKey: .vocabulary)
        try c.encode(classes, forKey: .classes)
        try c.encode(layers, forKey: .layers)
        try c.encode(width, forKey: .width)
        try c.encode(heads, forKey: .heads)
        try c.encode(maxSequence, forKey: .maxSequence)
        try c.encode(input.specification, forKey: .input)
        try c.encode(positions, forKey: .positions)
        try c.encode(predictionDepth, forKey: .predictionDepth)
        try c.encode(predictionWeights, forKey: .predictionWeights)
    }

    public static func == (a: GPTConfig, b: GPTConfig) -> Bool {
        (a.vocabulary, a.classes, a.layers, a.width, a.heads, a.maxSequence) == (b.vocabulary, b.classes, b.layers, b.width, b.heads, b.maxSequence)
            && a.input.specification == b.input.specification && a.positions == b.positions
            && a.predictionDepth == b.predictionDepth && a.predictionWeights == b.predictionWeights
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

    /// Floating-point operations per token of KV-cached sampling up to `length` tokens (forward only): 2 per
    /// non-embedding parameter and per head weight, and per layer the attention's two products over the length / 2
    /// cached positions a token sees on average (2 x 2 x width x length / 2).
    public func samplingFLOPsPerToken(length: Int) -> Double {
        let d = Double(width), l = Double(layers)
        return 2 * Double(ParameterLayout(self).nonEmbeddingCount) + 2 * l * d * Double(length) + 2 * d * Double(classes)
    }

    /// A count for messages: "1,048,576", or "1.2e+15" when astronomically large.
    public static func count(_ x: Double) -> String {
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
