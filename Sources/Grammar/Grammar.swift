/// A probabilistic context-free grammar as read from a `.cfg` file.
///
/// Symbols are numbered: terminals `0..<terminals.count`, nonterminals `0..<nonterminals.count`. Every rule has a
/// non-empty right-hand side and a positive probability; the probabilities of one nonterminal's rules sum to 1
/// (uniform when the file gives no weights). A `Grammar` value is always valid: every nonterminal is productive and
/// the expected string length is finite (checked by ``GrammarValidator`` when it is built).
public struct Grammar: Sendable {
    /// Terminal names, in the order that defines their ids (see `grammars/README.md`).
    public let terminals: [String]
    /// Nonterminal names, in order of first appearance as a left-hand side.
    public let nonterminals: [String]
    /// All rules, grouped by left-hand side in order of nonterminal id, each group in file order.
    public let rules: [Rule]
    /// `rulesOf[A]` is the range of `rules` whose left-hand side is `A`.
    public let rulesOf: [Range<Int>]
    /// The start symbol (a nonterminal id).
    public let start: Int
    /// Where the grammar came from (a file path, or a name given by the caller).
    public let source: String
    /// Non-fatal findings, such as unreachable symbols.
    public let warnings: [GrammarDiagnostic]

    /// Builds and validates a grammar. Used by ``GrammarReader``; most callers should read a file instead.
    init(terminals: [String], nonterminals: [String], rules unsorted: [Rule], start: Int, source: String,
         warnings: [GrammarDiagnostic]) {
        self.terminals = terminals
        self.terminalIndex = Dictionary(uniqueKeysWithValues: terminals.enumerated().map { ($1, $0) })
        self.nonterminals = nonterminals
        var byLHS = [[Rule]](repeating: [], count: nonterminals.count)
        for rule in unsorted { byLHS[rule.lhs].append(rule) }
        var ranges: [Range<Int>] = []
        var flat: [Rule] = []
        flat.reserveCapacity(unsorted.count)
        for group in byLHS {
            ranges.append(flat.count..<(flat.count + group.count))
            flat.append(contentsOf: group)
        }
        self.rules = flat
        self.rulesOf = ranges
        self.start = start
        self.source = source
        self.warnings = warnings
    }

    /// The id of the terminal named `name`, if any.
    public func terminalID(_ name: String) -> Int? { terminalIndex[name] }

    /// Terminal ids for a sequence of terminal names, or the first name that is not a terminal.
    public func encode<S: Sequence>(_ names: S) -> Result<[Int], UnknownTerminal> where S.Element: StringProtocol {
        var ids: [Int] = []
        for (position, name) in names.enumerated() {
            guard let id = terminalIndex[String(name)] else {
                return .failure(UnknownTerminal(position: position, name: String(name)))
            }
            ids.append(id)
        }
        return .success(ids)
    }

    /// Terminal ids of one line of UTF-8 text (without its line break) whose terminal names are separated by white
    /// space: space, tab, carriage return, vertical tab or form feed, as in a `.cfg` file (so a line of a `\r\n`
    /// file reads like the same line of a `\n` file). Linear in the line's length.
    ///
    /// Fails with the first problem from the left, located by a 1-based column that counts Unicode scalars; a
    /// line that is not valid UTF-8 fails as such even when an unknown terminal comes first.
    public func encode(line: UnsafeBufferPointer<UInt8>) -> Result<[Int], LineProblem> {
        var ids: [Int] = []
        var index = 0
        var column = 0  // Unicode scalars before `index`
        var unknown: LineProblem?
        while index < line.count {
            if Grammar.isWhiteSpace(line[index]) {
                index += 1
                column += 1
                continue
            }
            let start = index, startColumn = column + 1
            var ascii = true
            while index < line.count && !Grammar.isWhiteSpace(line[index]) {
                let byte = line[index]
                if byte >= 0x80 { ascii = false }
                if byte & 0xC0 != 0x80 { column += 1 }  // not a continuation byte: a new scalar
                index += 1
            }
            let token = UnsafeBufferPointer(rebasing: line[start..<index])
            if !ascii, let invalid = Grammar.firstInvalidScalar(token) {
                return .failure(.invalidUTF8(column: startColumn + invalid))
            }
            if unknown != nil { continue }  // only validity matters after an unknown terminal
            let name = String(decoding: token, as: UTF8.self)
            if let id = terminalIndex[name] {
                ids.append(id)
            } else {
                unknown = .unknownTerminal(name: name, column: startColumn)
            }
        }
        if let unknown { return .failure(unknown) }
        return .success(ids)
    }

