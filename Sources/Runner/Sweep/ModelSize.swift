import Model

/// A model shape: a named preset or a custom `L<layers>-d<width>-h<heads>`.
public struct ModelSize: Hashable, Codable, Sendable, CustomStringConvertible {
    public let name: String
    public let layers: Int
    public let width: Int
    public let heads: Int

    /// Presets from clearly underfitting to large enough to fit the bundled small grammars; `deep` is narrow and
    /// deep like the paper's small model (12 x 128), scaled down.
    public static let presets: [ModelSize] = [
        ModelSize(name: "tiny", layers: 1, width: 16, heads: 2),
        ModelSize(name: "xs", layers: 2, width: 32, heads: 2),
        ModelSize(name: "s", layers: 2, width: 64, heads: 2),
        ModelSize(name: "m", layers: 4, width: 96, heads: 4),
        ModelSize(name: "l", layers: 4, width: 128, heads: 4),
        ModelSize(name: "xl", layers: 6, width: 192, heads: 6),
        ModelSize(name: "deep", layers: 8, width: 32, heads: 2),
    ]

    public init(name: String, layers: Int, width: Int, heads: Int) {
        self.name = name
        self.layers = layers
        self.width = width
        self.heads = heads
    }

    public struct ParseError: Error, CustomStringConvertible { public let description: String }

    /// A preset name or `L4-d96-h4`.
    public init(parsing text: String) throws(ParseError) {
        if let preset = ModelSize.presets.first(where: { $0.name == text }) {
            self = preset
            return
        }
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].first == "L", parts[1].first == "d", parts[2].first == "h",
              let l = Int(parts[0].dropFirst()), let d = Int(parts[1].dropFirst()), let h = Int(parts[2].dropFirst()),
              l >= 1, d >= 1, h >= 1, d % h == 0 else {
            throw ParseError(description: "unknown size '\(text)' (expected a preset: \(ModelSize.presets.map(\.name).joined(separator: ", ")); or L<layers>-d<width>-h<heads> with width divisible by heads, e.g. L4-d96-h4)")
        }
        self.init(name: text, layers: l, width: d, heads: h)
    }

    /// Non-embedding parameters of a model of this shape (the blocks and the final norm), as `ParameterLayout`
    /// counts them.
    public var nonEmbeddingParameters: Int {
        ParameterLayout(GPTConfig(vocabulary: 1, layers: layers, width: width, heads: heads, maxSequence: 1))
            .nonEmbeddingCount
    }

    public var description: String { name }
}
