import Foundation
import SeededRandom

/// Draws strings from a grammar: each nonterminal picks one of its rules (uniformly, or by the rules' weights)
/// and expands left to right.
///
/// Expansion uses an explicit stack, so recursive grammars cannot overflow the call stack; rules are stored in
/// flat arrays so that sampling runs at tens of millions of terminals per second. Given the same generator state,
/// the output is the same on every machine (all draws are integer or exact conversions; see ``SeededGenerator``).
public struct GrammarSampler: Sendable {
    public let grammar: Grammar
    /// Per nonterminal: first rule index and number of rules.
    private let firstRule: [Int32]
    private let ruleCount: [Int32]
    /// Per nonterminal: whether its rules are chosen uniformly (no weights in the file, or all equal).
    private let uniform: [Bool]
    /// Per rule: cumulative probability up to and including it (within its nonterminal).
    private let cumulative: [Double]
    /// Per rule: range of its right-hand side in `symbols`.
    private let rhsStart: [Int32]
    private let rhsEnd: [Int32]
    /// Right-hand sides, flattened; terminal t is stored as `~t` (negative), nonterminal A as A.
    private let symbols: [Int32]

    public init(grammar: Grammar) {
        self.grammar = grammar
        var firstRule: [Int32] = [], ruleCount: [Int32] = [], uniform: [Bool] = []
        for range in grammar.rulesOf {
            firstRule.append(Int32(range.lowerBound))
            ruleCount.append(Int32(range.count))
            let first = grammar.rules[range.lowerBound].probability
            uniform.append(grammar.rules[range].allSatisfy { $0.probability == first })
        }
        var cumulative: [Double] = [], rhsStart: [Int32] = [], rhsEnd: [Int32] = [], symbols: [Int32] = []
        for range in grammar.rulesOf {
            var running = 0.0
            for r in range {
                running += grammar.rules[r].probability
                cumulative.append(r == range.upperBound - 1 ? 1.0 : running)
                rhsStart.append(Int32(symbols.count))
                for symbol in grammar.rules[r].rhs {
                    switch symbol {
                    case .terminal(let t): symbols.append(~Int32(t))
                    case .nonterminal(let a): symbols.append(Int32(a))
                    }
                }
                rhsEnd.append(Int32(symbols.count))
            }
        }
        (self.firstRule, self.ruleCount, self.uniform) = (firstRule, ruleCount, uniform)
        (self.cumulative, self.rhsStart, self.rhsEnd, self.symbols) = (cumulative, rhsStart, rhsEnd, symbols)
    }

    /// One string of terminal ids.
    public func sample(using generator: inout SeededGenerator) -> [Int] {
        var out: [Int32] = []
        var stack: [Int32] = []
        sample(into: &out, stack: &stack, using: &generator)
        return out.map(Int.init)
    }

    /// `count` strings of terminal ids.
    public func sample(count: Int, using generator: inout SeededGenerator) -> [[Int]] {
        var out: [Int32] = []
        var stack: [Int32] = []
        return (0..<count).map { _ in
            out.removeAll(keepingCapacity: true)
            sample(into: &out, stack: &stack, using: &generator)
            return out.map(Int.init)
        }
    }

    /// Appends one string's terminal ids to `out`; `stack` is scratch space reused between calls.
    public func sample(into out: inout [Int32], stack: inout [Int32], using generator: inout SeededGenerator) {
        stack.removeAll(keepingCapacity: true)
        stack.append(Int32(grammar.start))
        firstRule.withUnsafeBufferPointer { firstRule in
        ruleCount.withUnsafeBufferPointer { ruleCount in
        uniform.withUnsafeBufferPointer { uniform in
        cumulative.withUnsafeBufferPointer { cumulative in
        rhsStart.withUnsafeBufferPointer { rhsStart in
        rhsEnd.withUnsafeBufferPointer { rhsEnd in
        symbols.withUnsafeBufferPointer { symbols in
            while let top = stack.popLast() {
                if top < 0 {
                    out.append(~top)
                    continue
                }
                let a = Int(top)
                var rule = Int(firstRule[a])
                let count = Int(ruleCount[a])
                if count > 1 {
                    if uniform[a] {
                        rule += generator.nextInt(below: count)
                    } else {
                        let u = generator.nextDouble()
                        while cumulative[rule] <= u { rule += 1 }
                    }
                }
                // Push the right-hand side reversed so that its first symbol is expanded first; a terminal
                // at the front is emitted at once, saving a push and a pop.
                var s = Int(rhsEnd[rule]) - 1
                let first = Int(rhsStart[rule])
                while s > first {
                    stack.append(symbols[s])
                    s -= 1
                }
                let head = symbols[first]
                if head < 0 { out.append(~head) } else { stack.append(head) }
            }
        }}}}}}}
    }
}

extension GrammarSampler {
    /// The longest expected string length, in terminals, of a grammar that cfg-run samples from, computes sampled
    /// statistics of, benchmarks or trains on: one million.
    ///
    /// The sampler has no limit of its own: it produces whatever the rules derive. A grammar's expected length is
    /// known exactly (``GrammarAnalysis/expectedLength(of:)``), and past this one every use is hopeless anyway: a
    /// thousand strings are a billion terminals (8 GB as `[Int]`, seconds to minutes to draw), exact parsing stops
    /// well before (``ChartParser/maxWorkCells`` bounds length x normal-form symbols at four million, so a grammar
    /// of 40 normal-form symbols parses strings of up to 100,000 terminals), and no model window holds such a
    /// string. A generated grammar of 30 levels has strings of about 10^12 terminals.
    public static let maximumExpectedLength: Double = 1_000_000

    /// Throws ``ExpectedLengthTooLong`` when the expected length of `grammar`'s strings exceeds `limit` (by default
    /// ``maximumExpectedLength``). Call it before sampling many strings, training or measuring on a grammar; its
    /// description says the expected length, the limit and what to do.
    public static func checkExpectedLength(of grammar: Grammar,
                                           limit: Double = maximumExpectedLength) throws(ExpectedLengthTooLong) {
        let length = GrammarAnalysis.expectedLength(of: grammar)
        if length > limit { throw ExpectedLengthTooLong(source: grammar.source, expectedLength: length, limit: limit) }
    }
}

/// A grammar whose strings are too long to sample or train on (see ``GrammarSampler/checkExpectedLength(of:limit:)``).
public struct ExpectedLengthTooLong: Error, CustomStringConvertible, Sendable {
    /// Where the grammar came from (``Grammar/source``).
    public let source: String
    /// The exact expected string length of the grammar's start symbol, in terminals.
    public let expectedLength: Double
    /// The limit it exceeds.
    public let limit: Double

    public init(source: String, expectedLength: Double, limit: Double) {
        self.source = source
        self.expectedLength = expectedLength
        self.limit = limit
    }

    public var description: String {
        "\(source): the expected string length is \(Self.format(expectedLength)) terminals (exact), over the limit of "
            + "\(Self.format(limit)) (GrammarSampler.maximumExpectedLength): sampling, statistics over samples and "
            + "training would run out of memory and time; use a grammar with shorter strings (for a generated one, "
            + "fewer --levels; for a recursive one, less weight on the rules that grow the string)"
    }

    /// A length as an integer below 10^15, in scientific notation beyond.
    static func format(_ length: Double) -> String {
        length < 1e15 ? String(Int64(length.rounded())) : String(format: "%.3g", length)
    }
}
