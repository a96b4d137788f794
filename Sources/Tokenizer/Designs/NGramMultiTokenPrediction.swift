import Model

/// `Ngram-mtp`: the paper's practical Over-Decoding, sequential multi-token prediction (DeepSeek-V3 style):
/// character input and main head; N - 1 extra heads, head j predicting the character j steps further from the
/// previous head's hidden state and the embedding of the token j - 1 steps ahead, each with loss weight W
/// (`Ngram-mtp@w=W`; the paper's MTP-DS uses 0.1, the default). Evaluation and sampling use the main head only.
public struct NGramMultiTokenPrediction: CharacterLevelDesign {
    public static let family = "mtp"
    public static let hasOrder = true
    public static let settingsHelp: String? = "Ngram-mtp@w=W (the extra heads' loss weight, default 0.1)"
    public static let defaultWeight: Float = 0.1
    public let order: Int
    /// The loss weight of each extra head.
    public let weight: Float

    public init(order: Int, settings: [(key: String, value: String)]) throws {
        self.order = order
        var weight = NGramMultiTokenPrediction.defaultWeight
        for (key, value) in settings {
            guard key == "w" else { throw VocabularyDesign.ParseError("unknown setting '\(key)' (w)") }
            guard let w = Float(value), w > 0, w <= 10 else { throw VocabularyDesign.ParseError("bad weight '\(value)' (a number in (0, 10])") }
            weight = w
        }
        self.weight = weight
    }

    public var settingsSpelling: String? { weight == NGramMultiTokenPrediction.defaultWeight ? nil : "w=\(weight)" }

    public var predictionWeights: [Float] { [1] + Array(repeating: weight, count: order - 1) }
}