    /// ``encode(line:)`` for a line given as text.
    public func encode(line: some StringProtocol) -> Result<[Int], LineProblem> {
        var text = String(line)
        return text.withUTF8 { encode(line: $0) }
    }

    /// Why a line of text is not a string of terminals (``encode(line:)``).
    public enum LineProblem: Error, Equatable, Sendable {
        /// A token that is not a terminal name; `column` (1-based, in Unicode scalars) is where it starts.
        case unknownTerminal(name: String, column: Int)
        /// A byte sequence that is not UTF-8, at `column` (1-based, in Unicode scalars before it, plus one).
        case invalidUTF8(column: Int)
    }

    static func isWhiteSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D && byte != 0x0A)
    }

    /// The 0-based scalar offset of the first invalid UTF-8 sequence in `bytes`, or nil if they are valid UTF-8.
    static func firstInvalidScalar(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var scalars = 0
        while true {
            switch decoder.decode(&iterator) {
            case .emptyInput: return nil
            case .error: return scalars
            case .scalarValue: scalars += 1
            }
        }
    }

    /// The terminal names of `ids` joined by single spaces.
    public func decode(_ ids: [Int]) -> String {
        ids.map { terminals[$0] }.joined(separator: " ")
    }

    private let terminalIndex: [String: Int]

    /// The grammar as text lines that fix everything sampling, parsing and training do with it, and nothing else:
    /// the terminals in id order, the start symbol, and every rule in the order the sampler draws from (its
    /// probability written so that it reads back exactly). Comments, spacing and the file's name do not show; a changed
    /// rule, weight, start symbol, or order of rules or terminals does. A sweep keeps
    /// these lines to know its grammar by content.
    public var canonicalLines: [String] {
        var lines = ["terminals: " + terminals.joined(separator: " "), "start: " + nonterminals[start]]
        for rule in rules {
            lines.append(nonterminals[rule.lhs] + " -> " + rule.rhs.map(name(of:)).joined(separator: " ")
                         + " [\(rule.probability)]")
        }
        return lines
    }

    /// The printable name of a symbol.
    public func name(of symbol: Symbol) -> String {
        switch symbol {
        case .terminal(let t): return terminals[t]
        case .nonterminal(let n): return nonterminals[n]
        }
    }
}

/// A token of an input string that is not a terminal of the grammar.
public struct UnknownTerminal: Error, Equatable, Sendable {
    /// 0-based index of the token in the string.
    public let position: Int
    public let name: String
}

/// A grammar symbol: a terminal or a nonterminal id.
public enum Symbol: Hashable, Sendable {
    case terminal(Int)
    case nonterminal(Int)
}

/// One production `lhs -> rhs` with its probability.
public struct Rule: Sendable {
    public let lhs: Int
    public let rhs: [Symbol]
    public let probability: Double
    /// Where the rule's first right-hand-side symbol stands in the source file.
    public let location: SourceLocation
}

/// A position in a source file (1-based line and column; columns count Unicode scalars).
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
    public var description: String { "\(file):\(line):\(column)" }
}

/// An error or warning about a grammar, located in its source.
public struct GrammarDiagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }
    public let location: SourceLocation
    public let severity: Severity
    public let message: String
    public init(_ severity: Severity, at location: SourceLocation, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }
    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

/// The errors that kept a grammar from being read (at least one), in source order.
public struct GrammarError: Error, Sendable, CustomStringConvertible {
    public let diagnostics: [GrammarDiagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
