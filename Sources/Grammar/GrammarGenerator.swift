import SeededRandom

/// The shape of a random layered grammar of the cfg3 family (Physics of Language Models, Part 1).
///
/// A layered grammar has a single root symbol, then ``levels`` levels of ``width`` nonterminals each, then
/// ``terminals`` terminals. Every right-hand side draws all its symbols from the level directly below its left-hand
/// side (the root draws from level 1, level `levels` draws from the terminals), so the grammar is not recursive and
/// every nonterminal is productive. The paper's cfg3f has this shape with `levels: 5, width: 3, terminals: 3`,
/// `rulesPerNonterminal: 3...4` and `rhsLength: 2...3`.
///
/// Symbol names in the generated text:
/// - the root is `S`;
/// - the `i`-th nonterminal (1-based) of level `k` (1 = just below the root) is `N<k>_<i>`, e.g. `N1_1`, `N5_3`;
/// - terminals are the integers `1` ... `terminals`, so the reader orders them numerically (terminal id = name - 1).
public struct LayeredGrammarSpec: Sendable, Hashable {
    /// Number of levels of ``width`` nonterminals below the root (the root level itself is not counted).
    public var levels: Int
    /// Nonterminals per level (below the root).
    public var width: Int
    /// How many rules each nonterminal (the root included) gets, drawn uniformly from this range.
    public var rulesPerNonterminal: ClosedRange<Int>
    /// How many symbols each right-hand side has, drawn uniformly from this range.
    public var rhsLength: ClosedRange<Int>
    /// Number of terminals.
    public var terminals: Int
    /// The seed of the ``SeededGenerator`` that makes every random choice.
    public var seed: UInt64

    public init(levels: Int, width: Int, rulesPerNonterminal: ClosedRange<Int>, rhsLength: ClosedRange<Int> = 2...3,
                terminals: Int, seed: UInt64) {
        self.levels = levels
        self.width = width
        self.rulesPerNonterminal = rulesPerNonterminal
        self.rhsLength = rhsLength
        self.terminals = terminals
        self.seed = seed
    }

    /// The `cfg-run generate` command line that reproduces this grammar (every option spelled out, ranges as `A-B`).
    public var commandLine: String {
        "cfg-run generate --levels \(levels) --width \(width) --rules \(Self.format(rulesPerNonterminal))"
            + " --rhs \(Self.format(rhsLength)) --terminals \(terminals) --seed \(seed)"
    }

    /// Parses a range option as written on the command line: `A-B` (with `A <= B`) or a single number `N` (= `N-N`).
    /// `option` names the option in the error message, e.g. `--rules`.
    public static func parseRange(_ text: String, option: String) throws(GrammarGeneratorError) -> ClosedRange<Int> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        let numbers = parts.map { part -> Int? in
            guard !part.isEmpty, part.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(part)
        }
        guard (numbers.count == 1 || numbers.count == 2), let low = numbers.first!, let high = numbers.last! else {
            throw GrammarGeneratorError("\(option): expected a number N or a range A-B of non-negative integers (like 2-3), found '\(text)'")
        }
        guard low <= high else {
            throw GrammarGeneratorError("\(option): expected a range A-B with A <= B, found '\(text)'")
        }
        return low...high
    }

    static func format(_ range: ClosedRange<Int>) -> String { "\(range.lowerBound)-\(range.upperBound)" }
}

/// Why a layered grammar could not be generated (bad arguments, or a shape that cannot be filled).
public struct GrammarGeneratorError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Generates random layered grammars (see ``LayeredGrammarSpec``) as `.cfg` text.
///
/// The procedure, level by level from the root down, with one ``SeededGenerator`` seeded with `spec.seed` (so the
/// text depends only on the spec):
/// 1. For each nonterminal of the level, in name order: draw its rule count `R` uniformly from
///    `rulesPerNonterminal`; for each rule draw a length uniformly from `rhsLength`, then each symbol uniformly from
///    the level below. A right-hand side equal to an earlier one of the same nonterminal is thrown away and redrawn
///    (length and symbols), so a nonterminal never has duplicate rules.
/// 2. **Every symbol of the level below is used.** If the level's right-hand sides have fewer symbol slots in total
///    than the level below has symbols, the whole level is redrawn (step 1). Then, for each unused symbol `u` in
///    order, one slot is chosen uniformly among the slots whose symbol occurs more than once in the level, and `u`
///    replaces it. Such a slot always exists, the replaced symbol stays used, and the rule now holding `u` (which
///    occurs nowhere else) cannot duplicate another rule. So every generated grammar has all its symbols reachable
///    and reads without warnings.
///
/// The text starts with comment lines holding the `cfg-run generate` command that reproduces it, then one line per
/// rule, `S` first, then level 1, 2, ...; rules carry no weights (uniform choice, as in the paper).
public enum GrammarGenerator {
    /// The most right-hand-side symbols a spec may ask for (rules times longest right-hand side, over all levels).
    public static let maxSymbols = 2_000_000
    /// How many times a level is redrawn when it has too few symbol slots to use every symbol of the level below.
    public static let maxLevelDraws = 10_000

