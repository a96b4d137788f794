import Grammar

let generateSpec = CommandSpec(
    name: "generate", summary: "print a random layered grammar of the paper's family (cfg3 style)",
    positionals: [],
    options: [generateLevels.spec, generateWidth.spec, generateRules.spec, generateRHS.spec,
              Options.terminals.with(help: "terminals, named 1..T (default 3)").spec, Options.seed.spec],
    details: """
    Root S; levels 1..L of W nonterminals each; every right-hand side draws its symbols from the next level down
    (terminals below the last level); no duplicate rules; every symbol is used. Rules are unweighted (chosen
    uniformly). Fewer levels give shorter strings that small models can learn: the expected length grows about
    geometrically with the levels, and a warning on stderr says when it is over \(Int(GrammarSampler.maximumExpectedLength)) terminals,
    the most that the other commands accept. The first line of the output is the command that reproduces it.
    """)

let generateLevels = Options.integer("--levels", value: "L", help: "levels of nonterminals below the root (default 3; cfg3f has 5)",
                                     default: 3, range: 1...1000)
let generateWidth = Options.integer("--width", value: "W", help: "nonterminals per level (default 3)", default: 3, range: 1...100_000)
let generateRules = Option<ClosedRange<Int>>("--rules", value: "R1-R2", help: "rules per nonterminal, drawn uniformly (default 2-3; cfg3f: 3-4)",
                                             default: 2...3) { text throws(UsageError) in
    do { return try LayeredGrammarSpec.parseRange(text, option: "--rules") } catch { throw UsageError(generatorMessage(error)) }
}
let generateRHS = Option<ClosedRange<Int>>("--rhs", value: "A-B", help: "right-hand-side length, drawn uniformly (default 2-3)",
                                           default: 2...3) { text throws(UsageError) in
    do { return try LayeredGrammarSpec.parseRange(text, option: "--rhs") } catch { throw UsageError(generatorMessage(error)) }
}

/// The words of a generator error.
func generatorMessage(_ error: any Error) -> String { (error as? GrammarGeneratorError)?.message ?? "\(error)" }

func runGenerate(_ arguments: ParsedArguments) throws -> Int32 {
    let spec = LayeredGrammarSpec(
        levels: try arguments.value(generateLevels), width: try arguments.value(generateWidth),
        rulesPerNonterminal: try arguments.value(generateRules), rhsLength: try arguments.value(generateRHS),
        terminals: try arguments.value(Options.terminals), seed: try arguments.value(Options.seed))
    let text: String
    do {
        text = try GrammarGenerator.generate(spec)
    } catch {
        throw UsageError(generatorMessage(error))
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
