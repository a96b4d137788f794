import Files
import Foundation
import Grammar

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
    let checker = MembershipChecker(parser: try ChartParser(grammar: grammar), workLimit: workLimit, threads: threads)
    let start = Date()
    var lastReport = Date()
    var out = OutputBuffer()
    var checked = 0, rejected = 0, unknown = 0, undecided = 0

    while let lines = try usage({ try reader.nextBatch() }) {
        let verdicts = checker.verdicts(on: lines)
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
            case .lineTooLong, .beyondLimits:
                if undecided < 10 {
                    let message = if case .beyondLimits(let message) = verdict { message } else {
                        "a line of over \(reader.maximumLineLength) bytes (no string of the grammar is that long to parse); not a list of strings, so reading stops here"
                    }
                    printError("\(location):1: error: \(message)")
                }
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
