import Foundation
import Runner

// The commands that read a results CSV: assert and summary.

let assertSpec = CommandSpec(
    name: "assert", summary: "check claims against a results CSV (for regression tests in CI)",
    positionals: ["RESULTS.csv", "CLAIM..."],
    options: [],
    details: """
    Each claim is one argument:
      'A < B on METRIC [for all sizes | at size S[,S2]] [for every seed] [by MARGIN]'   (also >)
      'A - B on METRIC increases with size'                                             (also decreases)
    A, B are variants; METRIC a numeric column (excess_per_char, val_loss_per_char, gen_accuracy, ...). The final
    evaluation of each run counts; means over seeds unless 'for every seed'. Exit status 1 if any claim fails;
    2 if the file cannot be read (or looks cut off), or a claim names a variant, size or column the file lacks.
    Example: cfg-run assert results/x.csv "3gram-in < 1gram on excess_per_char for all sizes by 0.01"
    """)

func runAssert(_ arguments: ParsedArguments) throws -> Int32 {
    let table = try readResults(arguments.positionals[0])
    // Every claim is read and matched against the file before any verdict is printed.
    var claims: [Claim] = []
    for claimText in arguments.positionals.dropFirst() {
        do {
            let claim = try Claim(parsing: claimText)
            try claim.validate(against: table)
            claims.append(claim)
        } catch {
            throw UsageError(error.description)
        }
    }
    var failed = 0
    for claim in claims {
        let (holds, lines) = claim.check(table)
        print("\(holds ? "holds" : "FAILS"): \(claim)")
        for line in lines { print("  " + line) }
        if !holds { failed += 1 }
    }
    return failed > 0 ? 1 : 0
}

let summarySpec = CommandSpec(
    name: "summary", summary: "print the comparison table of a results CSV (as at the end of a sweep)",
    positionals: ["RESULTS.csv"],
    options: [OptionSpec("--baseline", value: "VARIANT", help: "the variant the others are compared with (default 1gram)")],
    details: """
    Per size (ordered by non-embedding parameters) and variant: the final evaluation's excess loss per character
    and generation accuracy, mean over seeds with a 95% t-interval, the difference to the baseline, and whether
    the intervals separate. Exit status 2 if the file cannot be read (or looks cut off), has no result rows, or
    has no runs of the baseline.
    """)

func runSummary(_ arguments: ParsedArguments) throws -> Int32 {
    let path = arguments.positionals[0]
    let table = try readResults(path)
    let baseline = arguments.string("--baseline") ?? "1gram"
    guard !table.runs.isEmpty else { throw UsageError("\(path): no result rows, only a header") }
    guard table.variants.contains(baseline) else {
        throw UsageError("\(path) has no runs of the baseline variant '\(baseline)' (variants in the file: \(table.variants.joined(separator: ", "))); choose one with --baseline")
    }
    print(table.summary(baseline: baseline), terminator: "")
    return 0
}

/// A results file read for assert or summary; any problem is a usage error (exit status 2).
func readResults(_ path: String) throws -> ResultsTable {
    do { return try ResultsTable(contentsOfFile: path) } catch { throw UsageError(error.description) }
}
