import Foundation
import Runner

// The commands that read a results CSV: assert and summary.

let assertSpec = CommandSpec(
    name: "assert", summary: "check claims against a results CSV (for regression tests in CI)",
    positionals: ["RESULTS.csv|-", "CLAIM..."],
    options: [Options.atStep.spec],
    details: """
    Each claim is one argument:
      'A < B on METRIC [for all sizes | at size S[,S2]] [for every seed] [with 95% confidence] [by MARGIN]'   (also >)
      'A ~ B on METRIC [for all sizes | at size S[,S2]]'
      'A - B on METRIC increases with size'                                                                  (also decreases)
    A, B are variants; METRIC a numeric column (excess_per_char, val_loss_per_char, gen_accuracy, ...). The final
    evaluation of each run counts (like with like: a run whose last row is before its size's final step, as in an
    interrupted sweep's file, is unfinished and not used; --at-step N compares every run's row at step N instead);
    means over seeds unless 'for every seed' (each seed, paired by seed number) or 'with 95% confidence' (the 95%
    t-interval of the differences paired by seed lies wholly below -MARGIN, or above MARGIN). 'A ~ B' claims no
    effect: that interval contains 0. An interval needs two paired seeds or more. A claim that needs a run that diverged or did not finish, or a seed
    one variant lacks, is UNDECIDED: the file cannot say, and the run is named. Exit status 1 if any claim fails
    or is undecided; 2 if the file cannot be read (or looks cut off), or a claim names a variant, size or column
    the file lacks. RESULTS.csv '-' is standard input.
    Example: cfg-run assert results/x.csv "3gram-in < 1gram on excess_per_char for all sizes by 0.01"
    """)

func runAssert(_ arguments: ParsedArguments) throws -> Int32 {
    let table = try readResults(arguments.positionals[0], arguments)
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
        let (verdict, lines) = claim.evaluate(table)
        print("\(verdict == .holds ? "holds" : verdict.rawValue.uppercased()): \(claim)")
        for line in lines { print("  " + line) }
        if verdict != .holds { failed += 1 }
    }
    return failed > 0 ? 1 : 0
}

let summaryBaseline = Options.text("--baseline", value: "VARIANT", help: "the variant the others are compared with (default 1gram)",
                                   default: "1gram")

let summarySpec = CommandSpec(
    name: "summary", summary: "print the comparison table of a results CSV (as at the end of a sweep)",
    positionals: ["RESULTS.csv|-"],
    options: [summaryBaseline.spec, Options.atStep.spec],
    details: """
    Per size (ordered by non-embedding parameters) and variant: the final evaluation's excess loss per character
    and generation accuracy, mean over seeds with a 95% t-interval, the difference to the baseline, and whether
    the intervals separate. The runs column counts the finished runs in the means; runs that diverged or did not
    finish (an interrupted sweep's file) are not averaged: they are counted with a '*', listed under the table,
    and the separation of their line is '?'. --at-step N uses every run's row at step N. Exit status 2 if the
    file cannot be read (or looks cut off), has no result rows, or has no runs of the baseline. RESULTS.csv '-' is
    standard input.
    """)

func runSummary(_ arguments: ParsedArguments) throws -> Int32 {
    let path = arguments.positionals[0]
    let table = try readResults(path, arguments)
    let baseline = try arguments.value(summaryBaseline)
    guard !table.allRuns.isEmpty else { throw UsageError("\(path): no result rows, only a header") }
    guard table.variants.contains(baseline) else {
        throw UsageError("\(path) has no runs of the baseline variant '\(baseline)' (variants in the file: \(ResultsTable.list(table.variants))); choose one with --baseline")
    }
    print(table.summary(baseline: baseline), terminator: "")
    return 0
}

/// A results file read for assert or summary (`-`: standard input; `--at-step` from `arguments`); any problem is a
/// usage error (exit status 2).
func readResults(_ path: String, _ arguments: ParsedArguments) throws -> ResultsTable {
    let step = try arguments.optional(Options.atStep)
    do { return try ResultsTable(contentsOfFile: path, atStep: step) } catch { throw UsageError(error.description) }
}
