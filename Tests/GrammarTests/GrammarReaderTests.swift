import Foundation
import XCTest
import Grammar
import SeededRandom

/// Tests of the `.cfg` reader (`GrammarReader`) against the format described in `grammars/README.md`: the bundled
/// grammars, every format feature, every error and warning (each at its exact line and column), and hostile input.
final class GrammarReaderTests: XCTestCase {
    private static let source = "test.cfg"

    // MARK: - Helpers

    /// Reads `text`, failing the test (and returning nil) if it does not read.
    private func read(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Grammar? {
        do {
            return try GrammarReader.parse(text: text, source: Self.source)
        } catch {
            XCTFail("expected the grammar to read, got:\n\(error)", file: file, line: line)
            return nil
        }
    }

    /// The diagnostics of `bytes`, failing the test if they read.
    private func diagnostics(bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> [GrammarDiagnostic] {
        do {
            let grammar = try GrammarReader.parse(bytes: bytes, source: Self.source)
            XCTFail("expected an error, but the grammar read (\(grammar.rules.count) rules)", file: file, line: line)
            return []
        } catch {
            XCTAssertFalse(error.diagnostics.isEmpty, "a GrammarError without diagnostics", file: file, line: line)
            return error.diagnostics
        }
    }

    private func diagnostics(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [GrammarDiagnostic] {
        diagnostics(bytes: Array(text.utf8), file: file, line: line)
    }

    /// Asserts that `diagnostic` is at `line`:`column` of the test source, has `severity`, and mentions `phrases`.
    private func assertDiagnostic(_ diagnostic: GrammarDiagnostic?, line: Int, column: Int, _ phrases: String...,
                                  severity: GrammarDiagnostic.Severity = .error,
                                  file: StaticString = #filePath, testLine: UInt = #line) {
        guard let diagnostic else {
            XCTFail("missing diagnostic (expected \(line):\(column) \(phrases))", file: file, line: testLine)
            return
        }
        XCTAssertEqual(diagnostic.severity, severity, "\(diagnostic)", file: file, line: testLine)
        XCTAssertEqual(diagnostic.location.file, Self.source, "\(diagnostic)", file: file, line: testLine)
        XCTAssertEqual(diagnostic.location.line, line, "line of \(diagnostic)", file: file, line: testLine)
        XCTAssertEqual(diagnostic.location.column, column, "column of \(diagnostic)", file: file, line: testLine)
        for phrase in phrases {
            XCTAssertTrue(diagnostic.message.contains(phrase), "'\(phrase)' not in \(diagnostic)", file: file, line: testLine)
        }
    }

    /// Asserts that `text` fails with exactly one error, at `line`:`column`, mentioning `phrases`.
    private func assertError(_ text: String, line: Int, column: Int, _ phrases: String...,
                             file: StaticString = #filePath, testLine: UInt = #line) {
        assertSingleError(diagnostics(text, file: file, line: testLine), line: line, column: column, phrases,
                          file: file, testLine: testLine)
    }

    private func assertError(bytes: [UInt8], line: Int, column: Int, _ phrases: String...,
                             file: StaticString = #filePath, testLine: UInt = #line) {
        assertSingleError(diagnostics(bytes: bytes, file: file, line: testLine), line: line, column: column, phrases,
                          file: file, testLine: testLine)
    }

    private func assertSingleError(_ found: [GrammarDiagnostic], line: Int, column: Int, _ phrases: [String],
                                   file: StaticString, testLine: UInt) {
        XCTAssertEqual(found.count, 1, "expected one diagnostic, got:\n\(found.map(\.description).joined(separator: "\n"))",
                       file: file, line: testLine)
        guard let first = found.first else { return }
        XCTAssertEqual(first.severity, .error, "\(first)", file: file, line: testLine)
        XCTAssertEqual(first.location.file, Self.source, "\(first)", file: file, line: testLine)
        XCTAssertEqual(first.location.line, line, "line of \(first)", file: file, line: testLine)
        XCTAssertEqual(first.location.column, column, "column of \(first)", file: file, line: testLine)
        for phrase in phrases {
            XCTAssertTrue(first.message.contains(phrase), "'\(phrase)' not in \(first)", file: file, line: testLine)
        }
    }

    /// The right-hand sides of nonterminal `name`'s rules, as names, with their probabilities.
    private func rules(of name: String, in grammar: Grammar) -> [(rhs: [String], probability: Double)] {
        guard let a = grammar.nonterminals.firstIndex(of: name) else { return [] }
        return grammar.rules[grammar.rulesOf[a]].map { rule in (rule.rhs.map { grammar.name(of: $0) }, rule.probability) }
    }

    /// Asserts that `actual` equals `expected` within 1e-12 (normalisation may move a weight by an ulp).
    private func assertProbabilities(_ actual: [Double], _ expected: [Double],
                                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(actual) vs \(expected)", file: file, line: line)
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(a, e, accuracy: 1e-12, "\(actual) vs \(expected)", file: file, line: line)
        }
    }

    /// Structural invariants every successfully read grammar satisfies.
    private func assertWellFormed(_ grammar: Grammar, _ context: @autoclosure () -> String = "",
                                  file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(grammar.rulesOf.count, grammar.nonterminals.count, context(), file: file, line: line)
        XCTAssertTrue(grammar.nonterminals.indices.contains(grammar.start), context(), file: file, line: line)
        var next = 0
        for (a, range) in grammar.rulesOf.enumerated() {
            XCTAssertEqual(range.lowerBound, next, context(), file: file, line: line)
            XCTAssertFalse(range.isEmpty, "nonterminal \(a) has no rules \(context())", file: file, line: line)
            next = range.upperBound
            var sum = 0.0
            for rule in grammar.rules[range] {
                XCTAssertEqual(rule.lhs, a, context(), file: file, line: line)
                XCTAssertFalse(rule.rhs.isEmpty, context(), file: file, line: line)
                XCTAssertGreaterThan(rule.probability, 0, context(), file: file, line: line)
                for symbol in rule.rhs {
                    switch symbol {
                    case .terminal(let t): XCTAssertTrue(grammar.terminals.indices.contains(t), context(), file: file, line: line)
                    case .nonterminal(let n): XCTAssertTrue(grammar.nonterminals.indices.contains(n), context(), file: file, line: line)
                    }
                }
                sum += rule.probability
            }
            XCTAssertEqual(sum, 1, accuracy: 1e-12, "probabilities of \(grammar.nonterminals[a]) \(context())", file: file, line: line)
        }
        XCTAssertEqual(next, grammar.rules.count, context(), file: file, line: line)
        if case .failure = GrammarAnalysis.expectedLengths(grammar) {
            XCTFail("a grammar was read with an infinite expected length \(context())", file: file, line: line)
        }
    }

    /// The expected length of the start symbol, or nil (with a test failure) if it is not finite.
    private func expectedLength(_ grammar: Grammar, of name: String? = nil,
                                file: StaticString = #filePath, line: UInt = #line) -> Double? {
        guard case .success(let lengths) = GrammarAnalysis.expectedLengths(grammar) else {
            XCTFail("expected length not computed", file: file, line: line)
            return nil
        }
        let a = name.flatMap { grammar.nonterminals.firstIndex(of: $0) } ?? grammar.start
        return lengths[a]
    }

    // MARK: - Bundled grammars

    private static let grammarsFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("grammars")

    private func bundledPath(_ name: String) -> String { Self.grammarsFolder.appendingPathComponent(name).path }

    func testEveryBundledGrammarReadsWithoutWarnings() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.grammarsFolder.path)
            .filter { $0.hasSuffix(".cfg") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 12, "bundled grammars in \(Self.grammarsFolder.path): \(names)")
        for expected in ["cfg3b.cfg", "cfg3f.cfg", "cfg3g.cfg", "cfg3h.cfg", "cfg3i.cfg", "dyck2.cfg", "arith.cfg"] {
            XCTAssertTrue(names.contains(expected), "missing \(expected)")
        }
        for name in names {
            let path = bundledPath(name)
            do {
                let grammar = try GrammarReader.read(path: path)
                XCTAssertEqual(grammar.source, path)
                XCTAssertEqual(grammar.warnings, [], "\(name): \(grammar.warnings)")
                assertWellFormed(grammar, name)
            } catch {
                XCTFail("\(name) does not read:\n\(error)")
            }
        }
    }

