import Foundation
import Grammar
import SeededRandom
import XCTest

/// The package's root folder (tests read the bundled grammars from grammars/).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func bundledGrammar(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Grammar {
    try GrammarReader.read(path: packageRoot.appendingPathComponent("grammars/\(name).cfg").path)
}

func grammar(_ text: String) throws -> Grammar { try GrammarReader.parse(text: text, source: "test") }

/// Every bundled grammar's name (without .cfg).
var bundledGrammarNames: [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("grammars").path))?
        .filter { $0.hasSuffix(".cfg") }.map { String($0.dropLast(4)) }.sorted() ?? []
}

/// An independent recognizer for the tests: memoised top-down search over the original rules (no normal form, no
/// probabilities). `ends(A, i)` is the set of j such that A derives string[i..<j]. Only for grammars without left
/// recursion or unit cycles (the cfg3 family and the generated ones), where the recursion is bounded by the depth.
struct ReferenceRecognizer {
    let grammar: Grammar
    let string: [Int]
    private var memo: [Int: Set<Int>] = [:]

    init(grammar: Grammar, string: [Int]) {
        self.grammar = grammar
        self.string = string
    }

    static func accepts(_ grammar: Grammar, _ string: [Int]) -> Bool {
        var recognizer = ReferenceRecognizer(grammar: grammar, string: string)
        return recognizer.ends(grammar.start, 0).contains(string.count)
    }

    mutating func ends(_ a: Int, _ i: Int) -> Set<Int> {
        let key = a * (string.count + 1) + i
        if let known = memo[key] { return known }
        var result: Set<Int> = []
        for rule in grammar.rules[grammar.rulesOf[a]] {
            var positions: Set<Int> = [i]
            for symbol in rule.rhs {
                var next: Set<Int> = []
                for p in positions {
                    switch symbol {
                    case .terminal(let t): if p < string.count && string[p] == t { next.insert(p + 1) }
                    case .nonterminal(let b): next.formUnion(ends(b, p))
                    }
                }
                positions = next
                if positions.isEmpty { break }
            }
            result.formUnion(positions)
        }
        memo[key] = result
        return result
    }
}

/// All terminal strings of length <= maxLength with their total probability and number of leftmost derivations,
/// by exhaustive expansion of leftmost derivations (the brute-force reference for the inside algorithm).
/// Derivations whose probability falls below `cutoff` are dropped (needed only with unit cycles).
func enumerateStrings(_ grammar: Grammar, maxLength: Int, cutoff: Double = 0) -> [[Int]: (probability: Double, parses: Int)] {
    var table: [[Int]: (probability: Double, parses: Int)] = [:]
    // A sentential form: emitted prefix, then the symbols still to expand (front first).
    var work: [(prefix: [Int], rest: [Symbol], probability: Double)] = [([], [.nonterminal(grammar.start)], 1)]
    while var item = work.popLast() {
        // Emit leading terminals.
        while let first = item.rest.first, case .terminal(let t) = first {
            item.prefix.append(t)
            item.rest.removeFirst()
        }
        if item.prefix.count + item.rest.count > maxLength { continue }
        guard let first = item.rest.first, case .nonterminal(let a) = first else {
            let old = table[item.prefix] ?? (0, 0)
            table[item.prefix] = (old.probability + item.probability, old.parses + 1)
            continue
        }
        for rule in grammar.rules[grammar.rulesOf[a]] {
            let p = item.probability * rule.probability
            if p < cutoff { continue }
            work.append((item.prefix, rule.rhs + item.rest.dropFirst(), p))
        }
    }
    return table
}
