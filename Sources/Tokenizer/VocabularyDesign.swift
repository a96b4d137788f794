/// A vocabulary design of the paper's comparison, spelled as on the command line and in the CSV:
/// `1gram`, `Ngram-gpt`, `Ngram-in`, `Ngram-hin`, `Ngram-out`, and hashed Over-Encoding `Ngram-hin@m=M,k=K`.
public struct VocabularyDesign: Hashable, Codable, Sendable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable {
        /// One token per character on both sides (the baseline).
        case oneGram = "1gram"
        /// The text cut into n-character chunks on both sides.
        case gpt
        /// Character sequence; each position embeds the exact n-gram ending there.
        case input = "in"
        /// Character sequence; each position embeds the sum of the 1..n-gram embeddings (hashed with `hashRows`).
        case hierarchicalInput = "hin"
        /// Character input; each position predicts the joint n-gram of the next n characters.
        case output = "out"
    }

    public let kind: Kind
    /// The n of the n-gram (1 for `1gram`).
    public let n: Int
    /// Hashed Over-Encoding: base rows m of the hashed tables, and slices k (only with `hin`).
    public let hashRows: Int?
    public let hashSlices: Int?

    public static let orders = 2...8

    public init(kind: Kind, n: Int, hashRows: Int? = nil, hashSlices: Int? = nil) {
        self.kind = kind
        self.n = kind == .oneGram ? 1 : n
        self.hashRows = hashRows
        self.hashSlices = hashSlices
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public static let spellings = "1gram, Ngram-gpt, Ngram-in, Ngram-hin, Ngram-out (N in \(orders.lowerBound)...\(orders.upperBound)), Ngram-hin@m=M,k=K (hashed)"

    /// Parses a design name such as `3gram-hin@m=1021,k=2`.
    public init(parsing name: String) throws(ParseError) {
        func fail(_ why: String) -> ParseError {
            ParseError(description: "unknown vocabulary design '\(name)': \(why) (expected one of: \(VocabularyDesign.spellings))")
        }
        if name == "1gram" {
            self.init(kind: .oneGram, n: 1)
            return
        }
        let parts = name.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let head = parts[0]
        guard let gram = head.firstRange(of: "gram-") else { throw fail("no 'gram-'") }
        guard let n = Int(head[..<gram.lowerBound]), VocabularyDesign.orders.contains(n) else {
            throw fail("N must be an integer in \(VocabularyDesign.orders.lowerBound)...\(VocabularyDesign.orders.upperBound)")
        }
        guard let kind = Kind(rawValue: String(head[gram.upperBound...])), kind != .oneGram else {
            throw fail("the part after 'gram-' must be gpt, in, hin or out")
        }
        var rows: Int?, slices: Int?
        if parts.count == 2 {
            guard kind == .hierarchicalInput else { throw fail("only Ngram-hin can be hashed (@m=...,k=...)") }
            for setting in parts[1].split(separator: ",") {
                let pair = setting.split(separator: "=")
                guard pair.count == 2, let value = Int(pair[1]), value > 0 else { throw fail("bad setting '\(setting)'") }
                switch pair[0] {
                case "m": rows = value
                case "k": slices = value
                default: throw fail("unknown setting '\(pair[0])' (m or k)")
                }
            }
            guard rows != nil else { throw fail("hashed input needs m=ROWS") }
        }
        self.init(kind: kind, n: n, hashRows: rows, hashSlices: rows != nil ? (slices ?? 1) : nil)
    }

    /// The canonical spelling.
    public var description: String {
        if kind == .oneGram { return "1gram" }
        var text = "\(n)gram-\(kind.rawValue)"
        if let hashRows { text += "@m=\(hashRows),k=\(hashSlices ?? 1)" }
        return text
    }

    public var isHashed: Bool { hashRows != nil }
}