    func testCfg3f() throws {
        let grammar = try GrammarReader.read(path: bundledPath("cfg3f.cfg"))
        XCTAssertEqual(grammar.terminals, ["1", "2", "3"])
        XCTAssertEqual(grammar.nonterminals.count, 16)
        XCTAssertEqual(grammar.nonterminals,
                       ["22", "19", "20", "21", "16", "17", "18", "13", "14", "15", "10", "11", "12", "7", "8", "9"])
        XCTAssertEqual(grammar.start, 0)
        XCTAssertEqual(grammar.nonterminals[grammar.start], "22")
        XCTAssertEqual(grammar.rules.count, 54)
        XCTAssertEqual(grammar.rulesOf.map(\.count), [4, 3, 3, 4, 4, 3, 3, 3, 4, 4, 3, 3, 3, 4, 3, 3])
        for range in grammar.rulesOf {
            var sum = 0.0
            for rule in grammar.rules[range] {
                XCTAssertEqual(rule.probability, 1 / Double(range.count))
                sum += rule.probability
            }
            XCTAssertEqual(sum, 1, accuracy: 1e-12)
        }
        // The first rule '22 -> 20 21' is on line 6 (after 5 comment lines); a rule's location is its first rhs symbol.
        XCTAssertEqual(grammar.rules[0].location, SourceLocation(file: bundledPath("cfg3f.cfg"), line: 6, column: 7))
        XCTAssertEqual(grammar.rules[0].rhs.map { grammar.name(of: $0) }, ["20", "21"])
        XCTAssertEqual(rules(of: "9", in: grammar).map(\.rhs), [["1", "2", "1"], ["3", "3"], ["1", "1"]])
        XCTAssertEqual(grammar.rules.last.map { grammar.name(of: $0.rhs[0]) }, "1")
        XCTAssertEqual(grammar.warnings, [])
        // Lengths as listed in grammars/README.md (min 64, max 729, expected 249.86).
        XCTAssertEqual(GrammarAnalysis.minLengths(grammar)[grammar.start], 64)
        XCTAssertEqual(GrammarAnalysis.maxLengths(grammar)[grammar.start], 729)
        XCTAssertEqual(expectedLength(grammar) ?? 0, 249.86, accuracy: 0.005)
    }

    func testDyck2() throws {
        let grammar = try GrammarReader.read(path: bundledPath("dyck2.cfg"))
        XCTAssertEqual(grammar.nonterminals, ["S", "P"])
        XCTAssertEqual(grammar.terminals, ["(", ")", "[", "]"])
        assertProbabilities(rules(of: "S", in: grammar).map(\.probability), [0.6, 0.4])
        XCTAssertEqual(rules(of: "P", in: grammar).map(\.rhs), [["(", ")"], ["(", "S", ")"], ["[", "]"], ["[", "S", "]"]])
        assertProbabilities(rules(of: "P", in: grammar).map(\.probability), [0.3, 0.2, 0.3, 0.2])
        // E[S] = E[P] + 0.4 E[S], E[P] = 2 + 0.4 E[S]  =>  E[S] = 10.
        XCTAssertEqual(expectedLength(grammar) ?? 0, 10, accuracy: 1e-9)
    }

    // MARK: - Format features

