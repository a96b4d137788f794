/// Reads the `.cfg` format (documented in `grammars/README.md`) into a validated ``Grammar``.
///
/// Every problem is reported as a ``GrammarDiagnostic`` naming file, line and column; nothing in the input can make
/// the reader crash or recurse (it works line by line, and all later analysis is iterative).
public enum GrammarReader {
    /// How far a weight sum may stray from 1 before it is an error (the weights are then normalised exactly).
    public static let weightSumTolerance = 1e-6

    /// Reads and validates the grammar in the file at `path` (`-` reads standard input). A file that cannot be
    /// read is reported at line 1, column 1 with the reason ("cannot read the file: no such file").
    public static func read(path: String) throws(GrammarError) -> Grammar {
        let bytes: [UInt8]
        do {
            bytes = try readFileBytes(path)
        } catch {
            throw GrammarError(diagnostics: [GrammarDiagnostic(
                .error, at: SourceLocation(file: path, line: 1, column: 1), "cannot read the file: \(error.reason)")])
        }
        return try parse(bytes: bytes, source: path)
    }

    /// Parses and validates grammar text; `source` names it in diagnostics.
    public static func parse(text: String, source: String = "<string>") throws(GrammarError) -> Grammar {
        try parse(bytes: Array(text.utf8), source: source)
    }

    /// Parses and validates UTF-8 bytes; `source` names them in diagnostics.
    public static func parse(bytes: [UInt8], source: String) throws(GrammarError) -> Grammar {
        var parser = LineParser(source: source)
        var lineNumber = 0
        // A UTF-8 byte-order mark is not part of the text.
        var lineStart = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while lineStart <= bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            lineNumber += 1
            if lineStart < lineEnd || lineEnd < bytes.count {
                parser.parseLine(bytes[lineStart..<lineEnd], number: lineNumber)
            }
            if parser.errors.count >= maxReportedErrors { break }
            lineStart = lineEnd + 1
        }
        if !parser.errors.isEmpty { throw GrammarError(diagnostics: parser.errors) }
        return try GrammarBuilder(source: source).build(parser)
    }

    static let maxReportedErrors = 20
}

/// A symbol occurrence as written in the file.
struct RawSymbol {
    let name: String
    let location: SourceLocation
}

/// One alternative as written: `lhs -> rhs [weight]`.
struct RawRule {
    let lhs: RawSymbol
    let rhs: [RawSymbol]
    let weight: Double?
}

/// Splits lines into tokens and rules; collects syntax errors (one per line at most).
struct LineParser {
    let source: String
    var rules: [RawRule] = []
    var start: RawSymbol?
    var errors: [GrammarDiagnostic] = []
    private var previousLHS: RawSymbol?

    init(source: String) { self.source = source }

    private struct Token {
        let text: String
        let column: Int
    }

    private struct SyntaxError: Error {
        let column: Int
        let message: String
    }

    mutating func parseLine(_ bytes: ArraySlice<UInt8>, number: Int) {
        do {
            let tokens = try tokenize(bytes)
            try parseTokens(tokens, line: number, endColumn: (tokens.last.map { $0.column + $0.text.unicodeScalars.count } ?? 1))
        } catch {
            errors.append(GrammarDiagnostic(.error, at: location(number, error.column), error.message))
        }
    }

    private func location(_ line: Int, _ column: Int) -> SourceLocation {
        SourceLocation(file: source, line: line, column: column)
    }

