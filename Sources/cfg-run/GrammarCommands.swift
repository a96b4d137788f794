import Foundation
import Grammar
import Runner
import SeededRandom

// MARK: sample

let sampleCount = Options.integer("-n", "--count", help: "number of strings (default 10)", default: 10, range: 0...Int.max)

let sampleSpec = CommandSpec(
    name: "sample", summary: "print strings sampled from a grammar, one per line",
    positionals: ["G.cfg"],
    options: [
        sampleCount.spec,
        Options.seed.with(help: "random seed (default 1); the same seed gives the same strings everywhere").spec,
    ],
    details: """
    Terminals are separated by single spaces. Rules are chosen by their weights, uniformly where the file gives
    none. A grammar whose expected string length is over \(Int(GrammarSampler.maximumExpectedLength)) terminals is refused (exit status 2).
    """)

func runSample(_ arguments: ParsedArguments) throws -> Int32 {
    let count = try arguments.value(sampleCount)
    let seed = try arguments.value(Options.seed)
    let grammar = try loadGrammar(arguments.positionals[0])
    do { try GrammarSampler.checkExpectedLength(of: grammar) } catch { throw UsageError(error.description) }
    let sampler = GrammarSampler(grammar: grammar)
    var generator = SeededGenerator(seed: seed)
    var out = OutputBuffer()
    var string: [Int32] = []
    var stack: [Int32] = []
    let names = grammar.terminals
    for _ in 0..<count {
        string.removeAll(keepingCapacity: true)
        sampler.sample(into: &string, stack: &stack, using: &generator)
        var line = ""
        for (i, t) in string.enumerated() {
            if i > 0 { line += " " }
            line += names[Int(t)]
        }
        out.write(line + "\n")
    }
    out.flush()
    return 0
}

// MARK: stats

let statsSamples = Options.integer("--samples", help: "strings sampled for the entropy and ambiguity estimates (default 1000)",
                                   default: 1000, range: 2...Int.max)
let statsCSV = Option(flag: "--csv", help: "print one machine-readable CSV row (with a header) instead")

let statsSpec = CommandSpec(
    name: "stats", summary: "exact lengths, sizes, entropy per character and ambiguity of a grammar",
    positionals: ["G.cfg"],
    options: [
        statsSamples.spec,
        Options.seed.with(help: "seed of those samples (default 1)").spec,
        statsCSV.spec,
    ],
    details: """
    Lengths (min, max, expected) are exact, by dynamic programming over the rules. Entropy per character is
    the mean of -log P(x) over sampled strings (inside algorithm, all parses) divided by their mean length plus one
    (the end of string counts as one character): the loss of a perfect model. Ambiguity is the mean number of
    parse trees per sampled string. For a grammar whose expected string length is over \(Int(GrammarSampler.maximumExpectedLength))
    terminals, nothing is sampled: the exact values are printed, the estimates are NA, and a warning says why.
    """)

func runStats(_ arguments: ParsedArguments) throws -> Int32 {
    let samples = try arguments.value(statsSamples)
    let seed = try arguments.value(Options.seed)
    let path = arguments.positionals[0]
    let grammar = try loadGrammar(path)
    let stats = GrammarStatistics(grammar: grammar, samples: samples, seed: seed)
    func number(_ x: Double?, _ digits: Int = 2) -> String {
        guard let x else { return "NA" }
        return x.isFinite ? String(format: "%.\(digits)f", x) : (x > 0 ? "inf" : "nan")
    }
    if let failure = stats.estimateFailure {
        printError("warning: no entropy or ambiguity estimates: \(failure)")
    }
    if arguments.flag(statsCSV) {
        let header = "grammar,terminals,nonterminals,rules,normal_form_symbols,min_length,max_length,expected_length,samples,seed,sampled_mean_length,entropy_per_char,entropy_per_char_se,entropy_per_string,mean_parses,mean_parses_se"
        let fields = [CSV.quote(path), "\(stats.terminals)", "\(stats.nonterminals)", "\(stats.rules)",
                      stats.normalFormSymbols.map(String.init) ?? "NA", number(stats.minLength, 0), number(stats.maxLength, 0),
                      number(stats.expectedLength, 4), "\(stats.samples)", "\(stats.seed)",
                      number(stats.sampledMeanLength, 4), number(stats.entropy?.perCharacter, 6),
                      number(stats.entropy?.standardError, 6), number(stats.entropy?.perString, 4),
                      number(stats.meanParses, 4), number(stats.meanParsesStandardError, 4)]
        print(header)
        print(fields.joined(separator: ","))
        return 0
    }
    let rows: [(String, String)] = [
        ("grammar", path),
        ("terminals", "\(stats.terminals)"),
        ("nonterminals", "\(stats.nonterminals)"),
        ("rules", "\(stats.rules)"),
        ("start symbol", grammar.nonterminals[grammar.start]),
        ("normal-form symbols", "\(stats.normalFormSymbols.map(String.init) ?? "NA") (chart parser: nonterminals, preterminals, binarisation)"),
        ("length: min", number(stats.minLength, 0) + " (exact)"),
        ("length: max", number(stats.maxLength, 0) + " (exact)"),
        ("length: expected", number(stats.expectedLength) + " (exact)"),
        ("length: sampled mean", stats.sampledMeanLength == nil ? "NA (no strings sampled)" : number(stats.sampledMeanLength) + " (\(samples) samples, seed \(seed))"),
        ("entropy per character", "\(number(stats.entropy?.perCharacter, 4)) ± \(number(stats.entropy?.standardError, 4)) nats (standard error; end of string counts as a character)"),
        ("entropy per string", number(stats.entropy?.perString) + " nats"),
        ("ambiguity", "\(number(stats.meanParses)) ± \(number(stats.meanParsesStandardError)) parse trees per string (mean ± standard error)"),
    ]
    for (label, value) in rows { print(label.padding(toLength: 24, withPad: " ", startingAt: 0) + value) }
    return 0
}
