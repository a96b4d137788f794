import Grammar

let generateSpec = CommandSpec(
    name: "generate", summary: "print a random layered grammar of the paper's family (cfg3 style)",
    positionals: [],
    options: [
        OptionSpec("--levels", value: "L", help: "levels of nonterminals below the root (default 3; cfg3f has 5)"),
        OptionSpec("--width", value: "W", help: "nonterminals per level (default 3)"),
        OptionSpec("--rules", value: "R1-R2", help: "rules per nonterminal, drawn uniformly (default 2-3; cfg3f: 3-4)"),
        OptionSpec("--rhs", value: "A-B", help: "right-hand-side length, drawn uniformly (default 2-3)"),
        OptionSpec("--terminals", value: "T", help: "terminals, named 1..T (default 3)"),
        OptionSpec("--seed", value: "S", help: "random seed (default 1)"),
    ],
    details: """
    Root S; levels 1..L of W nonterminals each; every right-hand side draws its symbols from the next level down
    (terminals below the last level); no duplicate rules; every symbol is used. Rules are unweighted (chosen
    uniformly). Fewer levels give shorter strings that small models can learn: the expected length grows about
    geometrically with the levels, and a warning on stderr says when it is over \(Int(GrammarSampler.maximumExpectedLength)) terminals,
    the most that the other commands accept. The first line of the output is the command that reproduces it.
    """)

func runGenerate(_ arguments: ParsedArguments) throws -> Int32 {
    func range(_ option: String, default value: ClosedRange<Int>) throws -> ClosedRange<Int> {
        guard let text = arguments.string(option) else { return value }
        do { return try LayeredGrammarSpec.parseRange(text, option: option) } catch { throw UsageError(error.message) }
    }
    let spec = LayeredGrammarSpec(
        levels: try arguments.int("--levels", default: 3, range: 1...1000),
        width: try arguments.int("--width", default: 3, range: 1...100_000),
        rulesPerNonterminal: try range("--rules", default: 2...3),
        rhsLength: try range("--rhs", default: 2...3),
        terminals: try arguments.int("--terminals", default: 3, range: 1...100_000),
        seed: try arguments.uint64("--seed", default: 1))
    let text: String
    do {
        text = try GrammarGenerator.generate(spec)
    } catch {
        throw UsageError(error.message)
    }
    print(text, terminator: "")
    // Deep grammars have astronomically long strings: say so now rather than when they are used.
    let name = "the generated grammar"
    do {
        try GrammarSampler.checkExpectedLength(of: try GrammarReader.parse(text: text, source: name))
    } catch let error as ExpectedLengthTooLong {
        printError("warning: \(error); cfg-run sample, stats, bench and sweeps will refuse it")
    } catch {
        printError("warning: \(name) cannot be read back: \(error)")
    }
    return 0
}