    /// Decodes one line as UTF-8 and splits it at white space; a token that starts with `#` begins a comment.
    private func tokenize(_ bytes: ArraySlice<UInt8>) throws(SyntaxError) -> [Token] {
        var tokens: [Token] = []
        var current = String.UnicodeScalarView()
        var currentColumn = 0
        var column = 0
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var inComment = false
        func flush() {
            if !current.isEmpty { tokens.append(Token(text: String(current), column: currentColumn)) }
            current = String.UnicodeScalarView()
        }
        decoding: while true {
            switch decoder.decode(&iterator) {
            case .emptyInput:
                break decoding
            case .error:
                throw SyntaxError(column: column + 1, message: "the file is not valid UTF-8 text (invalid byte here)")
            case .scalarValue(let scalar):
                column += 1
                if inComment && !["\t", "\r", "\u{0B}", "\u{0C}"].contains(scalar) && (scalar.value < 0x20 || scalar.value == 0x7F) {
                    throw SyntaxError(column: column, message: "unexpected control character U+\(hex4(scalar.value))")
                }
                if inComment { continue }
                switch scalar {
                case " ", "\t", "\r", "\u{0B}", "\u{0C}":
                    flush()
                case "#" where current.isEmpty:
                    inComment = true  // the rest of the line is a comment, but must still be valid text
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        throw SyntaxError(column: column, message: "unexpected control character U+\(hex4(scalar.value))")
                    }
                    if current.isEmpty { currentColumn = column }
                    current.append(scalar)
                }
            }
        }
        flush()
        return tokens
    }

    private static func isWeight(_ token: String) -> Bool {
        token.unicodeScalars.count > 2 && token.unicodeScalars.first == "[" && token.unicodeScalars.last == "]"
    }

    private mutating func parseTokens(_ tokens: [Token], line: Int, endColumn: Int) throws(SyntaxError) {
        guard let first = tokens.first else { return }
        if first.text == "start:" {
            guard tokens.count >= 2 else {
                throw SyntaxError(column: endColumn, message: "expected a symbol after 'start:'")
            }
            guard tokens.count == 2 else {
                throw SyntaxError(column: tokens[2].column, message: "expected the end of the line after 'start: \(tokens[1].text)'")
            }
            try checkSymbol(tokens[1])
            if let previous = start {
                throw SyntaxError(column: first.column, message: "a second 'start:' line (the first is at line \(previous.location.line))")
            }
            start = RawSymbol(name: tokens[1].text, location: location(line, tokens[1].column))
            return
        }
        let lhs: RawSymbol
        let body: ArraySlice<Token>
        if first.text == "|" {
            guard let previous = previousLHS else {
                throw SyntaxError(column: first.column, message: "a line that starts with '|' continues a rule, but no rule comes before it")
            }
            lhs = previous
            body = tokens[1...]
        } else {
            try checkSymbol(first)
            guard tokens.count >= 2 else {
                throw SyntaxError(column: endColumn, message: "expected '->' after the left-hand side '\(first.text)'")
            }
            guard tokens[1].text == "->" else {
                throw SyntaxError(column: tokens[1].column, message: "expected '->' after the left-hand side '\(first.text)', found '\(tokens[1].text)'")
            }
            lhs = RawSymbol(name: first.text, location: location(line, first.column))
            body = tokens[2...]
        }
        // Split the body into alternatives at '|'.
        var alternative: [RawSymbol] = []
        var weight: Double?
        var parsed: [RawRule] = []
        func finishAlternative(at column: Int) throws(SyntaxError) {
            guard !alternative.isEmpty else {
                throw SyntaxError(column: column, message: "expected at least one symbol in this right-hand side (empty rules are not supported)")
            }
            parsed.append(RawRule(lhs: lhs, rhs: alternative, weight: weight))
            alternative = []
            weight = nil
        }
        for token in body {
            if token.text == "|" {
                try finishAlternative(at: token.column)
                continue
            }
            if weight != nil {
                throw SyntaxError(column: token.column, message: "expected '|' or the end of the line after a weight; a weight [p] must end its alternative")
            }
            if token.text == "->" {
                throw SyntaxError(column: token.column, message: "unexpected '->' in a right-hand side (write one rule per line)")
            }
            if Self.isWeight(token.text) {
                guard !alternative.isEmpty else {
                    throw SyntaxError(column: token.column, message: "expected a symbol before the weight \(token.text)")
                }
                let inner = String(String.UnicodeScalarView(token.text.unicodeScalars.dropFirst().dropLast()))
                if let problem = Self.weightProblem(inner) {
                    throw SyntaxError(column: token.column, message: "expected a probability in (0, 1] like [0.25], found '\(token.text)': \(problem)")
                }
                weight = Double(inner)!
                continue
            }
            alternative.append(RawSymbol(name: token.text, location: location(line, token.column)))
        }
        try finishAlternative(at: endColumn)
        rules.append(contentsOf: parsed)
        previousLHS = lhs
    }

    /// Why the text between a weight's brackets is not a probability in (0, 1], or nil when it is one.
    static func weightProblem(_ inner: String) -> String? {
        let isDecimal = inner.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "-" || $0 == "+") }
        guard isDecimal, let value = Double(inner) else {
            return "not a number (a weight is a decimal number such as 0.25 or 2.5e-1)"
        }
        if value < 0 || (value == 0 && inner.hasPrefix("-")) { return "a probability cannot be negative" }
        if value == 0 {
            // "1e-400" is positive but rounds to 0; "0" and "0.0" are zero.
            let mantissa = inner.prefix { $0 != "e" && $0 != "E" }
            if mantissa.contains(where: { $0 >= "1" && $0 <= "9" }) {
                return "too small to represent: it rounds to 0 (the smallest positive weight is about 5e-324)"
            }
            return "a rule of weight 0 can never be used: remove it"
        }
        if value > 1 {
            return "a probability cannot exceed 1 (the weights of one nonterminal's rules are probabilities that sum to 1)"
        }
        return nil
    }

    private func checkSymbol(_ token: Token) throws(SyntaxError) {
        if token.text == "->" || token.text == "|" {
            throw SyntaxError(column: token.column, message: "expected a symbol name, found '\(token.text)'")
        }
        if Self.isWeight(token.text) {
            throw SyntaxError(column: token.column, message: "expected a symbol name, found the weight '\(token.text)'")
        }
    }
}