    /// Generates the grammar of `spec` as `.cfg` text (see ``GrammarGenerator`` for the procedure).
    public static func generate(_ spec: LayeredGrammarSpec) throws(GrammarGeneratorError) -> String {
        try validate(spec)
        var random = SeededGenerator(seed: spec.seed)
        var names: [[String]] = [["S"]]
        for k in 1...spec.levels {
            names.append((1...spec.width).map { "N\(k)_\($0)" })
        }
        names.append((1...spec.terminals).map { "\($0)" })

        var text = "# generated with: \(spec.commandLine)\n"
        text += "# layered grammar of the cfg3 family (Physics of LMs, Part 1): root S; levels 1..\(spec.levels) of "
            + "\(spec.width) nonterminals N<level>_<i>; terminals 1..\(spec.terminals)\n"
        text += "# every nonterminal has \(LayeredGrammarSpec.format(spec.rulesPerNonterminal)) rules, each of "
            + "\(LayeredGrammarSpec.format(spec.rhsLength)) symbols from the next level down; rules are chosen uniformly\n"
        for level in 0...spec.levels {
            let lhs = names[level]
            let below = names[level + 1]
            let rules = try drawLevel(level: level, count: lhs.count, alphabet: below.count, spec: spec, random: &random)
            text += "\n"
            for (a, ruleList) in rules.enumerated() {
                for rhs in ruleList {
                    text += lhs[a] + " ->"
                    for symbol in rhs { text += " " + below[symbol] }
                    text += "\n"
                }
            }
        }
        return text
    }

    /// Checks the arguments and that the shape can be filled; the messages name the command-line options.
    static func validate(_ spec: LayeredGrammarSpec) throws(GrammarGeneratorError) {
        guard spec.levels >= 1 else {
            throw GrammarGeneratorError("--levels: expected at least 1 level of nonterminals below the root, found \(spec.levels)")
        }
        guard spec.width >= 1 else {
            throw GrammarGeneratorError("--width: expected at least 1 nonterminal per level, found \(spec.width)")
        }
        guard spec.terminals >= 1 else {
            throw GrammarGeneratorError("--terminals: expected at least 1 terminal, found \(spec.terminals)")
        }
        guard spec.rulesPerNonterminal.lowerBound >= 1 else {
            throw GrammarGeneratorError("--rules: expected a range R1-R2 with 1 <= R1 <= R2, found \(LayeredGrammarSpec.format(spec.rulesPerNonterminal))")
        }
        guard spec.rhsLength.lowerBound >= 1 else {
            throw GrammarGeneratorError("--rhs: expected a range A-B of right-hand-side lengths with 1 <= A <= B (empty rules are not supported), found \(LayeredGrammarSpec.format(spec.rhsLength))")
        }
        // Size: (1 + levels * width) nonterminals, each with up to R2 rules of up to rhsLength.upperBound symbols.
        let nonterminals = multiplySaturating(spec.levels, spec.width).addingReportingOverflow(1)
        let symbols = multiplySaturating(multiplySaturating(nonterminals.overflow ? Int.max : nonterminals.partialValue,
                                                            spec.rulesPerNonterminal.upperBound), spec.rhsLength.upperBound)
        guard symbols <= maxSymbols, spec.terminals <= maxSymbols else {
            throw GrammarGeneratorError("the grammar would be too large: (1 + levels x width) x R2 x longest right-hand side = \(symbols == Int.max ? "more than \(Int.max)" : "\(symbols)") symbols (and \(spec.terminals) terminals); expected at most \(maxSymbols)")
        }
        for level in 0...spec.levels {
            let count = level == 0 ? 1 : spec.width
            let alphabet = level == spec.levels ? spec.terminals : spec.width
            let what = level == spec.levels ? "terminal" : "nonterminal"
            let owner = level == 0 ? "the root S" : "level-\(level) nonterminals"
            let distinct = distinctRightHandSides(alphabet: alphabet, lengths: spec.rhsLength)
            if spec.rulesPerNonterminal.upperBound > distinct {
                throw GrammarGeneratorError("--rules \(LayeredGrammarSpec.format(spec.rulesPerNonterminal)) asks for up to \(spec.rulesPerNonterminal.upperBound) distinct rules per nonterminal, but \(owner) draw right-hand sides of length \(LayeredGrammarSpec.format(spec.rhsLength)) from \(alphabet) \(what)\(alphabet == 1 ? "" : "s"), which allows only \(distinct) distinct right-hand side\(distinct == 1 ? "" : "s"); lower --rules or raise --width/--terminals/--rhs")
            }
            let slots = count * spec.rulesPerNonterminal.upperBound * spec.rhsLength.upperBound
            if slots < alphabet {
                throw GrammarGeneratorError("\(owner) can use at most \(slots) symbols (\(count) x up to \(spec.rulesPerNonterminal.upperBound) rules x up to \(spec.rhsLength.upperBound) symbols), fewer than the \(alphabet) \(what)s below them, so some would be unreachable; lower --\(level == spec.levels ? "terminals" : "width") or raise --rules/--rhs")
            }
        }
    }

