import Foundation
import XCTest
import Grammar

final class GrammarGeneratorTests: XCTestCase {
    private let cfg3fLike = LayeredGrammarSpec(levels: 5, width: 3, rulesPerNonterminal: 3...4, terminals: 3, seed: 7)

    private let specs: [LayeredGrammarSpec] = [
        LayeredGrammarSpec(levels: 1, width: 1, rulesPerNonterminal: 1...1, terminals: 1, seed: 0),
        LayeredGrammarSpec(levels: 3, width: 3, rulesPerNonterminal: 2...3, terminals: 3, seed: 1),
        LayeredGrammarSpec(levels: 4, width: 4, rulesPerNonterminal: 2...3, terminals: 4, seed: 2),
        LayeredGrammarSpec(levels: 5, width: 3, rulesPerNonterminal: 3...4, terminals: 3, seed: 3),
        LayeredGrammarSpec(levels: 2, width: 6, rulesPerNonterminal: 3...4, rhsLength: 1...3, terminals: 10, seed: 4),
        // Tight: the root has just enough slots (2 x 2 = 4) for the 4 level-1 nonterminals.
        LayeredGrammarSpec(levels: 2, width: 4, rulesPerNonterminal: 2...2, rhsLength: 2...2, terminals: 2, seed: 5),
        // Tight: every distinct right-hand side (2 + 4 = 6 over 2 terminals) must be used by each nonterminal.
        LayeredGrammarSpec(levels: 1, width: 2, rulesPerNonterminal: 6...6, rhsLength: 1...2, terminals: 2, seed: 6),
    ]

    func testSameSeedGivesSameText() throws {
        XCTAssertEqual(try GrammarGenerator.generate(cfg3fLike), try GrammarGenerator.generate(cfg3fLike))
    }

    func testDifferentSeedsGiveDifferentGrammars() throws {
        var texts: Set<String> = []
        for seed in UInt64(0)..<8 {
            var spec = cfg3fLike
            spec.seed = seed
            texts.insert(try rulesOnly(GrammarGenerator.generate(spec)))
        }
        XCTAssertEqual(texts.count, 8)
    }

    func testHeaderHoldsTheReproducingCommand() throws {
        let text = try GrammarGenerator.generate(cfg3fLike)
        XCTAssertEqual(cfg3fLike.commandLine,
                       "cfg-run generate --levels 5 --width 3 --rules 3-4 --rhs 2-3 --terminals 3 --seed 7")
        XCTAssertEqual(text.split(separator: "\n").first.map(String.init), "# generated with: " + cfg3fLike.commandLine)
    }

    func testGeneratedGrammarsParseWithoutWarningsAndAreLayered() throws {
        for base in specs {
            for seed in UInt64(0)..<5 {
                var spec = base
                spec.seed = base.seed &* 100 &+ seed
                let text = try GrammarGenerator.generate(spec)
                let grammar: Grammar
                do {
                    grammar = try GrammarReader.parse(text: text, source: "generated")
                } catch {
                    XCTFail("\(spec.commandLine): \(error)\n\(text)")
                    continue
                }
                XCTAssertEqual(grammar.warnings, [], spec.commandLine)
                checkLayered(grammar, spec)
            }
        }
    }

    /// Checks names, levels, rule counts, right-hand-side lengths and duplicates of a generated grammar.
    private func checkLayered(_ grammar: Grammar, _ spec: LayeredGrammarSpec, file: StaticString = #filePath,
                              line: UInt = #line) {
        let context = spec.commandLine
        XCTAssertEqual(grammar.terminals, (1...spec.terminals).map { "\($0)" }, context, file: file, line: line)
        var expectedNames = ["S"]
        for k in 1...spec.levels { expectedNames += (1...spec.width).map { "N\(k)_\($0)" } }
        XCTAssertEqual(grammar.nonterminals, expectedNames, context, file: file, line: line)
        XCTAssertEqual(grammar.nonterminals[grammar.start], "S", context, file: file, line: line)
        func level(_ name: String) -> Int {
            name == "S" ? 0 : Int(name.dropFirst().prefix { $0 != "_" })!
        }
        for a in grammar.nonterminals.indices {
            let rules = grammar.rules[grammar.rulesOf[a]]
            XCTAssertTrue(spec.rulesPerNonterminal.contains(rules.count), "\(context): \(grammar.nonterminals[a]) has \(rules.count) rules", file: file, line: line)
            XCTAssertEqual(Set(rules.map(\.rhs)).count, rules.count, "\(context): duplicate rules", file: file, line: line)
            let k = level(grammar.nonterminals[a])
            for rule in rules {
                XCTAssertTrue(spec.rhsLength.contains(rule.rhs.count), context, file: file, line: line)
                for symbol in rule.rhs {
                    switch symbol {
                    case .terminal:
                        XCTAssertEqual(k, spec.levels, "\(context): a terminal below level \(k)", file: file, line: line)
                    case .nonterminal(let b):
                        XCTAssertEqual(level(grammar.nonterminals[b]), k + 1, context, file: file, line: line)
                    }
                }
            }
        }
    }

