import Foundation

/// A finding stated as a checkable claim about a results table (the grammar of `cfg-run assert`):
///
///     A < B on METRIC [for all sizes | at size S] [for every seed] [with 95% confidence] [by MARGIN]
///     A > B on METRIC ...
///     A ~ B on METRIC [for all sizes | at size S]
///     A - B on METRIC increases with size        (also: decreases with size)
///
/// A and B are variant names; comparisons use the final evaluation of each run, and a seed that one variant has
/// and the other lacks leaves a claim undecided. Without `for every seed` the means over seeds are compared; with
/// it, every seed (paired by seed number) must satisfy the claim. `with 95% confidence` requires the 95% t-interval
/// of the differences paired by seed to lie wholly on the claimed side (the study's rule for "better" and
/// "worse"); `A ~ B` requires that interval to contain 0 (no effect: the seeds cannot tell A from B). Both need at
/// least two paired seeds. `by MARGIN` requires the difference (or the interval's near end) to exceed MARGIN. `increases with size` requires the mean difference to grow strictly from
/// each size to the next larger one (sizes ordered by non-embedding parameters).
public struct Claim: CustomStringConvertible {
    /// How A is claimed to stand to B: below, above, or not separable from it.
    public enum Relation { case less, greater, tie }
    public enum Form {
        case compare(relation: Relation, sizes: [String]?, everySeed: Bool, confident: Bool, margin: Double)
        case trend(increasing: Bool)
    }
    public let a: String
    public let b: String
    public let metric: String
    public let form: Form
    public let text: String

    public var description: String { text }

    public struct ParseError: Error, CustomStringConvertible { public let description: String }

    public static let syntax = "'A < B on METRIC [for all sizes | at size S] [for every seed] [with 95% confidence] [by MARGIN]', 'A ~ B on METRIC [for all sizes | at size S]' or 'A - B on METRIC increases|decreases with size'"

    public init(parsing text: String) throws(ParseError) {
        self.text = text
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        func fail(_ why: String) -> ParseError { ParseError(description: "cannot read the claim '\(text)': \(why); expected \(Claim.syntax)") }
        guard words.count >= 5, let on = words.firstIndex(of: "on"), on == 3, on + 1 < words.count else {
            throw fail("expected 'A <op> B on METRIC'")
        }
        a = words[0]
        b = words[2]
        metric = words[4]
        var rest = Array(words[5...])
        switch words[1] {
        case "<", ">", "~":
            let relation: Relation = words[1] == "<" ? .less : words[1] == ">" ? .greater : .tie
            var sizes: [String]? = nil
            var everySeed = false, confident = relation == .tie
            var margin = 0.0
            while !rest.isEmpty {
                if rest.starts(with: ["for", "all", "sizes"]) { rest.removeFirst(3); sizes = nil; continue }
                if rest.starts(with: ["for", "every", "seed"]) && relation != .tie { rest.removeFirst(3); everySeed = true; continue }
                if rest.starts(with: ["with", "95%", "confidence"]) { rest.removeFirst(3); confident = true; continue }
                if rest.count >= 3 && rest[0] == "at" && rest[1] == "size" {
                    sizes = (sizes ?? []) + rest[2].split(separator: ",").map(String.init)
                    rest.removeFirst(3)
                    continue
                }
                if rest.count >= 2 && rest[0] == "by" && relation != .tie, let value = Double(rest[1]), value >= 0 {
                    margin = value
                    rest.removeFirst(2)
                    continue
                }
                throw fail("unexpected '\(rest.joined(separator: " "))'")
            }
            form = .compare(relation: relation, sizes: sizes, everySeed: everySeed, confident: confident, margin: margin)
        case "-":
            guard rest.count == 3, rest[1] == "with", rest[2] == "size", rest[0] == "increases" || rest[0] == "decreases" else {
                throw fail("after 'A - B on METRIC' expected 'increases with size' or 'decreases with size'")
            }
            form = .trend(increasing: rest[0] == "increases")
        default:
            throw fail("the operator must be <, >, ~ or -")
        }
    }

