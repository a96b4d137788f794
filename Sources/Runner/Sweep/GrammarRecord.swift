import Grammar

/// A grammar known by its content: the canonical lines of its rules (``Grammar/canonicalLines``). A sweep keeps it
/// in `grammar.json` beside its runs, so that a grammar edited in place is refused before its runs are mixed with
/// the earlier ones, while the same rules under another path spelling, or in a copy, are the same grammar.
public struct GrammarRecord: Codable, Equatable, Sendable {
    public let lines: [String]

    public init(_ grammar: Grammar) { lines = grammar.canonicalLines }

    /// What changed from this record to `other`, in words (the first few lines that are only here and only
    /// there), or nil when they are the same grammar.
    public func change(to other: GrammarRecord) -> String? {
        guard lines != other.lines else { return nil }
        let here = Set(lines), there = Set(other.lines)
        let gone = lines.filter { !there.contains($0) }, added = other.lines.filter { !here.contains($0) }
        func listed(_ items: [String]) -> String {
            items.prefix(3).map { "'\($0)'" }.joined(separator: ", ") + (items.count > 3 ? " and \(items.count - 3) more" : "")
        }
        var parts: [String] = []
        if !gone.isEmpty { parts.append("recorded but not in the grammar now: \(listed(gone))") }
        if !added.isEmpty { parts.append("in the grammar now but not recorded: \(listed(added))") }
        if parts.isEmpty { parts.append("the same rules in another order") }
        return parts.joined(separator: "; ")
    }
}