    func testComments() throws {
        let grammar = try XCTUnwrap(read("""
            # a comment line
              # an indented comment
            S -> a#b c # a trailing comment -> | [0.5]
            S -> d #comment-without-space
            #
            """))
        XCTAssertEqual(grammar.nonterminals, ["S"])
        XCTAssertEqual(grammar.terminals, ["a#b", "c", "d"])
        XCTAssertEqual(rules(of: "S", in: grammar).map(\.rhs), [["a#b", "c"], ["d"]])
        XCTAssertEqual(grammar.rules[0].location, SourceLocation(file: Self.source, line: 3, column: 6))
        XCTAssertEqual(grammar.rules[1].location, SourceLocation(file: Self.source, line: 4, column: 6))
        // A '#' token can end a rule line right after '->' only if a symbol came first.
        assertError("S -> #x", line: 1, column: 5, "expected at least one symbol")
    }

    func testAlternativesOnOneLine() throws {
        let grammar = try XCTUnwrap(read("S -> a | b c | S a"))
        XCTAssertEqual(rules(of: "S", in: grammar).map(\.rhs), [["a"], ["b", "c"], ["S", "a"]])
        XCTAssertEqual(grammar.rules.map(\.location.column), [6, 10, 16])
        assertProbabilities(grammar.rules.map(\.probability), [1.0 / 3, 1.0 / 3, 1.0 / 3])
        // E = (1 + 2 + (E + 1)) / 3  =>  E = 2.
        XCTAssertEqual(expectedLength(grammar) ?? 0, 2, accuracy: 1e-9)
    }

    func testContinuationLines() throws {
        let grammar = try XCTUnwrap(read("""
            A -> x
            S -> a
            # a comment in between

            start: S
              | b
            | c d | A
                | e [0.0]x
            """))
        XCTAssertEqual(grammar.nonterminals, ["A", "S"])
        XCTAssertEqual(grammar.nonterminals[grammar.start], "S")
        XCTAssertEqual(rules(of: "S", in: grammar).map(\.rhs), [["a"], ["b"], ["c", "d"], ["A"], ["e", "[0.0]x"]])
        assertProbabilities(rules(of: "S", in: grammar).map(\.probability), [0.2, 0.2, 0.2, 0.2, 0.2])
        let locations = grammar.rules[grammar.rulesOf[1]].map { [$0.location.line, $0.location.column] }
        XCTAssertEqual(locations, [[2, 6], [6, 5], [7, 3], [7, 9], [8, 7]])
        XCTAssertEqual(grammar.warnings, [])
        // A continuation continues the most recent rule line, itself a continuation or not.
        let chained = try XCTUnwrap(read("S -> a\n| b\nT -> c\n| d\n| e\nS -> T"))
        XCTAssertEqual(rules(of: "S", in: chained).map(\.rhs), [["a"], ["b"], ["T"]])
        XCTAssertEqual(rules(of: "T", in: chained).map(\.rhs), [["c"], ["d"], ["e"]])
    }

    func testWeightsAreNormalised() throws {
        let grammar = try XCTUnwrap(read("S -> a S [0.4] | b [0.6]"))
        assertProbabilities(grammar.rules.map(\.probability), [0.4, 0.6])
        // Within the tolerance of 1e-6 the weights are accepted and divided by their sum.
        let loose = try XCTUnwrap(read("S -> a [0.3333334] | b [0.3333334]\n | c [0.3333334]"))
        for rule in loose.rules { XCTAssertEqual(rule.probability, 0.3333334 / 1.0000002, accuracy: 1e-15) }
        XCTAssertEqual(loose.rules.map(\.probability).reduce(0, +), 1, accuracy: 1e-15)
        let under = try XCTUnwrap(read("S -> a [0.5] | b [0.4999995]"))
        XCTAssertEqual(under.rules.map(\.probability).reduce(0, +), 1, accuracy: 1e-15)
        XCTAssertGreaterThan(under.rules[0].probability, 0.5)
        // Decimal spellings of a number in (0, 1].
        let spellings = try XCTUnwrap(read("S -> a [.25] | b [2.5E-1] | c [+0.25] | d [25e-2]\nT -> x [1]\nU -> y [1.0e0]"))
        assertProbabilities(rules(of: "S", in: spellings).map(\.probability), [0.25, 0.25, 0.25, 0.25])
        assertProbabilities(rules(of: "T", in: spellings).map(\.probability), [1])
        assertProbabilities(rules(of: "U", in: spellings).map(\.probability), [1])
        // Weighted and unweighted nonterminals may be mixed (per left-hand side, all or none).
        let mixed = try XCTUnwrap(read("S -> T [0.9] | U [0.1]\nT -> a | b\nU -> c [1]"))
        assertProbabilities(rules(of: "T", in: mixed).map(\.probability), [0.5, 0.5])
    }

    func testUniformDefault() throws {
        let grammar = try XCTUnwrap(read("S -> a | b\nS -> c\nT -> x y\nS -> T | T T\n"))
        XCTAssertEqual(rules(of: "S", in: grammar).map(\.rhs), [["a"], ["b"], ["c"], ["T"], ["T", "T"]])
        assertProbabilities(rules(of: "S", in: grammar).map(\.probability), [0.2, 0.2, 0.2, 0.2, 0.2])
        assertProbabilities(rules(of: "T", in: grammar).map(\.probability), [1])
        XCTAssertEqual(grammar.rules.map(\.location.line), [1, 1, 2, 4, 4, 3])
    }

    func testStartSymbol() throws {
        let atEnd = try XCTUnwrap(read("T -> a\nS -> T T\nstart: S"))
        XCTAssertEqual(atEnd.nonterminals, ["T", "S"])
        XCTAssertEqual(atEnd.start, 1)
        XCTAssertEqual(atEnd.warnings, [])
        let atTop = try XCTUnwrap(read("  start:\tS  # comment\nT -> a\nS -> T T"))
        XCTAssertEqual(atTop.start, 1)
        let inMiddle = try XCTUnwrap(read("T -> a\nstart: S\nS -> T T"))
        XCTAssertEqual(inMiddle.start, 1)
        let implicit = try XCTUnwrap(read("# comment\nT -> a\nS -> T T"))
        XCTAssertEqual(implicit.start, 0)
        XCTAssertEqual(implicit.warnings.count, 1)
        // 'start:' is reserved only as the first token of a line.
        let inRHS = try XCTUnwrap(read("S -> start: a"))
        XCTAssertEqual(inRHS.terminals, ["start:", "a"])
        let glued = try XCTUnwrap(read("start:S -> a"))
        XCTAssertEqual(glued.nonterminals, ["start:S"])
    }

