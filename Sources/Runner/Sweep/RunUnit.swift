import Tokenizer

/// One unit of work: a (vocabulary design, size, seed) run. It can execute on its own (e.g. as one task of a
/// cluster job array): all it shares with other runs is the files in the sweep's directory.
public struct RunUnit: Hashable, Codable, Sendable {
    public let design: VocabularyDesign
    public let size: ModelSize
    public let seed: UInt64

    public init(design: VocabularyDesign, size: ModelSize, seed: UInt64) {
        self.design = design
        self.size = size
        self.seed = seed
    }

    /// A file-name-safe identifier.
    public var id: String {
        "\(size.name)_\(design.description)_seed\(seed)".map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "." }
            .map(String.init).joined()
    }
}
