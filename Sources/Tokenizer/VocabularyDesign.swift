import Foundation

/// A vocabulary design as a value: one of the registered `Design` types with its order and settings. Spelled as on
/// the command line and in the CSV (`1gram`, `3gram-in`, `3gram-hin@m=97,k=2`, ...), and stored by that spelling
/// (Codable as a string).
public struct VocabularyDesign: Hashable, Codable, Sendable, CustomStringConvertible {
    /// Every design there is, in the order help texts list them: the designs of this module, then those other
    /// modules registered (``register(_:)``).
    public static var registry: [any Design.Type] {
        registryLock.lock()
        defer { registryLock.unlock() }
        return registered
    }

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var registered: [any Design.Type] = [
        OneGram.self, NGramGPT.self, NGramInput.self, NGramHierarchicalInput.self, NGramOutput.self,
        NGramMultiTokenPrediction.self,
    ]

    /// Adds a design type (from another module: a test, a study of one's own). Its spelling must not clash with
    /// one already registered; registering the same type again does nothing.
    public static func register(_ type: any Design.Type) throws(ParseError) {
        registryLock.lock()
        defer { registryLock.unlock() }
        if registered.contains(where: { $0 == type }) { return }
        if registered.contains(where: { $0.family == type.family && $0.hasOrder == type.hasOrder }) {
            throw ParseError("a design spelled '\(type.hasOrder ? "Ngram-" : "")\(type.family)' is registered already")
        }
        registered.append(type)
    }

    /// Orders N a spelling may carry.
    public static let orders = 2...8

    /// The design's definition: ask it.
    public let definition: any Design

    public init(_ design: any Design) { definition = design }

    public var description: String { definition.spelling }
    public var order: Int { definition.order }

    public static func == (a: VocabularyDesign, b: VocabularyDesign) -> Bool { a.description == b.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The spellings, for help texts and errors.
    public static var spellings: String {
        registry.map { $0.hasOrder ? "Ngram-\($0.family)" : $0.family }.joined(separator: ", ")
            + " (N in \(orders.lowerBound)...\(orders.upperBound)); settings after @: "
            + registry.compactMap { $0.settingsHelp }.joined(separator: ", ")
    }

    /// Parses a comma-separated list of spellings, as `--variants` takes it: a design's settings after `@` are
    /// separated by commas too (`1gram,3gram-hin@m=97,k=2,3gram-out`), so a piece of the form `KEY=VALUE` after a
    /// design with settings is one more of its settings. An empty item is refused.
    public static func list(parsing text: String) throws(ParseError) -> [VocabularyDesign] {
        var spellings: [String] = []
        for (index, piece) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let item = piece.trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty else { throw ParseError("expects a comma-separated list without empty items, got '\(text)' (item \(index + 1) is empty)") }
            // A spelling holds '=' only in its settings, after '@'.
            if let last = spellings.last, last.contains("@"), !item.contains("@"), item.contains("=") {
                spellings[spellings.count - 1] = last + "," + item
            } else {
                spellings.append(item)
            }
        }
        return try spellings.map { (spelling) throws(ParseError) in try VocabularyDesign(parsing: spelling) }
    }

    /// Parses a spelling such as `3gram-hin@m=1021,k=2`.
    public init(parsing name: String) throws(ParseError) {
        do { definition = try VocabularyDesign.design(spelled: name) } catch {
            throw (error as? ParseError) ?? ParseError("\(error)")
        }
    }

    private static func design(spelled name: String) throws -> any Design {
        func fail(_ why: String) -> ParseError {
            ParseError("unknown vocabulary design '\(name)': \(why) (expected one of: \(VocabularyDesign.spellings))")
        }
        let parts = name.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let head = String(parts[0])
        var settings: [(key: String, value: String)] = []
        if parts.count == 2 {
            for setting in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let pair = setting.split(separator: "=", omittingEmptySubsequences: false)
                guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else { throw fail("bad setting '\(setting)'") }
                settings.append((String(pair[0]), String(pair[1])))
            }
        }
        let type: any Design.Type
        let order: Int
        if let plain = VocabularyDesign.registry.first(where: { !$0.hasOrder && $0.family == head }) {
            type = plain
            order = 1
        } else {
            guard let gram = head.firstRange(of: "gram-") else { throw fail("no 'gram-'") }
            guard let n = Int(head[..<gram.lowerBound]), VocabularyDesign.orders.contains(n) else {
                throw fail("N must be an integer in \(VocabularyDesign.orders.lowerBound)...\(VocabularyDesign.orders.upperBound)")
            }
            let family = String(head[gram.upperBound...])
            guard let found = VocabularyDesign.registry.first(where: { $0.hasOrder && $0.family == family }) else {
                throw fail("the part after 'gram-' must be \(VocabularyDesign.registry.filter { $0.hasOrder }.map { $0.family }.joined(separator: ", "))")
            }
            type = found
            order = n
        }
        do {
            return try type.init(order: order, settings: settings)
        } catch {
            throw fail((error as? ParseError)?.description ?? "\(error)")
        }
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