    /// Checks that what the claim names is in `table`: its two variants, its metric as a numeric column, and the
    /// sizes of `at size`. A claim that names something the file lacks is a mistake in the claim, not a finding
    /// (``check(_:)`` would call it failed); the error lists what the file has.
    public func validate(against table: ResultsTable) throws(ParseError) {
        func fail(_ why: String) -> ParseError { ParseError(description: "the claim '\(text)' \(why)") }
        func listed(_ names: [String], _ what: String) -> String {
            names.isEmpty ? "the file has no result rows" : "\(what) in the file: \(ResultsTable.list(names))"
        }
        for variant in [a, b] where !table.variants.contains(variant) {
            throw fail("names the variant '\(variant)', which has no runs in the file (\(listed(table.variants, "variants")))")
        }
        let numeric = "numeric columns: \(ResultsTable.list(table.numericColumns, limit: 30))"
        if !table.columns.contains(metric) {
            throw fail("compares on '\(metric)', which is not a column of the file (\(numeric))")
        }
        if !table.numericColumns.contains(metric) {
            throw fail("compares on the column '\(metric)', which is not numeric (\(numeric))")
        }
        if case .compare(_, let sizes?, _, _, _) = form {
            for size in sizes where !table.sizes.contains(size) {
                throw fail("names the size '\(size)', which has no runs in the file (\(listed(table.sizes, "sizes")))")
            }
        }
    }

    /// How a claim came out. `undecided`: it needs a run that diverged or did not finish (or a seed that has no
    /// partner), so the file cannot say; like `fails`, it is not a finding that holds.
    public enum Verdict: String { case holds, fails, undecided }

    /// Checks the claim; returns the lines that explain the verdict, and whether it holds (an undecided claim
    /// does not).
    public func check(_ table: ResultsTable) -> (holds: Bool, explanation: [String]) {
        let (verdict, lines) = evaluate(table)
        return (verdict == .holds, lines)
    }

