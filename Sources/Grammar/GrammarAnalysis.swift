import Files
import Foundation

/// Exact properties of a grammar computed by dynamic programming over its rules (no sampling).
///
/// All algorithms are iterative and near-linear in the grammar's size, except the expected length of a recursive
/// component, which solves a dense linear system the size of that component (capped by
/// ``GrammarAnalysis/maxRecursiveComponent``).
public enum GrammarAnalysis {
    /// The largest set of mutually recursive nonterminals whose expected lengths are solved exactly.
    public static let maxRecursiveComponent = 2000

    /// Nonterminals that derive at least one finite terminal string.
    static func productive(ruleRHS: [[Symbol]], lhs: [Int], nonterminalCount: Int) -> [Bool] {
        var productive = [Bool](repeating: false, count: nonterminalCount)
        var missing = ruleRHS.map { rhs in rhs.reduce(0) { if case .nonterminal = $1 { return $0 + 1 } else { return $0 } } }
        var uses = [[Int]](repeating: [], count: nonterminalCount)
        for (r, rhs) in ruleRHS.enumerated() {
            for case .nonterminal(let b) in rhs { uses[b].append(r) }
        }
        var queue: [Int] = []
        for r in ruleRHS.indices where missing[r] == 0 && !productive[lhs[r]] {
            productive[lhs[r]] = true
            queue.append(lhs[r])
        }
        while let b = queue.popLast() {
            for r in uses[b] {
                missing[r] -= 1
                if missing[r] == 0 && !productive[lhs[r]] {
                    productive[lhs[r]] = true
                    queue.append(lhs[r])
                }
            }
        }
        return productive
    }

    /// Nonterminals reachable from `start`.
    static func reachable(adjacency: [[Int]], start: Int) -> [Bool] {
        var seen = [Bool](repeating: false, count: adjacency.count)
        seen[start] = true
        var queue = [start]
        while let a = queue.popLast() {
            for b in adjacency[a] where !seen[b] {
                seen[b] = true
                queue.append(b)
            }
        }
        return seen
    }

    /// Edges A -> B for every nonterminal B in a rule of A (duplicates removed).
    static func dependencyGraph(_ grammar: Grammar) -> [[Int]] {
        dependencyGraph(rules: grammar.rules.map { ($0.lhs, $0.rhs) }, count: grammar.nonterminals.count)
    }

    static func dependencyGraph(rules: [(Int, [Symbol])], count: Int) -> [[Int]] {
        var adjacency = [Set<Int>](repeating: [], count: count)
        for (lhs, rhs) in rules {
            for case .nonterminal(let b) in rhs { adjacency[lhs].insert(b) }
        }
        return adjacency.map { $0.sorted() }
    }

    /// The length of the shortest string each nonterminal derives (Knuth's generalisation of Dijkstra's algorithm).
    /// Lengths beyond the range of `Double` are `+infinity`.
    public static func minLengths(_ grammar: Grammar) -> [Double] {
        let n = grammar.nonterminals.count
        var best = [Double](repeating: .infinity, count: n)
        var done = [Bool](repeating: false, count: n)
        var missing = [Int](repeating: 0, count: grammar.rules.count)
        var partial = [Double](repeating: 0, count: grammar.rules.count)
        var uses = [[Int]](repeating: [], count: n)
        var heap = MinHeap()
        for (r, rule) in grammar.rules.enumerated() {
            for symbol in rule.rhs {
                switch symbol {
                case .terminal: partial[r] += 1
                case .nonterminal(let b): missing[r] += 1; uses[b].append(r)
                }
            }
            if missing[r] == 0 { heap.push(partial[r], rule.lhs) }
        }
        while let (length, a) = heap.pop() {
            if done[a] { continue }
            done[a] = true
            best[a] = length
            for r in uses[a] {
                partial[r] += length
                missing[r] -= 1
                if missing[r] == 0 && !done[grammar.rules[r].lhs] { heap.push(partial[r], grammar.rules[r].lhs) }
            }
        }
        return best
    }