    func testCRLFLineEnds() throws {
        let grammar = try XCTUnwrap(read("# comment\r\nS -> a b\r\n| c\r\n\r\nstart: S\r\n"))
        XCTAssertEqual(grammar.terminals, ["a", "b", "c"])
        XCTAssertEqual(rules(of: "S", in: grammar).map(\.rhs), [["a", "b"], ["c"]])
        XCTAssertEqual(grammar.rules[1].location, SourceLocation(file: Self.source, line: 3, column: 3))
        assertError("S -> a\r\nT a\r\n", line: 2, column: 3, "expected '->' after the left-hand side 'T', found 'a'")
        assertError("S -> a\r\nT\r\n", line: 2, column: 2, "expected '->' after the left-hand side 'T'")
    }

    func testTabsAndOtherWhiteSpace() throws {
        let grammar = try XCTUnwrap(read("S\t->\ta\t\tb\n\u{0B}T\u{0C}->  c\t"))
        XCTAssertEqual(grammar.nonterminals, ["S", "T"])
        XCTAssertEqual(grammar.terminals, ["a", "b", "c"])
        XCTAssertEqual(rules(of: "S", in: grammar).map(\.rhs), [["a", "b"]])
        // A tab counts as one column.
        XCTAssertEqual(grammar.rules[0].location.column, 6)
        XCTAssertEqual(grammar.rules[1].location, SourceLocation(file: Self.source, line: 2, column: 8))
        assertError("S\t->\ta\t->", line: 1, column: 8, "unexpected '->'")
    }

    func testNonASCIISymbols() throws {
        let grammar = try XCTUnwrap(read("É -> ü 名前 🙂 Ω\nΩ -> ∅ | «x»\u{A0}y"))
        XCTAssertEqual(grammar.nonterminals, ["É", "Ω"])
        XCTAssertEqual(grammar.terminals, ["ü", "名前", "🙂", "∅", "«x»\u{A0}y"])
        // Columns count Unicode scalars (not bytes, not grapheme clusters).
        XCTAssertEqual(grammar.rules.map(\.location.column), [6, 6, 10])
        assertError("名前 -> 🙂 -> x", line: 1, column: 9, "unexpected '->'")
        assertError("e\u{301} -> a ->", line: 1, column: 9, "unexpected '->'")
        assertError("🙂🙂 x", line: 1, column: 4, "expected '->' after the left-hand side '🙂🙂', found 'x'")
    }

    func testBracketsAreSymbols() throws {
        let grammar = try XCTUnwrap(read("S -> [ ] | [] | [ S ]\n[] -> ]"))
        XCTAssertEqual(grammar.nonterminals, ["S", "[]"])
        XCTAssertEqual(grammar.terminals, ["[", "]"])
        XCTAssertEqual(rules(of: "S", in: grammar).map(\.rhs), [["[", "]"], ["[]"], ["[", "S", "]"]])
        XCTAssertEqual(grammar.warnings, [])
        // E = (2 + 1 + (2 + E)) / 3  =>  E = 2.5.
        XCTAssertEqual(expectedLength(grammar) ?? 0, 2.5, accuracy: 1e-9)
        // '[' alone as a left-hand side, and a weight after a bracket symbol.
        let weighted = try XCTUnwrap(read("[ -> ] [0.5] | [ [0.5]"))
        assertProbabilities(weighted.rules.map(\.probability), [0.5, 0.5])
    }

    func testTerminalOrder() throws {
        let numeric = try XCTUnwrap(read("S -> 10 2 -1 +3 T\nT -> 0"))
        XCTAssertEqual(numeric.terminals, ["-1", "0", "2", "+3", "10"])
        XCTAssertEqual(numeric.terminalID("10"), 4)
        let names = try XCTUnwrap(read("S -> b 1 a T\nT -> 0"))
        XCTAssertEqual(names.terminals, ["b", "1", "a", "0"])
        let nonterminals = try XCTUnwrap(read("B -> A\nA -> a\nB -> b"))
        XCTAssertEqual(nonterminals.nonterminals, ["B", "A"])
        XCTAssertEqual(nonterminals.terminals, ["a", "b"])
    }

