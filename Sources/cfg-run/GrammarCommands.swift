import Files
import Foundation
import Grammar
import Kernels
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

// MARK: check

let checkSpec = CommandSpec(
    name: "check", summary: "check strings for membership in a grammar (exact chart parser)",
    positionals: ["G.cfg", "[FILE|-]"],
    options: [
        logProbability.spec,
        Options.threads.with(help: "worker threads (default: all cores); the output does not depend on it").spec,
        workLimit.spec,
    ],
    details: """
    Reads one string per line (terminals separated by white space; '\\r' is white space, so CRLF files read
    fine) from FILE, or standard input when FILE is '-' or absent, and prints one verdict per line: 'ok' or
    'reject'. A summary goes to stderr. Exit status 1 if any line is rejected; 'error' (exit status 2) marks a
    line that is not UTF-8 text, or a string beyond the parser's size limits or its --work-limit.
    Time is linear in the number of lines (they are read in batches, in bounded memory). The parse of one string
    is exact (a chart parser): for the layered, unambiguous grammars of the cfg3 family it is fast, but for an
    ambiguous grammar it is cubic in the string's length (S -> S S | a: 1,000 a's take about a second, 3,000
    about twenty), so --work-limit bounds each string and no single line can stall the check. The grammar and
    the strings cannot both come from standard input.
    """)

/// `check --work-limit`'s default: about 2-3 seconds of parsing on one core.
let defaultWorkLimit = 500_000_000
let logProbability = Option(flag: "--logprob", help: "also print the natural log of each string's probability (tab-separated)")
let workLimit = Options.integer("--work-limit", help: "chart combinations one string may take (default \(defaultWorkLimit), a few seconds); past it the line is 'error'",
                                default: defaultWorkLimit, range: 1...Int.max)

/// The verdict on one input line of `cfg-run check`.
enum LineVerdict {
    case accepted(logProbability: Double)
    case rejected
    case unknownTerminal(name: String, column: Int)
    case invalidUTF8(column: Int)
    case beyondLimits(String)
}

/// A token for an error message: control characters escaped, and at most `limit` characters, with the full
/// length after an ellipsis when it is cut (an input line may hold one token of megabytes).
func displayToken(_ token: String, limit: Int = 40) -> String {
    var shown = ""
    var count = 0
    for scalar in token.unicodeScalars {
        count += 1
        if count > limit { continue }
        shown += scalar.value < 0x20 || scalar.value == 0x7F ? "\\u{\(String(scalar.value, radix: 16, uppercase: true))}" : String(scalar)
    }
    return count > limit ? shown + "… (\(count) characters)" : shown
}

func runCheck(_ arguments: ParsedArguments) throws -> Int32 {
    let threads = try arguments.value(Options.threads)
    let withLogProbability = arguments.flag(logProbability)
    let workLimit = try arguments.value(workLimit)
    let inputName = arguments.positionals.count > 1 ? arguments.positionals[1] : "-"
    if arguments.positionals[0] == "-" && inputName == "-" {
        throw UsageError("the grammar is read from standard input, so the strings cannot be: give them as a file (cfg-run check - STRINGS.txt)")
    }
    let grammar = try loadGrammar(arguments.positionals[0])
    let shownName = inputName == "-" ? "<stdin>" : inputName
    // The input is read in batches of lines, so any amount of it (even an endless stream) takes bounded memory;
    // verdicts are printed batch by batch, in line order.
    let reader: LineReader
    do { reader = try LineReader(path: inputName) } catch { throw UsageError(error.description) }
    let parser = try ChartParser(grammar: grammar)
    let pool = WorkerPool(threads: threads)
    let start = Date()
    var lastReport = Date()
    var out = OutputBuffer()
    var checked = 0, rejected = 0, unknown = 0, undecided = 0

    while let lines = try usage({ try reader.nextBatch() }) {
        // Encode and parse on the worker pool, each line writing only its own verdict.
        var verdicts = [LineVerdict](repeating: .rejected, count: lines.count)
        let chunk = max(1, min(256, lines.count / (threads * 16)))
        let chunks = (lines.count + chunk - 1) / chunk
        verdicts.withUnsafeMutableBufferPointer { verdicts in
            pool.parallelFor(chunks) { c in
                for i in (c * chunk)..<min(lines.count, (c + 1) * chunk) {
                    guard case .text(let text) = lines[i] else {
                        verdicts[i] = .beyondLimits("a line of over \(reader.maximumLineLength) bytes (no string of the grammar is that long to parse); not a list of strings, so reading stops here")
                        continue
                    }
                    let encoded = text.withUnsafeBufferPointer { grammar.encode(line: $0) }
                    switch encoded {
                    case .failure(.unknownTerminal(let name, let column)):
                        verdicts[i] = .unknownTerminal(name: name, column: column)
                    case .failure(.invalidUTF8(let column)):
                        verdicts[i] = .invalidUTF8(column: column)
                    case .success(let ids):
                        do {
                            let logP = try parser.logProbability(ids, workLimit: workLimit)
                            verdicts[i] = logP > -.infinity ? .accepted(logProbability: logP) : .rejected
                        } catch {
                            verdicts[i] = .beyondLimits("\(error)")
                        }
                    }
                }
            }
        }
        for (i, verdict) in verdicts.enumerated() {
            let location = "\(shownName):\(checked + i + 1)"
            switch verdict {
            case .accepted(let logP):
                out.write(withLogProbability ? "ok\t\(logP)\n" : "ok\n")
                continue
            case .rejected:
                break
            case .unknownTerminal(let name, let column):
                if unknown < 10 {
                    printError("\(location):\(column): '\(displayToken(name))' is not a terminal of the grammar")
                }
                unknown += 1
            case .invalidUTF8(let column):
                if undecided < 10 { printError("\(location):\(column): error: not valid UTF-8 text (invalid byte here)") }
                undecided += 1
                out.write("error\n")
                continue
            case .beyondLimits(let message):
                if undecided < 10 { printError("\(location):1: error: \(message)") }
                undecided += 1
                out.write("error\n")
                continue
            }
            rejected += 1
            out.write(withLogProbability ? "reject\t\(-Double.infinity)\n" : "reject\n")
        }
        out.flush()
        checked += lines.count
        if Date().timeIntervalSince(lastReport) >= 10 {
            lastReport = Date()
            printError(String(format: "checked %d strings so far (%.0f/s)", checked, Double(checked) / Date().timeIntervalSince(start)))
        }
    }
    let seconds = Date().timeIntervalSince(start)
    if unknown > 10 { printError("... and \(unknown - 10) more lines with symbols that are not terminals") }
    if undecided > 10 { printError("... and \(undecided - 10) more lines marked 'error'") }
    let rate = seconds > 0 ? String(format: "%.0f", Double(checked) / seconds) : "-"
    printError("checked \(checked) strings: \(checked - rejected - undecided) ok, \(rejected) rejected (\(unknown) with unknown symbols), \(undecided) not text or beyond the parser's limits; \(rate) strings/s on \(threads) thread\(threads == 1 ? "" : "s")")
    return undecided > 0 ? 2 : rejected > 0 ? 1 : 0
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