    /// The length of the longest string each nonterminal derives; `+infinity` where it is unbounded (a recursive
    /// component with a rule that grows the string).
    public static func maxLengths(_ grammar: Grammar) -> [Double] {
        let n = grammar.nonterminals.count
        var component = [Int](repeating: 0, count: n)
        let components = stronglyConnectedComponents(dependencyGraph(grammar))
        for (c, members) in components.enumerated() { for a in members { component[a] = c } }
        var best = [Double](repeating: 0, count: n)
        for (c, members) in components.enumerated() {
            var value = 0.0
            for a in members {
                for rule in grammar.rules[grammar.rulesOf[a]] {
                    var total = 0.0
                    for symbol in rule.rhs {
                        switch symbol {
                        case .terminal: total += 1
                        case .nonterminal(let b) where component[b] == c:
                            // Inside the component: a unit rule only moves within it; any other rule pumps.
                            total = rule.rhs.count == 1 ? total : .infinity
                        case .nonterminal(let b): total += best[b]
                        }
                    }
                    value = max(value, total)
                }
            }
            for a in members { best[a] = value }
        }
        return best
    }

    /// The expected length of the string each nonterminal derives under the grammar's rule probabilities, or the
    /// nonterminals of the first recursive component whose expected length is infinite.
    public static func expectedLengths(_ grammar: Grammar) -> Result<[Double], InfiniteExpectation> {
        expectedLengths(rules: grammar.rules, rulesOf: grammar.rulesOf, count: grammar.nonterminals.count)
    }

    /// The expected length of the grammar's strings (of its start symbol), in terminals: finite for every
    /// ``Grammar`` value, which is validated to have one.
    public static func expectedLength(of grammar: Grammar) -> Double {
        guard case .success(let expected) = expectedLengths(grammar) else {
            preconditionFailure("a Grammar value always has a finite expected length")
        }
        return expected[grammar.start]
    }

    /// Why a grammar's expected length could not be computed.
    public struct InfiniteExpectation: Error {
        /// The nonterminals of the recursive component at fault.
        public let component: [Int]
        public let reason: Reason
        public enum Reason: Sendable {
            /// The recursive rules expand at least as fast as they finish (spectral radius >= 1).
            case divergent
            /// The component is too large to solve (see ``maxRecursiveComponent``): not proven infinite.
            case tooLarge
            /// Finite, but beyond the range of `Double` (e.g. a long chain of doubling rules).
            case overflow
        }
    }

    static func expectedLengths(rules: [Rule], rulesOf: [Range<Int>], count n: Int) -> Result<[Double], InfiniteExpectation> {
        let components = stronglyConnectedComponents(
            dependencyGraph(rules: rules.map { ($0.lhs, $0.rhs) }, count: n))
        var expected = [Double](repeating: 0, count: n)
        var slot = [Int](repeating: -1, count: n)
        for members in components {
            for (i, a) in members.enumerated() { slot[a] = i }
            defer { for a in members { slot[a] = -1 } }
            let k = members.count
            let recursive = k > 1 || rules[rulesOf[members[0]]].contains { rule in
                rule.rhs.contains(.nonterminal(members[0]))
            }
            if recursive && k > maxRecursiveComponent {
                return .failure(InfiniteExpectation(component: members, reason: .tooLarge))
            }
            var m = recursive ? [Double](repeating: 0, count: k * k) : []
            var b = [Double](repeating: 0, count: k)
            for (i, a) in members.enumerated() {
                for rule in rules[rulesOf[a]] {
                    for symbol in rule.rhs {
                        switch symbol {
                        case .terminal: b[i] += rule.probability
                        case .nonterminal(let c) where slot[c] >= 0: m[i * k + slot[c]] += rule.probability
                        case .nonterminal(let c): b[i] += rule.probability * expected[c]
                        }
                    }
                }
            }
            if !b.allSatisfy(\.isFinite) {
                return .failure(InfiniteExpectation(component: members, reason: .overflow))
            }
            if !recursive {
                expected[members[0]] = b[0]
                continue
            }
            guard let solution = solveIdentityMinus(m, b, size: k) else {
                return .failure(InfiniteExpectation(component: members, reason: .divergent))
            }
            for (i, a) in members.enumerated() { expected[a] = solution[i] }
        }
        return .success(expected)
    }
}