    /// Checks the claim on the finished runs of `table`. Every size it covers must have finished runs of both
    /// variants; a diverged or unfinished run of either variant at such a size makes the claim undecided there
    /// (named in the explanation), as does a seed that one variant has and the other lacks.
    /// Failing anywhere makes the claim fail; otherwise undecided anywhere makes it undecided.
    public func evaluate(_ table: ResultsTable) -> (verdict: Verdict, explanation: [String]) {
        var lines: [String] = []
        for variant in [a, b] where !table.variants.contains(variant) {
            return (.fails, ["no runs of variant '\(variant)' (the file has: \(ResultsTable.list(table.variants)))"])
        }
        var failed = false, undecided = false
        /// The runs at `size` that keep the claim from being decided there, named in the explanation.
        func blocked(at size: String) -> Bool {
            var problems = (table.problems(variant: a, size: size) + table.problems(variant: b, size: size))
                .map { "\($0.name) \($0.problem ?? "")" }
            // A finished run without a finite value, beside runs with one: leaving it out would choose the seeds.
            for variant in [a, b] {
                let finished = table.runs.filter { $0.variant == variant && $0.size == size }
                let missing = finished.filter { !($0.values[metric]?.isFinite ?? false) }
                if missing.count < finished.count {
                    problems += missing.map { "\($0.name) has \(metric) = \($0.values[metric].map { "\($0)" } ?? "no value")" }
                }
            }
            for problem in problems { lines.append("size \(size): \(problem): cannot be decided without it") }
            if !problems.isEmpty { undecided = true }
            return !problems.isEmpty
        }
        /// Whether a seed at `size` has a value for one variant and none for the other (named in the explanation):
        /// means or differences over unequal seed sets would compare different samples, so such a size decides nothing.
        func unpairedSeeds(_ xs: [(seed: String, value: Double)], _ ys: [(seed: String, value: Double)],
                           at size: String, quiet: Bool) -> Bool {
            let seedsOfA = Set(xs.map(\.seed)), seedsOfB = Set(ys.map(\.seed))
            if seedsOfA == seedsOfB { return false }
            if !quiet {
                for x in xs where !seedsOfB.contains(x.seed) { lines.append("size \(size), seed \(x.seed): no \(b) value to pair with \(a)'s") }
                for y in ys where !seedsOfA.contains(y.seed) { lines.append("size \(size), seed \(y.seed): no \(a) value to pair with \(b)'s") }
            }
            undecided = true
            return true
        }
        switch form {
        case .compare(let relation, let sizes, let everySeed, let confident, let margin):
            let less = relation == .less
            for size in sizes ?? table.sizes {
                let xs = table.values(metric, variant: a, size: size), ys = table.values(metric, variant: b, size: size)
                let isBlocked = blocked(at: size)
                guard !xs.isEmpty, !ys.isEmpty else {
                    if !isBlocked {
                        lines.append("size \(size): no finite '\(metric)' values for \(xs.isEmpty ? a : b)")
                        failed = true
                    }
                    continue
                }
                // The differences paired by seed (for `for every seed` and for an interval); a seed without its
                // partner leaves the claim undecided, in every form (a mean over other seeds is another sample).
                let unpaired = unpairedSeeds(xs, ys, at: size, quiet: isBlocked)
                let bySeed = Dictionary(ys.map { ($0.seed, $0.value) }, uniquingKeysWith: { x, _ in x })
                let paired = xs.compactMap { x in bySeed[x.seed].map { (seed: x.seed, difference: x.value - $0) } }
                let suffix = isBlocked ? " (finished runs only)" : unpaired ? " (paired seeds only)" : ""
                let bound = margin == 0 ? (less ? "< 0" : "> 0")
                    : less ? String(format: "< %.5f", -margin) : String(format: "> %.5f", margin)
                if everySeed {
                    for (seed, difference) in paired {
                        let ok = less ? difference < -margin : difference > margin
                        if !ok { failed = true }   // a seed that fails fails the claim
                        lines.append(String(format: "size %@, seed %@: %@ - %@ = %+.5f %@ (needs %@)%@", size, seed, a, b,
                                            difference, ok ? "ok" : "FAILS", bound, suffix))
                    }
                }
                if confident {
                    guard paired.count >= 2 else {
                        lines.append("size \(size): \(paired.count) paired seed\(paired.count == 1 ? "" : "s"): a 95% interval needs at least two")
                        if !isBlocked && !unpaired { failed = true }
                        continue
                    }
                    let (mean, half) = ResultsTable.meanInterval(paired.map(\.difference))
                    let low = mean - half, high = mean + half
                    let ok: Bool
                    switch relation {
                    case .less: ok = high < -margin
                    case .greater: ok = low > margin
                    case .tie: ok = low <= 0 && high >= 0
                    }
                    // An interval without some runs or seeds decides nothing.
                    if !ok && !isBlocked && !unpaired { failed = true }
                    let needs = relation == .tie ? "to contain 0" : "wholly \(bound)"
                    lines.append(String(format: "size %@, %d seeds paired: %@ - %@ = %+.5f [%+.5f, %+.5f] %@ (95%% interval; needs it %@)%@",
                                        size, paired.count, a, b, mean, low, high, ok ? "ok" : "FAILS", needs, suffix))
                } else if !everySeed {
                    // With an unpaired seed, the line shows the mean over the paired seeds (for the reader; it
                    // decides nothing).
                    if unpaired && paired.isEmpty { continue }
                    let difference = unpaired ? paired.map(\.difference).reduce(0, +) / Double(paired.count)
                        : xs.map(\.value).reduce(0, +) / Double(xs.count) - ys.map(\.value).reduce(0, +) / Double(ys.count)
                    let ok = less ? difference < -margin : difference > margin
                    // A mean without some runs or seeds decides nothing.
                    if !ok && !isBlocked && !unpaired { failed = true }
                    lines.append(String(format: "size %@, mean: %@ - %@ = %+.5f %@ (needs %@)%@", size, a, b,
                                        difference, ok ? "ok" : "FAILS", bound, suffix))
                }
            }
        case .trend(let increasing):
            var previous: Double?
            var compared = 0
            for size in table.sizes {
                let xs = table.values(metric, variant: a, size: size).map(\.value)
                let ys = table.values(metric, variant: b, size: size).map(\.value)
                if blocked(at: size) { previous = nil; continue }
                guard !xs.isEmpty, !ys.isEmpty else {
                    // A size without values breaks the trend's chain: it cannot be said to hold across it.
                    lines.append("size \(size): no finite '\(metric)' values for \(xs.isEmpty ? a : b): the trend cannot hold across it")
                    failed = true
                    previous = nil
                    continue
                }
                if unpairedSeeds(table.values(metric, variant: a, size: size), table.values(metric, variant: b, size: size),
                                 at: size, quiet: false) { previous = nil; continue }
                let difference = xs.reduce(0, +) / Double(xs.count) - ys.reduce(0, +) / Double(ys.count)
                var verdict = ""
                if let previous {
                    let ok = increasing ? difference > previous : difference < previous
                    if !ok { failed = true }
                    verdict = ok ? " ok" : " FAILS"
                }
                lines.append(String(format: "size %@: mean %@ - %@ = %+.5f%@", size, a, b, difference, verdict))
                previous = difference
                compared += 1
            }
            if compared < 2 && !failed && !undecided { failed = true; lines.append("needs at least two sizes with both variants") }
        }
        return (failed ? .fails : undecided ? .undecided : .holds, lines)
    }
}
