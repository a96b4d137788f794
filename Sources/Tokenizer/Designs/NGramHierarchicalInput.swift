import Model

/// `Ngram-hin`: character sequence; each position embeds the sum of its 1..N-gram embeddings (exact tables).
/// `Ngram-hin@m=M,k=K`: hashed Over-Encoding (Huang et al.): the token table plus hashed 2..N-gram tables of
/// M + 2i rows in K slices of width d/K, each with a projection back to d.
public struct NGramHierarchicalInput: CharacterLevelDesign {
    public static let family = "hin"
    public static let hasOrder = true
    public static let settingsHelp: String? = "Ngram-hin@m=M,k=K (hashed Over-Encoding)"
    public let order: Int
    /// Hashed: base rows M and slices K.
    public let hashRows: Int?
    public let hashSlices: Int

    public init(order: Int, settings: [(key: String, value: String)]) throws {
        self.order = order
        var rows: Int?, slices = 1
        for (key, value) in settings {
            guard let number = Int(value), number > 0 else { throw VocabularyDesign.ParseError("bad setting '\(key)=\(value)'") }
            switch key {
            case "m": rows = number
            case "k": slices = number
            default: throw VocabularyDesign.ParseError("unknown setting '\(key)' (m or k)")
            }
        }
        guard rows != nil || settings.isEmpty else { throw VocabularyDesign.ParseError("hashed input needs m=ROWS") }
        hashRows = rows
        hashSlices = slices
    }

    public var settingsSpelling: String? { hashRows.map { "m=\($0),k=\(hashSlices)" } }

    public var inputLayer: any InputLayer {
        if let hashRows { return HashedNGramEmbedding(order: order, rows: hashRows, slices: hashSlices) }
        return HierarchicalNGramEmbedding(order: order)
    }
}