    func testSourceNameAndDefaultSource() throws {
        do {
            _ = try GrammarReader.parse(text: "S a")
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.diagnostics.first?.location, SourceLocation(file: "<string>", line: 1, column: 3))
            XCTAssertEqual(error.description, "<string>:1:3: error: expected '->' after the left-hand side 'S', found 'a'")
        }
        XCTAssertEqual(try GrammarReader.parse(text: "S -> a", source: "x.cfg").source, "x.cfg")
        do {
            _ = try GrammarReader.read(path: "/nonexistent/helper-tests/none.cfg")
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.diagnostics.first?.location,
                           SourceLocation(file: "/nonexistent/helper-tests/none.cfg", line: 1, column: 1))
            XCTAssertTrue(error.diagnostics.first?.message.contains("cannot read") ?? false)
        }
    }

    // MARK: - Syntax errors

    func testMissingArrow() {
        assertError("S a b", line: 1, column: 3, "expected '->' after the left-hand side 'S', found 'a'")
        assertError("S -> a\nT", line: 2, column: 2, "expected '->' after the left-hand side 'T'")
        assertError("S -> a\n  T  # comment", line: 2, column: 4, "expected '->' after the left-hand side 'T'")
        assertError("S | a", line: 1, column: 3, "expected '->'", "found '|'")
        assertError("S => a", line: 1, column: 3, "found '=>'")
    }

    func testArrowInRightHandSide() {
        assertError("S -> a -> b", line: 1, column: 8, "unexpected '->' in a right-hand side")
        assertError("S -> a | -> b", line: 1, column: 10, "unexpected '->'")
        assertError("S -> a\n| b -> c", line: 2, column: 5, "unexpected '->'")
    }

    func testReservedTokenWhereASymbolIsExpected() {
        assertError("-> a", line: 1, column: 1, "expected a symbol name, found '->'")
        assertError("  [0.5] -> a", line: 1, column: 3, "expected a symbol name, found the weight '[0.5]'")
        assertError("start: ->", line: 1, column: 8, "expected a symbol name, found '->'")
        assertError("start: |\nS -> a", line: 1, column: 8, "expected a symbol name, found '|'")
        assertError("S -> a\nstart: [1]", line: 2, column: 8, "found the weight '[1]'")
    }

    func testEmptyAlternatives() {
        assertError("A -> a | | b", line: 1, column: 10, "expected at least one symbol", "empty rules are not supported")
        assertError("A ->", line: 1, column: 5, "expected at least one symbol")
        assertError("A ->   # comment", line: 1, column: 5, "expected at least one symbol")
        assertError("A -> | a", line: 1, column: 6, "expected at least one symbol")
        assertError("A -> a |", line: 1, column: 9, "expected at least one symbol")
        assertError("A -> a\n|", line: 2, column: 2, "expected at least one symbol")
        assertError("A -> a\n| b |  # c", line: 2, column: 6, "expected at least one symbol")
    }

    func testMisplacedWeights() {
        assertError("A -> a [0.5] b | c [0.5]", line: 1, column: 14, "a weight [p] must end its alternative")
        assertError("A -> a [0.5] [0.5]", line: 1, column: 14, "expected '|' or the end of the line after a weight")
        assertError("A -> [0.5] a", line: 1, column: 6, "expected a symbol before the weight [0.5]")
        assertError("A -> a [0.5] | [0.5]", line: 1, column: 16, "expected a symbol before the weight")
        assertError("A -> a [0.5]\n| [0.5]", line: 2, column: 3, "expected a symbol before the weight")
    }

    func testWeightsOutOfRangeOrNotNumbers() {
        for weight in ["[0]", "[1.5]", "[-0.1]", "[abc]", "[nan]", "[inf]", "[-inf]", "[0.0]", "[1e400]", "[1e-400]",
                       "[0x1p-1]", "[1e]", "[0.5.5]", "[٠.٥]", "[1.0000001]", "[x]"] {
            assertError("A -> a \(weight)", line: 1, column: 8, "expected a probability in (0, 1]", "found '\(weight)'")
        }
        assertError("A -> a [0.5] | b [1.5]", line: 1, column: 18, "expected a probability in (0, 1]", "'[1.5]'")
    }

    func testContinuationWithoutRule() {
        assertError("| a", line: 1, column: 1, "no rule comes before it")
        assertError("# header\n\n  | a", line: 3, column: 3, "a line that starts with '|' continues a rule")
        assertError("start: S\n| a\nS -> b", line: 2, column: 1, "no rule comes before it")
    }

    func testStartLines() {
        assertError("start: S\nS -> a\nstart: S", line: 3, column: 1, "a second 'start:' line (the first is at line 1)")
        assertError("S -> a\n start: S\nT -> b\n  start: T", line: 4, column: 3, "second 'start:' line", "line 2")
        assertError("start:\nS -> a", line: 1, column: 7, "expected a symbol after 'start:'")
        assertError("S -> a\nstart:  # S", line: 2, column: 7, "expected a symbol after 'start:'")
        assertError("start: S T\nS -> a", line: 1, column: 10, "expected the end of the line after 'start: S'")
    }

    func testInvalidUTF8() {
        assertError(bytes: Array("S -> a ".utf8) + [0xFF] + Array(" b".utf8), line: 1, column: 8, "not valid UTF-8")
        // Columns before the bad byte count scalars: 'é' is one column.
        assertError(bytes: Array("S -> a\nT -> é ".utf8) + [0x80], line: 2, column: 8, "not valid UTF-8")
        // A truncated sequence at the end of the input, an overlong encoding, an encoded surrogate.
        assertError(bytes: Array("S -> a\nT -> b c".utf8) + [0xC3], line: 2, column: 9, "not valid UTF-8")
        assertError(bytes: Array("S -> ".utf8) + [0xC0, 0xAF], line: 1, column: 6, "not valid UTF-8")
        assertError(bytes: Array("S -> x".utf8) + [0xED, 0xA0, 0x80], line: 1, column: 7, "not valid UTF-8")
        // A truncated sequence followed by the line end.
        assertError(bytes: Array("S -> a".utf8) + [0xE2, 0x82] + Array("\nT -> b".utf8), line: 1, column: 7, "not valid UTF-8")
    }

    func testControlCharacters() {
        assertError("S -> a\u{01}b", line: 1, column: 7, "unexpected control character U+0001")
        assertError("S -> a\u{7F}", line: 1, column: 7, "unexpected control character U+007F")
        assertError("S -> \u{0}", line: 1, column: 6, "unexpected control character U+0000")
        assertError("S -> a \u{1B}[0m", line: 1, column: 8, "U+001B")
        assertError("S -> a\r\nT\u{08} -> b", line: 2, column: 2, "U+0008")
        assertError("S -> a\r\nT -> b\u{1F}", line: 2, column: 7, "U+001F")
    }

    func testSyntaxErrorsOnePerLineAtMostTwenty() {
        let one = diagnostics("S -> -> | | [2]")
        XCTAssertEqual(one.count, 1)
        assertDiagnostic(one.first, line: 1, column: 6, "unexpected '->'")

        let many = diagnostics(Array(repeating: "S a", count: 30).joined(separator: "\n"))
        XCTAssertEqual(many.count, 20)
        for (i, diagnostic) in many.enumerated() {
            assertDiagnostic(diagnostic, line: i + 1, column: 3, "expected '->'")
        }

        // Errors on several lines are all reported, in line order.
        let several = diagnostics("S -> a\nT b\nU -> |\n| ->\nV -> c")
        XCTAssertEqual(several.count, 3)
        assertDiagnostic(several.count > 0 ? several[0] : nil, line: 2, column: 3, "expected '->'")
        assertDiagnostic(several.count > 1 ? several[1] : nil, line: 3, column: 6, "expected at least one symbol")
        assertDiagnostic(several.count > 2 ? several[2] : nil, line: 4, column: 3, "unexpected '->'")
    }

    // MARK: - Semantic errors

    func testEmptyGrammar() {
        assertError("", line: 1, column: 1, "empty grammar")
        assertError("# only a comment\n   # and another\n\n", line: 1, column: 1, "empty grammar", "expected at least one rule")
        assertError("\n\n\r\n\t\n", line: 1, column: 1, "empty grammar")
        assertError(bytes: [], line: 1, column: 1, "empty grammar")
    }

    func testStartSymbolWithoutRules() {
        assertError("S -> a\nstart: T", line: 2, column: 8, "the start symbol 'T' has no rules")
        assertError("start:  a\nS -> a", line: 1, column: 9, "the start symbol 'a' has no rules")
        assertError("start: S", line: 1, column: 1, "empty grammar")
    }

    func testDuplicateRules() {
        assertError("S -> a b\nS -> c\nS -> a b", line: 3, column: 6, "duplicate rule 'S -> a b' (first at line 1)")
        assertError("S -> a [0.5] | a [0.5]", line: 1, column: 16, "duplicate rule 'S -> a'", "first at line 1")
        assertError("S -> a | b\nS -> x y | z\n  | x y", line: 3, column: 5,
                    "duplicate rule 'S -> x y' (first at line 2)")
        // The same right-hand side under different left-hand sides is no duplicate.
        XCTAssertNotNil(read("S -> a | T\nT -> a"))
    }

    func testMixedWeightedAndUnweightedRules() {
        assertError("S -> a [0.5] | b", line: 1, column: 16, "this rule of 'S' has no weight, but others do (line 1)")
        assertError("S -> a\nS -> b [1]", line: 1, column: 6, "has no weight, but others do (line 2)",
                    "give every rule of 'S' a weight, or none")
    }

    func testWeightsNotSummingToOne() {
        assertError("S -> a [0.5] | b [0.4]", line: 1, column: 1, "the weights of the 2 rules of 'S' sum to 0.9, expected 1")
        assertError("T -> S\n S -> a [0.6]\nS -> b [0.6]", line: 2, column: 2, "rules of 'S' sum to 1.2")
        assertError("S -> a [0.5] | b [0.500002]", line: 1, column: 1, "sum to", "expected 1")
        assertError("S -> a [0.5]", line: 1, column: 1, "sum to 0.5")
        XCTAssertNotNil(read("S -> a [0.5] | b [0.5000005]"))
    }

    func testNonProductiveNonterminals() {
        assertError("A -> a A", line: 1, column: 1, "'A' derives no finite string", "('A')")
        assertError("S -> a | A\nA -> a A", line: 2, column: 1, "'A' derives no finite string")
        assertError("S -> a\n A -> A b\nA -> b A", line: 2, column: 2, "'A' derives no finite string")
        assertError("A -> A", line: 1, column: 1, "'A' derives no finite string")

        let mutual = diagnostics("A -> B\nB -> A")
        XCTAssertEqual(mutual.count, 2)
        assertDiagnostic(mutual.first, line: 1, column: 1, "'A' derives no finite string", "('B')")
        assertDiagnostic(mutual.count > 1 ? mutual[1] : nil, line: 2, column: 1, "'B' derives no finite string", "('A')")

        // A unit cycle with a way out is productive.
        let cycle = try? GrammarReader.parse(text: "A -> B | a\nB -> A", source: Self.source)
        XCTAssertEqual(cycle.flatMap { expectedLength($0) } ?? 0, 1, accuracy: 1e-9)
    }

    func testInfiniteExpectedLength() throws {
        assertError("S -> S S [0.5] | a [0.5]", line: 1, column: 1, "the expected string length is infinite", "'S'")
        assertError("S -> S S [0.6] | a [0.4]", line: 1, column: 1, "the expected string length is infinite")
        // Uniform Dyck-like: the spectral radius of the mean matrix is exactly 1.
        let dyck = diagnostics("S -> P | P S\nP -> ( ) | ( S )")
        XCTAssertEqual(dyck.count, 1)
        assertDiagnostic(dyck.first, line: 1, column: 1, "the expected string length is infinite", "'S'", "'P'")
        // The same component behind a non-recursive start symbol is reported at its first nonterminal.
        assertError("R -> x S\nS -> P | P S\nP -> ( ) | ( S )", line: 2, column: 1, "expected string length is infinite")

        // Just below critical: E = 0.51 / (1 - 2 * 0.49) = 25.5.
        let subcritical = try XCTUnwrap(read("S -> S S [0.49] | a [0.51]"))
        XCTAssertEqual(expectedLength(subcritical) ?? 0, 25.5, accuracy: 1e-6)
        // A self-loop unit rule: E = 0.5 E + 0.5.
        let loop = try XCTUnwrap(read("S -> S | a"))
        XCTAssertEqual(expectedLength(loop) ?? 0, 1, accuracy: 1e-9)
        XCTAssertEqual(GrammarAnalysis.maxLengths(loop), [1])
    }

    func testTooManyMutuallyRecursiveNonterminals() {
        let n = GrammarAnalysis.maxRecursiveComponent + 1
        let text = (0..<n).map { "A\($0) -> x A\(($0 + 1) % n) | y" }.joined(separator: "\n")
        assertError(text, line: 1, column: 1, "\(n) mutually recursive nonterminals", "more than the 2000")
    }

    func testSemanticErrorsAreAllReported() {
        // Duplicates, weights and the start symbol are checked together.
        let found = diagnostics("S -> a | a\nT -> b [0.5] | c [0.2]\nstart: U")
        XCTAssertEqual(found.count, 3, found.map(\.description).joined(separator: "\n"))
        let byLine = found.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        assertDiagnostic(byLine.first, line: 1, column: 10, "duplicate rule 'S -> a' (first at line 1)")
        assertDiagnostic(byLine.count > 1 ? byLine[1] : nil, line: 2, column: 1, "rules of 'T' sum to")
        assertDiagnostic(byLine.count > 2 ? byLine[2] : nil, line: 3, column: 8, "the start symbol 'U' has no rules")
    }

    // MARK: - Warnings

    func testUnreachableNonterminalAndTerminal() throws {
        let grammar = try XCTUnwrap(read("S -> a\nU -> b"))
        XCTAssertEqual(grammar.warnings.count, 2, "\(grammar.warnings)")
        assertDiagnostic(grammar.warnings.first, line: 2, column: 1, "'U' is unreachable from the start symbol 'S'",
                         severity: .warning)
        assertDiagnostic(grammar.warnings.count > 1 ? grammar.warnings[1] : nil, line: 2, column: 6,
                         "terminal 'b' is used only by unreachable rules", severity: .warning)
        XCTAssertEqual(grammar.terminals, ["a", "b"])

        // A terminal also used by a reachable rule gets no warning; an unreachable chain warns for each member.
        let chain = try XCTUnwrap(read("S -> a\n  U -> V a\nV -> a | b\nstart: S"))
        XCTAssertEqual(chain.warnings.count, 3, "\(chain.warnings)")
        assertDiagnostic(chain.warnings.first, line: 2, column: 3, "'U' is unreachable", severity: .warning)
        assertDiagnostic(chain.warnings.count > 1 ? chain.warnings[1] : nil, line: 3, column: 1,
                         "'V' is unreachable", severity: .warning)
        assertDiagnostic(chain.warnings.count > 2 ? chain.warnings[2] : nil, line: 3, column: 10,
                         "terminal 'b' is used only by unreachable rules", severity: .warning)

        // An explicit start symbol makes the first rule's nonterminal unreachable.
        let explicit = try XCTUnwrap(read("S -> T\nT -> c\nstart: T"))
        XCTAssertEqual(explicit.warnings.count, 1)
        assertDiagnostic(explicit.warnings.first, line: 1, column: 1, "'S' is unreachable from the start symbol 'T'",
                         severity: .warning)
    }

    // MARK: - Hostile input

    /// Asserts that `bytes` either read (into a well-formed grammar) or fail with diagnostics inside the input.
    private func assertReadsOrFailsInside(_ bytes: [UInt8], _ label: String,
                                          file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let lineLengths = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(\.count)
        do {
            let grammar = try GrammarReader.parse(bytes: bytes, source: Self.source)
            assertWellFormed(grammar, label, file: file, line: line)
            for warning in grammar.warnings {
                XCTAssertEqual(warning.severity, .warning, label, file: file, line: line)
                XCTAssertTrue(lineLengths.indices.contains(warning.location.line - 1), "\(label): \(warning)", file: file, line: line)
            }
            return true
        } catch {
            XCTAssertFalse(error.diagnostics.isEmpty, label, file: file, line: line)
            for diagnostic in error.diagnostics {
                XCTAssertEqual(diagnostic.severity, .error, "\(label): \(diagnostic)", file: file, line: line)
                XCTAssertEqual(diagnostic.location.file, Self.source, file: file, line: line)
                let l = diagnostic.location.line
                XCTAssertTrue(lineLengths.indices.contains(l - 1), "\(label): line of \(diagnostic)", file: file, line: line)
                if lineLengths.indices.contains(l - 1) {
                    // Columns count scalars, so a column is at most the line's byte count + 1 (just past its end).
                    XCTAssertTrue((1...(lineLengths[l - 1] + 1)).contains(diagnostic.location.column),
                                  "\(label): column of \(diagnostic)", file: file, line: line)
                }
                XCTAssertFalse(diagnostic.message.isEmpty, label, file: file, line: line)
            }
            return false
        }
    }

    func testRandomBytesDoNotCrash() {
        var g = SeededGenerator(seed: 42)
        let friendly = Array("  SAab->|[]#\n\n0.5:".utf8)
        var read = 0
        for i in 0..<200 {
            let length = g.nextInt(below: 120)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                // Half the bytes are any byte at all, half come from the format's own characters.
                if g.nextInt(below: 2) == 0 {
                    bytes.append(UInt8(g.nextInt(below: 256)))
                } else {
                    bytes.append(friendly[g.nextInt(below: friendly.count)])
                }
            }
            if assertReadsOrFailsInside(bytes, "random bytes #\(i): \(bytes)") { read += 1 }
        }
        XCTAssertLessThan(read, 200)
    }

    func testRandomTokenSoupsDoNotCrash() {
        var g = SeededGenerator(seed: 42)
        let tokens = ["S", "A", "B", "a", "b", "->", "|", "[0.5]", "[", "]", "start:", "#", "\n"]
        var read = 0
        for i in 0..<200 {
            let count = 1 + g.nextInt(below: 40)
            var text = ""
            for _ in 0..<count {
                text += tokens[g.nextInt(below: tokens.count)]
                text += g.nextInt(below: 4) == 0 ? "\t" : " "
            }
            if assertReadsOrFailsInside(Array(text.utf8), "token soup #\(i): \(text.debugDescription)") { read += 1 }
        }
        XCTAssertLessThan(read, 200)
    }

    func testStructuredRandomGrammarsDoNotCrash() {
        // Rule-shaped lines over a small alphabet, so that many read and the semantic checks are exercised too.
        var g = SeededGenerator(seed: 7)
        let symbols = ["S", "A", "B", "a", "b"]
        let weights = ["", "", " [0.5]", " [1]", " [0.25]"]
        var read = 0
        for i in 0..<200 {
            var lines: [String] = []
            for _ in 0..<(1 + g.nextInt(below: 5)) {
                var alternatives: [String] = []
                for _ in 0..<(1 + g.nextInt(below: 3)) {
                    let rhs = (0..<(1 + g.nextInt(below: 3))).map { _ in symbols[g.nextInt(below: symbols.count)] }
                    alternatives.append(rhs.joined(separator: " ") + weights[g.nextInt(below: weights.count)])
                }
                let lhs = ["S", "A", "B", "|"][g.nextInt(below: 4)]
                lines.append((lhs == "|" ? "| " : "\(lhs) -> ") + alternatives.joined(separator: " | "))
            }
            if g.nextInt(below: 4) == 0 { lines.insert("start: \(symbols[g.nextInt(below: 3)])", at: g.nextInt(below: lines.count + 1)) }
            let text = lines.joined(separator: "\n")
            if assertReadsOrFailsInside(Array(text.utf8), "grammar #\(i): \(text.debugDescription)") { read += 1 }
        }
        XCTAssertGreaterThan(read, 0)
        XCTAssertLessThan(read, 200)
    }

    func testLongRule() throws {
        let n = 300_000
        var text = "S ->"
        text.reserveCapacity(4 + 2 * n)
        for i in 0..<n { text += i % 2 == 0 ? " a" : " b" }
        let grammar = try XCTUnwrap(read(text))
        XCTAssertEqual(grammar.rules.count, 1)
        XCTAssertEqual(grammar.rules.first?.rhs.count, n)
        XCTAssertEqual(grammar.terminals, ["a", "b"])
        XCTAssertEqual(grammar.rules.first?.rhs.last, .terminal(1))
        XCTAssertEqual(expectedLength(grammar), Double(n))
        XCTAssertEqual(GrammarAnalysis.minLengths(grammar), [Double(n)])
        XCTAssertEqual(GrammarAnalysis.maxLengths(grammar), [Double(n)])
    }

    func testLongChainOfNonterminals() throws {
        let n = 100_000
        var lines: [String] = []
        lines.reserveCapacity(n + 1)
        for i in 0..<n { lines.append("A\(i) -> x A\(i + 1)") }
        lines.append("A\(n) -> x")
        let grammar = try XCTUnwrap(read(lines.joined(separator: "\n")))
        XCTAssertEqual(grammar.nonterminals.count, n + 1)
        XCTAssertEqual(grammar.terminals, ["x"])
        XCTAssertEqual(grammar.start, 0)
        XCTAssertEqual(grammar.warnings, [])
        XCTAssertEqual(expectedLength(grammar), Double(n + 1))
        let minimum = GrammarAnalysis.minLengths(grammar)
        XCTAssertEqual(minimum.first, Double(n + 1))
        XCTAssertEqual(minimum.last, 1)
        XCTAssertEqual(GrammarAnalysis.maxLengths(grammar).first, Double(n + 1))
    }

    func testLongUnitChain() throws {
        let n = 100_000
        var lines: [String] = []
        lines.reserveCapacity(n + 1)
        for i in 0..<n { lines.append("A\(i) -> A\(i + 1)") }
        lines.append("A\(n) -> x | y")
        let grammar = try XCTUnwrap(read(lines.joined(separator: "\n")))
        XCTAssertEqual(grammar.nonterminals.count, n + 1)
        XCTAssertEqual(grammar.rules.count, n + 2)
        XCTAssertEqual(grammar.terminals, ["x", "y"])
        XCTAssertEqual(grammar.warnings, [])
        XCTAssertEqual(expectedLength(grammar), 1)
        XCTAssertEqual(GrammarAnalysis.minLengths(grammar).first, 1)
        XCTAssertEqual(GrammarAnalysis.maxLengths(grammar).first, 1)
    }
}

