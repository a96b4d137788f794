import Model

/// `Ngram-in`: character sequence; each position embeds the exact n-gram ending there (one table of (V+3)^N rows:
/// every base id and the padding before a sentence's start). The head predicts one character.
public struct NGramInput: CharacterLevelDesign {
    public static let family = "in"
    public static let hasOrder = true
    public let order: Int

    public init(order: Int, settings: [(key: String, value: String)]) throws {
        guard settings.isEmpty else { throw VocabularyDesign.ParseError("only Ngram-hin can be hashed (@m=...,k=...)") }
        self.order = order
    }

    public var inputLayer: any InputLayer { NGramEmbedding(order: order) }
}