/// Semantic checks that every ``Grammar`` passes: productive nonterminals, finite expected length; warnings for
/// unreachable symbols.
enum GrammarValidator {
    static func validate(terminals: [String], nonterminals: [String], rules: [Rule], start: Int, source: String,
                         definedAt: [SourceLocation], terminalFirstUse: [SourceLocation]) throws(GrammarError) -> Grammar {
        let n = nonterminals.count
        let productive = GrammarAnalysis.productive(ruleRHS: rules.map(\.rhs), lhs: rules.map(\.lhs), nonterminalCount: n)
        var errors: [GrammarDiagnostic] = []
        for a in 0..<n where !productive[a] {
            let culprits = Set(rules.filter { $0.lhs == a }.flatMap { rule in
                rule.rhs.compactMap { symbol -> String? in
                    if case .nonterminal(let b) = symbol, !productive[b] { return nonterminals[b] }
                    return nil
                }
            }).sorted()
            errors.append(GrammarDiagnostic(.error, at: definedAt[a],
                "'\(nonterminals[a])' derives no finite string: every rule of it uses a nonterminal that never finishes (\(culprits.prefix(5).map { "'\($0)'" }.joined(separator: ", ")))"))
        }
        if !errors.isEmpty { throw GrammarError(diagnostics: errors.sorted(by: inSourceOrder)) }

        var warnings: [GrammarDiagnostic] = []
        let adjacency = GrammarAnalysis.dependencyGraph(rules: rules.map { ($0.lhs, $0.rhs) }, count: n)
        let reachable = GrammarAnalysis.reachable(adjacency: adjacency, start: start)
        for a in 0..<n where !reachable[a] {
            warnings.append(GrammarDiagnostic(.warning, at: definedAt[a],
                "'\(nonterminals[a])' is unreachable from the start symbol '\(nonterminals[start])'"))
        }
        var terminalReachable = [Bool](repeating: false, count: terminals.count)
        for rule in rules where reachable[rule.lhs] {
            for case .terminal(let t) in rule.rhs { terminalReachable[t] = true }
        }
        for t in terminals.indices where !terminalReachable[t] {
            warnings.append(GrammarDiagnostic(.warning, at: terminalFirstUse[t],
                "terminal '\(terminals[t])' is used only by unreachable rules"))
        }

        let grammar = Grammar(terminals: terminals, nonterminals: nonterminals, rules: rules, start: start,
                              source: source, warnings: warnings.sorted(by: inSourceOrder))
        if case .failure(let failure) = GrammarAnalysis.expectedLengths(grammar) {
            let names = failure.component.prefix(5).map { "'\(nonterminals[$0])'" }.joined(separator: ", ")
            let location = definedAt[failure.component.min()!]
            let message: String
            switch failure.reason {
            case .tooLarge:
                message = "\(failure.component.count) mutually recursive nonterminals (\(names), ...) are more than the \(GrammarAnalysis.maxRecursiveComponent) whose expected length can be computed exactly"
            case .overflow:
                message = "the expected string length of \(names) is finite but too large to represent (over 1.8e308 symbols)"
            case .divergent:
                message = "the expected string length is infinite: the recursive rules of \(names) expand at least as fast as they finish, so sampling would not terminate; give the recursive rules less weight (e.g. 'S -> a S [0.4] | b [0.6]')"
            }
            throw GrammarError(diagnostics: [GrammarDiagnostic(.error, at: location, message)])
        }
        return grammar
    }
}

/// The bytes of the file at `path`, or of standard input for `-`; at most 1 GiB (no grammar is that large, and
/// an endless stream given by mistake must not fill the memory).
func readFileBytes(_ path: String) throws(FileReading.Failure) -> [UInt8] {
    try FileReading.contents(ofFile: path == "-" ? "/dev/stdin" : path, limit: 1 << 30)
}

func inSourceOrder(_ a: GrammarDiagnostic, _ b: GrammarDiagnostic) -> Bool {
    (a.location.line, a.location.column) < (b.location.line, b.location.column)
}