    /// The number of distinct right-hand sides with lengths in `lengths` over `alphabet` symbols (saturating).
    static func distinctRightHandSides(alphabet: Int, lengths: ClosedRange<Int>) -> Int {
        if alphabet == 1 { return lengths.count }
        var total = 0
        for length in lengths {
            var power = 1
            for _ in 0..<length {
                power = multiplySaturating(power, alphabet)
                if power == Int.max { return Int.max }
            }
            let sum = total.addingReportingOverflow(power)
            if sum.overflow { return Int.max }
            total = sum.partialValue
        }
        return total
    }

    static func multiplySaturating(_ a: Int, _ b: Int) -> Int {
        let product = a.multipliedReportingOverflow(by: b)
        return product.overflow ? Int.max : product.partialValue
    }

    /// Draws the rules of one level: `count` nonterminals over `alphabet` symbols of the level below, without
    /// duplicate rules per nonterminal and using every symbol below (see ``GrammarGenerator``).
    static func drawLevel(level: Int, count: Int, alphabet: Int, spec: LayeredGrammarSpec,
                          random: inout SeededGenerator) throws(GrammarGeneratorError) -> [[[Int]]] {
        for _ in 0..<maxLevelDraws {
            var rules: [[[Int]]] = []
            var slots = 0
            for _ in 0..<count {
                let ruleCount = draw(spec.rulesPerNonterminal, &random)
                var seen: Set<[Int]> = []
                var list: [[Int]] = []
                while list.count < ruleCount {
                    let length = draw(spec.rhsLength, &random)
                    let rhs = (0..<length).map { _ in random.nextInt(below: alphabet) }
                    if seen.insert(rhs).inserted { list.append(rhs) }
                }
                slots += list.reduce(0) { $0 + $1.count }
                rules.append(list)
            }
            guard slots >= alphabet else { continue }
            coverEverySymbol(&rules, alphabet: alphabet, random: &random)
            return rules
        }
        let owner = level == 0 ? "the root S" : "level \(level)"
        throw GrammarGeneratorError("\(owner): no draw in \(maxLevelDraws) had enough right-hand-side symbols to use each of the \(alphabet) symbols below at least once; lower --\(level == spec.levels ? "terminals" : "width") or raise --rules/--rhs")
    }

    /// Puts each unused symbol in place of an occurrence of a symbol that occurs more than once (needs at least
    /// `alphabet` slots in all).
    static func coverEverySymbol(_ rules: inout [[[Int]]], alphabet: Int, random: inout SeededGenerator) {
        var uses = [Int](repeating: 0, count: alphabet)
        for list in rules { for rhs in list { for symbol in rhs { uses[symbol] += 1 } } }
        for unused in 0..<alphabet where uses[unused] == 0 {
            var candidates: [(Int, Int, Int)] = []
            for (a, list) in rules.enumerated() {
                for (r, rhs) in list.enumerated() {
                    for (i, symbol) in rhs.enumerated() where uses[symbol] > 1 { candidates.append((a, r, i)) }
                }
            }
            // Non-empty: there are at least `alphabet` slots and fewer than `alphabet` symbols in use.
            let (a, r, i) = candidates[random.nextInt(below: candidates.count)]
            uses[rules[a][r][i]] -= 1
            rules[a][r][i] = unused
            uses[unused] = 1
        }
    }

    static func draw(_ range: ClosedRange<Int>, _ random: inout SeededGenerator) -> Int {
        range.lowerBound + random.nextInt(below: range.upperBound - range.lowerBound + 1)
    }
}
