import Dispatch
import Foundation
import Grammar
import Runner
import SeededRandom

// MARK: sample

let sampleSpec = CommandSpec(
    name: "sample", summary: "print strings sampled from a grammar, one per line",
    positionals: ["G.cfg"],
    options: [
        OptionSpec("-n", "--count", value: "N", help: "number of strings (default 10)"),
        OptionSpec("--seed", value: "S", help: "random seed (default 1); the same seed gives the same strings everywhere"),
    ],
    details: "Terminals are separated by single spaces. Rules are chosen by their weights, uniformly where the file gives none.")

func runSample(_ arguments: ParsedArguments) throws -> Int32 {
    let count = try arguments.int("--count", default: 10, range: 0...Int.max)
    let seed = try arguments.uint64("--seed", default: 1)
    let grammar = try loadGrammar(arguments.positionals[0])
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
        OptionSpec("--logprob", help: "also print the natural log of each string's probability (tab-separated)"),
        OptionSpec("--threads", value: "N", help: "worker threads (default: all cores)"),
    ],
    details: """
    Reads one string per line (terminals separated by white space) from FILE, or standard input when FILE is '-'
    or absent, and prints one verdict per line: 'ok' or 'reject'. A summary goes to stderr. Exit status 1 if any
    line is rejected; 'error' (exit status 2) marks a string beyond the parser's size limits.
    """)

func runCheck(_ arguments: ParsedArguments) throws -> Int32 {
    let threads = try arguments.int("--threads", default: ProcessInfo.processInfo.activeProcessorCount, range: 1...1024)
    let withLogProbability = arguments.flag("--logprob")
    let grammar = try loadGrammar(arguments.positionals[0])
    let inputName = arguments.positionals.count > 1 ? arguments.positionals[1] : "-"
    let data: Data
    if inputName == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        guard let contents = FileManager.default.contents(atPath: inputName) else {
            throw UsageError("cannot read the file '\(inputName)'")
        }
        data = contents
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw UsageError("\(inputName == "-" ? "standard input" : inputName) is not valid UTF-8 text")
    }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if lines.last == "" { lines.removeLast() }
    let parser = try ChartParser(grammar: grammar)

    // Encode every line; unknown terminals are rejections, reported with their position.
    var encoded = [[Int]?](repeating: nil, count: lines.count)
    var complaints = 0
    for (number, line) in lines.enumerated() {
        var ids: [Int] = []
        var unknown: (String, Int)?
        var token = ""
        var column = 0, tokenColumn = 0
        for character in line.unicodeScalars + [" "] {
            column += 1
            if character == " " || character == "\t" || character == "\r" {
                if token.isEmpty { continue }
                guard let id = grammar.terminalID(token) else { unknown = (token, tokenColumn); break }
                ids.append(id)
                token = ""
            } else {
                if token.isEmpty { tokenColumn = column }
                token.unicodeScalars.append(character)
            }
        }
        if let (token, column) = unknown {
            if complaints < 10 {
                printError("\(inputName == "-" ? "<stdin>" : inputName):\(number + 1):\(column): '\(token)' is not a terminal of the grammar")
            }
            complaints += 1
            continue
        }
        encoded[number] = ids
    }

    var verdicts = [(Bool, Double)](repeating: (false, -.infinity), count: lines.count)
    var failures = [String?](repeating: nil, count: lines.count)
    let start = Date()
    let chunk = max(1, lines.count / (threads * 8))
    let chunks = (lines.count + chunk - 1) / chunk
    verdicts.withUnsafeMutableBufferPointer { verdicts in
        failures.withUnsafeMutableBufferPointer { failures in
            nonisolated(unsafe) let verdicts = verdicts
            nonisolated(unsafe) let failures = failures
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                for i in (c * chunk)..<min(lines.count, (c + 1) * chunk) {
                    guard let ids = encoded[i] else { continue }
                    do {
                        let logP = try parser.logProbability(ids)
                        verdicts[i] = (logP > -.infinity, logP)
                    } catch {
                        failures[i] = "\(error)"
                    }
                }
            }
        }
    }
    let seconds = Date().timeIntervalSince(start)
    var out = OutputBuffer()
    var rejected = 0, undecided = 0
    for (i, (ok, logP)) in verdicts.enumerated() {
        if let failure = failures[i] {
            printError("\(inputName == "-" ? "<stdin>" : inputName):\(i + 1):1: error: \(failure)")
            undecided += 1
            out.write("error\n")
            continue
        }
        if !ok { rejected += 1 }
        out.write((ok ? "ok" : "reject") + (withLogProbability ? "\t\(logP)" : "") + "\n")
    }
    out.flush()
    let rate = seconds > 0 ? String(format: "%.0f", Double(lines.count) / seconds) : "-"
    printError("checked \(lines.count) strings: \(lines.count - rejected - undecided) ok, \(rejected) rejected (\(complaints) with unknown symbols), \(undecided) beyond the parser's limits; \(rate) strings/s on \(threads) thread\(threads == 1 ? "" : "s")")
    return undecided > 0 ? 2 : rejected > 0 ? 1 : 0
}

// MARK: stats

let statsSpec = CommandSpec(
    name: "stats", summary: "exact lengths, sizes, entropy per character and ambiguity of a grammar",
    positionals: ["G.cfg"],
    options: [
        OptionSpec("--samples", value: "N", help: "strings sampled for the entropy and ambiguity estimates (default 1000)"),
        OptionSpec("--seed", value: "S", help: "seed of those samples (default 1)"),
        OptionSpec("--csv", help: "print one machine-readable CSV row (with a header) instead"),
    ],
    details: """
    Lengths (min, max, expected) are exact, by dynamic programming over the rules. Entropy per character is
    the mean of -log P(x) over sampled strings (inside algorithm, all parses) divided by their mean length plus one
    (the end of string counts as one character): the loss of a perfect model. Ambiguity is the mean number of
    parse trees per sampled string.
    """)

func runStats(_ arguments: ParsedArguments) throws -> Int32 {
    let samples = try arguments.int("--samples", default: 1000, range: 2...Int.max)
    let seed = try arguments.uint64("--seed", default: 1)
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
    if arguments.flag("--csv") {
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
        ("length: sampled mean", number(stats.sampledMeanLength) + " (\(samples) samples, seed \(seed))"),
        ("entropy per character", "\(number(stats.entropy?.perCharacter, 4)) ± \(number(stats.entropy?.standardError, 4)) nats (standard error; end of string counts as a character)"),
        ("entropy per string", number(stats.entropy?.perString) + " nats"),
        ("ambiguity", "\(number(stats.meanParses)) ± \(number(stats.meanParsesStandardError)) parse trees per string (mean ± standard error)"),
    ]
    for (label, value) in rows { print(label.padding(toLength: 24, withPad: " ", startingAt: 0) + value) }
    return 0
}