    func testArgumentErrors() {
        func message(_ spec: LayeredGrammarSpec) -> String {
            do {
                _ = try GrammarGenerator.generate(spec)
                return "no error"
            } catch {
                return error.message
            }
        }
        let base = LayeredGrammarSpec(levels: 3, width: 3, rulesPerNonterminal: 2...3, terminals: 3, seed: 1)
        var spec = base
        spec.levels = 0
        XCTAssertTrue(message(spec).hasPrefix("--levels: expected at least 1"), message(spec))
        spec = base
        spec.width = 0
        XCTAssertTrue(message(spec).hasPrefix("--width: expected at least 1"), message(spec))
        spec = base
        spec.terminals = -2
        XCTAssertTrue(message(spec).hasPrefix("--terminals: expected at least 1"), message(spec))
        spec = base
        spec.rulesPerNonterminal = 0...2
        XCTAssertTrue(message(spec).hasPrefix("--rules: expected a range R1-R2 with 1 <= R1 <= R2"), message(spec))
        spec = base
        spec.rhsLength = 0...2
        XCTAssertTrue(message(spec).hasPrefix("--rhs: expected a range"), message(spec))
        // Too few distinct right-hand sides: one terminal, length 2 only, but 2 rules per nonterminal.
        spec = LayeredGrammarSpec(levels: 1, width: 2, rulesPerNonterminal: 2...2, rhsLength: 2...2, terminals: 1, seed: 1)
        XCTAssertTrue(message(spec).contains("allows only 1 distinct right-hand side"), message(spec))
        // The root cannot reach 10 level-1 nonterminals with one rule of 2 symbols.
        spec = LayeredGrammarSpec(levels: 1, width: 10, rulesPerNonterminal: 1...1, rhsLength: 2...2, terminals: 1, seed: 1)
        XCTAssertTrue(message(spec).contains("the root S can use at most 2 symbols"), message(spec))
        spec = LayeredGrammarSpec(levels: 1_000_000, width: 1_000_000, rulesPerNonterminal: 1...1, terminals: 3, seed: 1)
        XCTAssertTrue(message(spec).contains("too large"), message(spec))
        spec = LayeredGrammarSpec(levels: 1, width: 1, rulesPerNonterminal: 1...1, rhsLength: 1...Int.max, terminals: 1, seed: 1)
        XCTAssertTrue(message(spec).contains("too large"), message(spec))
    }

    func testParseRange() throws {
        XCTAssertEqual(try LayeredGrammarSpec.parseRange("2-3", option: "--rules"), 2...3)
        XCTAssertEqual(try LayeredGrammarSpec.parseRange("4", option: "--rules"), 4...4)
        for bad in ["3-2", "", "-", "a-b", "2-", "-1", "1-2-3", "+1", "2 - 3", "99999999999999999999"] {
            XCTAssertThrowsError(try LayeredGrammarSpec.parseRange(bad, option: "--rules"), bad) { error in
                XCTAssertTrue((error as! GrammarGeneratorError).message.hasPrefix("--rules: expected"))
            }
        }
    }

    /// `grammars/` beside `Tests/`.
    private var grammarsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("grammars")
    }

    /// Each bundled `gen-*.cfg` is exactly what the command in its first line generates.
    func testBundledGeneratedGrammarsMatchTheirCommand() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: grammarsDirectory.path)
            .filter { $0.hasPrefix("gen-") && $0.hasSuffix(".cfg") }.sorted()
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let text = try String(contentsOf: grammarsDirectory.appendingPathComponent(file), encoding: .utf8)
            let prefix = "# generated with: cfg-run generate "
            let firstLine = String(text.prefix { $0 != "\n" })
            guard firstLine.hasPrefix(prefix) else {
                XCTFail("\(file): expected a first line '\(prefix)...'")
                continue
            }
            let words = firstLine.dropFirst(prefix.count).split(separator: " ").map(String.init)
            var options: [String: String] = [:]
            for i in stride(from: 0, to: words.count - 1, by: 2) { options[words[i]] = words[i + 1] }
            let spec = LayeredGrammarSpec(
                levels: Int(options["--levels"]!)!, width: Int(options["--width"]!)!,
                rulesPerNonterminal: try LayeredGrammarSpec.parseRange(options["--rules"]!, option: "--rules"),
                rhsLength: try LayeredGrammarSpec.parseRange(options["--rhs"] ?? "2-3", option: "--rhs"),
                terminals: Int(options["--terminals"]!)!, seed: UInt64(options["--seed"]!)!)
            XCTAssertEqual(spec.commandLine, String(firstLine.dropFirst("# generated with: ".count)), file)
            XCTAssertEqual(try GrammarGenerator.generate(spec), text, file)
        }
    }

    /// Every bundled grammar reads without errors or warnings.
    func testBundledGrammarsRead() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: grammarsDirectory.path)
            .filter { $0.hasSuffix(".cfg") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 12)
        for file in files {
            do {
                let grammar = try GrammarReader.read(path: grammarsDirectory.appendingPathComponent(file).path)
                XCTAssertEqual(grammar.warnings, [], file)
            } catch {
                XCTFail("\(file): \(error)")
            }
        }
    }

    private func rulesOnly(_ text: String) -> String {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
    }
}