/// Cases found while reviewing the reader (each was once wrong).
final class GrammarReaderReviewTests: XCTestCase {
    func diagnostics(_ text: String) -> [GrammarDiagnostic] {
        do {
            _ = try GrammarReader.parse(text: text, source: "t")
            return []
        } catch {
            return error.diagnostics
        }
    }

    func testUnreachableTerminalWarningPointsAtTheTerminal() throws {
        let g = try GrammarReader.parse(text: "S -> a\nU -> b c", source: "t")
        let terminalWarning = try XCTUnwrap(g.warnings.first { $0.message.contains("terminal 'c'") })
        XCTAssertEqual(terminalWarning.location, SourceLocation(file: "t", line: 2, column: 8))
    }

    func testDiagnosticsComeInSourceOrder() {
        let found = diagnostics("S -> a | a\nT -> b [0.5] | c [0.2]\nstart: U")
        XCTAssertEqual(found.map { [$0.location.line, $0.location.column] }, [[1, 10], [2, 1], [3, 8]])
    }

    func testCommentsMustBeValidText() throws {
        XCTAssertThrowsError(try GrammarReader.parse(bytes: Array("S -> a # caf".utf8) + [0xE9], source: "t")) { error in
            let d = (error as! GrammarError).diagnostics[0]
            XCTAssertEqual([d.location.line, d.location.column], [1, 13])
        }
        XCTAssertEqual(diagnostics("S -> a # x\u{01}y").map(\.location.column), [11])
    }

    func testIntegerTerminalsOfAnyLengthAreOrderedNumerically() throws {
        let g = try GrammarReader.parse(text: "S -> 99999999999999999999 2 1 -5 03 3", source: "t")
        XCTAssertEqual(g.terminals, ["-5", "1", "2", "03", "3", "99999999999999999999"])
    }

    func testByteOrderMarkIsSkipped() throws {
        let g = try GrammarReader.parse(text: "\u{FEFF}S -> a S | b", source: "t")
        XCTAssertEqual(g.nonterminals, ["S"])
        XCTAssertEqual(g.terminals, ["a", "b"])
    }

    func testExpectedLengthBeyondDoubleIsAClearError() {
        var text = ""
        for i in 0..<1100 { text += "A\(i) -> A\(i + 1) A\(i + 1)\n" }
        text += "A1100 -> x\n"
        let found = diagnostics(text)
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found[0].message.contains("too large to represent"), found[0].message)
    }
}
