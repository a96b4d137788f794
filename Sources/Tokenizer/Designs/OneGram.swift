/// `1gram`: one token per character on both sides (the baseline).
public struct OneGram: CharacterLevelDesign {
    public static let family = "1gram"
    public static let hasOrder = false
    public let order = 1

    public init(order: Int, settings: [(key: String, value: String)]) throws {
        guard settings.isEmpty else { throw VocabularyDesign.ParseError("1gram takes no settings") }
    }
}