/// Turns parsed lines into a ``Grammar``: names to ids, duplicate and weight checks, then semantic validation.
struct GrammarBuilder {
    let source: String

    func build(_ parsed: LineParser) throws(GrammarError) -> Grammar {
        guard !parsed.rules.isEmpty else {
            throw GrammarError(diagnostics: [GrammarDiagnostic(
                .error, at: SourceLocation(file: source, line: 1, column: 1),
                "empty grammar: expected at least one rule like 'S -> a S b'")])
        }
        var errors: [GrammarDiagnostic] = []
        // Nonterminals: left-hand sides in order of first appearance.
        var nonterminalIndex: [String: Int] = [:]
        var nonterminals: [String] = []
        var firstRuleLine: [Int] = []
        for rule in parsed.rules where nonterminalIndex[rule.lhs.name] == nil {
            nonterminalIndex[rule.lhs.name] = nonterminals.count
            nonterminals.append(rule.lhs.name)
            firstRuleLine.append(rule.lhs.location.line)
        }
        // Terminals: every other symbol; numeric order when all are integers, else order of first appearance.
        var terminals: [String] = []
        var seenTerminals: Set<String> = []
        for rule in parsed.rules {
            for symbol in rule.rhs where nonterminalIndex[symbol.name] == nil && !seenTerminals.contains(symbol.name) {
                seenTerminals.insert(symbol.name)
                terminals.append(symbol.name)
            }
        }
        if !terminals.isEmpty, terminals.allSatisfy(isIntegerName) {
            let firstSeen = Dictionary(uniqueKeysWithValues: terminals.enumerated().map { ($1, $0) })
            terminals.sort { a, b in
                let order = compareIntegerNames(a, b)
                return order != 0 ? order < 0 : firstSeen[a]! < firstSeen[b]!
            }
        }
        let terminalIndex = Dictionary(uniqueKeysWithValues: terminals.enumerated().map { ($1, $0) })

        var start = 0
        if let explicit = parsed.start {
            if let id = nonterminalIndex[explicit.name] {
                start = id
            } else {
                errors.append(GrammarDiagnostic(.error, at: explicit.location,
                    "the start symbol '\(explicit.name)' has no rules (expected a line '\(explicit.name) -> ...')"))
            }
        }

        // Rules with ids; duplicates and weights per left-hand side.
        struct Key: Hashable { let lhs: Int; let rhs: [Symbol] }
        var seen: [Key: Int] = [:]
        var byLHS = [[Int]](repeating: [], count: nonterminals.count)
        var symbolsOf: [[Symbol]] = []
        for (index, rule) in parsed.rules.enumerated() {
            let lhs = nonterminalIndex[rule.lhs.name]!
            let rhs: [Symbol] = rule.rhs.map { symbol in
                if let n = nonterminalIndex[symbol.name] { return .nonterminal(n) }
                return .terminal(terminalIndex[symbol.name]!)
            }
            symbolsOf.append(rhs)
            let key = Key(lhs: lhs, rhs: rhs)
            if let earlier = seen[key] {
                errors.append(GrammarDiagnostic(.error, at: rule.rhs[0].location,
                    "duplicate rule '\(rule.lhs.name) -> \(rule.rhs.map(\.name).joined(separator: " "))' (first at line \(parsed.rules[earlier].rhs[0].location.line))"))
            } else {
                seen[key] = index
            }
            byLHS[lhs].append(index)
        }
        var probabilities = [Double](repeating: 0, count: parsed.rules.count)
        for (lhs, indices) in byLHS.enumerated() {
            let weighted = indices.filter { parsed.rules[$0].weight != nil }
            if weighted.isEmpty {
                for i in indices { probabilities[i] = 1 / Double(indices.count) }
                continue
            }
            if weighted.count != indices.count {
                let bare = indices.first { parsed.rules[$0].weight == nil }!
                errors.append(GrammarDiagnostic(.error, at: parsed.rules[bare].rhs[0].location,
                    "this rule of '\(nonterminals[lhs])' has no weight, but others do (line \(parsed.rules[weighted[0]].rhs[0].location.line)): give every rule of '\(nonterminals[lhs])' a weight, or none"))
                continue
            }
            let sum = indices.reduce(0.0) { $0 + parsed.rules[$1].weight! }
            if abs(sum - 1) > GrammarReader.weightSumTolerance {
                errors.append(GrammarDiagnostic(.error, at: parsed.rules[indices[0]].lhs.location,
                    "the weights of the \(indices.count) rules of '\(nonterminals[lhs])' sum to \(sum), expected 1"))
                continue
            }
            for i in indices { probabilities[i] = parsed.rules[i].weight! / sum }
        }
        if !errors.isEmpty { throw GrammarError(diagnostics: errors.sorted(by: inSourceOrder)) }

        let rules = parsed.rules.indices.map { i in
            Rule(lhs: nonterminalIndex[parsed.rules[i].lhs.name]!, rhs: symbolsOf[i], probability: probabilities[i],
                 location: parsed.rules[i].rhs[0].location)
        }
        let firstLocation = nonterminals.indices.map { n in parsed.rules[byLHS[n][0]].lhs.location }
        var terminalFirstUse = [SourceLocation?](repeating: nil, count: terminals.count)
        for rule in parsed.rules {
            for symbol in rule.rhs {
                if let t = terminalIndex[symbol.name], terminalFirstUse[t] == nil { terminalFirstUse[t] = symbol.location }
            }
        }
        return try GrammarValidator.validate(terminals: terminals, nonterminals: nonterminals, rules: rules,
                                             start: start, source: source, definedAt: firstLocation,
                                             terminalFirstUse: terminalFirstUse.map { $0! })
    }
}

func hex4(_ value: UInt32) -> String {
    let code = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - code.count)) + code
}

/// Whether a name is an integer: an optional sign and decimal digits (any length).
func isIntegerName(_ name: String) -> Bool {
    let digits = name.first == "-" || name.first == "+" ? name.dropFirst() : Substring(name)
    return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
}

/// Numeric comparison of two integer names of any length: negative, zero or positive.
func compareIntegerNames(_ a: String, _ b: String) -> Int {
    func split(_ s: String) -> (negative: Bool, digits: Substring) {
        let negative = s.first == "-"
        var digits = s.first == "-" || s.first == "+" ? s.dropFirst() : Substring(s)
        while digits.count > 1 && digits.first == "0" { digits = digits.dropFirst() }
        return (negative && digits != "0", digits)
    }
    let (x, y) = (split(a), split(b))
    if x.negative != y.negative { return x.negative ? -1 : 1 }
    var magnitude = x.digits.count != y.digits.count ? (x.digits.count < y.digits.count ? -1 : 1)
        : (x.digits == y.digits ? 0 : (x.digits < y.digits ? -1 : 1))
    if x.negative { magnitude = -magnitude }
    return magnitude
}
