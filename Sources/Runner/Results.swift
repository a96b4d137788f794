import Foundation

/// A results CSV read back: the final evaluation of every run, grouped by size and variant, with means and
/// 95% intervals over seeds. Used for the end-of-sweep summary and by `cfg-run assert`.
public struct ResultsTable {
    public struct Run {
        public let variant: String
        public let size: String
        public let seed: String
        public let params: Int
        public let nonEmbeddingParams: Int
        public let values: [String: Double]
        public let status: String
    }

    /// The last row (highest step) of each (variant, size, seed) run.
    public let runs: [Run]

    public struct ReadError: Error, CustomStringConvertible { public let description: String }

    public init(csv text: String, source: String = "results") throws(ReadError) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty else { throw ReadError(description: "\(source): empty file, expected a header line") }
        let header = CSV.fields(lines.removeFirst())
        for required in ["variant", "size", "seed", "step"] where !header.contains(required) {
            throw ReadError(description: "\(source): no '\(required)' column (is this a cfg-run results file?)")
        }
        let column = Dictionary(header.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var last: [String: (step: Int, run: Run)] = [:]
        var order: [String] = []
        for (number, line) in lines.enumerated() {
            let fields = CSV.fields(line)
            guard fields.count == header.count else {
                throw ReadError(description: "\(source):\(number + 2): \(fields.count) fields, the header has \(header.count)")
            }
            func text(_ name: String) -> String { column[name].map { fields[$0] } ?? "" }
            var values: [String: Double] = [:]
            for (name, i) in column { if let v = Double(fields[i]) { values[name] = v } }
            let run = Run(variant: text("variant"), size: text("size"), seed: text("seed"),
                          params: Int(text("params")) ?? 0, nonEmbeddingParams: Int(text("nonembed_params")) ?? 0,
                          values: values, status: column["status"] != nil ? text("status") : "ok")
            let key = run.variant + "|" + run.size + "|" + run.seed
            let step = Int(text("step")) ?? 0
            if last[key] == nil { order.append(key) }
            if step >= last[key]?.step ?? Int.min { last[key] = (step, run) }
        }
        runs = order.map { last[$0]!.run }
    }

    /// Sizes ordered by non-embedding parameters (then name).
    public var sizes: [String] {
        var params: [String: Int] = [:]
        for run in runs { params[run.size] = max(params[run.size] ?? 0, run.nonEmbeddingParams) }
        return params.keys.sorted { (params[$0]!, $0) < (params[$1]!, $1) }
    }

    public var variants: [String] {
        var seen: [String] = []
        for run in runs where !seen.contains(run.variant) { seen.append(run.variant) }
        return seen
    }

    /// Per-seed values of `metric` for a variant at a size (finite values only, seeds in file order).
    public func values(_ metric: String, variant: String, size: String) -> [(seed: String, value: Double)] {
        runs.filter { $0.variant == variant && $0.size == size }
            .compactMap { run in run.values[metric].flatMap { $0.isFinite ? (run.seed, $0) : nil } }
    }

    /// Mean and 95% t-interval half-width (NaN with fewer than two seeds).
    public static func meanInterval(_ xs: [Double]) -> (mean: Double, halfWidth: Double) {
        guard !xs.isEmpty else { return (.nan, .nan) }
        let n = Double(xs.count), mean = xs.reduce(0, +) / n
        guard xs.count > 1 else { return (mean, .nan) }
        let sd = (xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        return (mean, tQuantile975(xs.count - 1) * sd / n.squareRoot())
    }

    static func tQuantile975(_ df: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                               2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086]
        return df >= 1 && df <= table.count ? table[df - 1] : 1.96
    }

    /// The end-of-sweep summary: per size, each variant's final excess loss and generation accuracy against the
    /// 1gram baseline, with whether the 95% intervals over seeds separate.
    public func summary(baseline: String = "1gram") -> String {
        var out = "final evaluation, mean over seeds [95% interval]; Δ = variant - \(baseline); 'sep' = intervals separate\n"
        out += "size      variant                    excess/char                 Δ excess    sep   gen acc                Δ acc    sep\n"
        for size in sizes {
            let base = ResultsTable.meanInterval(values("excess_per_char", variant: baseline, size: size).map(\.value))
            let baseAcc = ResultsTable.meanInterval(values("gen_accuracy", variant: baseline, size: size).map(\.value))
            for variant in variants {
                let e = ResultsTable.meanInterval(values("excess_per_char", variant: variant, size: size).map(\.value))
                let a = ResultsTable.meanInterval(values("gen_accuracy", variant: variant, size: size).map(\.value))
                guard e.mean.isFinite || a.mean.isFinite else { continue }
                let isBase = variant == baseline
                func interval(_ x: (mean: Double, halfWidth: Double), _ digits: Int, clamp: Bool = false) -> String {
                    guard x.halfWidth.isFinite else { return String(format: "%.\(digits)f", x.mean) }
                    var (low, high) = (x.mean - x.halfWidth, x.mean + x.halfWidth)
                    if clamp { (low, high) = (max(0, low), min(1, high)) }  // a fraction stays in [0, 1]
                    return String(format: "%.\(digits)f [%.\(digits)f, %.\(digits)f]", x.mean, low, high)
                }
                func separated(_ x: (mean: Double, halfWidth: Double), _ y: (mean: Double, halfWidth: Double)) -> String {
                    guard x.halfWidth.isFinite, y.halfWidth.isFinite else { return "-" }
                    return abs(x.mean - y.mean) > x.halfWidth + y.halfWidth ? "yes" : "no"
                }
                out += size.padding(toLength: 10, withPad: " ", startingAt: 0)
                out += variant.padding(toLength: 27, withPad: " ", startingAt: 0)
                out += interval(e, 4).padding(toLength: 28, withPad: " ", startingAt: 0)
                out += (isBase ? "" : String(format: "%+.4f", e.mean - base.mean)).padding(toLength: 12, withPad: " ", startingAt: 0)
                out += (isBase ? "" : separated(e, base)).padding(toLength: 6, withPad: " ", startingAt: 0)
                out += interval(a, 3, clamp: true).padding(toLength: 23, withPad: " ", startingAt: 0)
                out += (isBase ? "" : String(format: "%+.3f", a.mean - baseAcc.mean)).padding(toLength: 9, withPad: " ", startingAt: 0)
                out += isBase ? "" : separated(a, baseAcc)
                out += "\n"
            }
        }
        return out
    }
}

/// A finding stated as a checkable claim about a results table (the grammar of `cfg-run assert`):
///
///     A < B on METRIC [for all sizes | at size S] [for every seed] [by MARGIN]
///     A > B on METRIC ...
///     A - B on METRIC increases with size        (also: decreases with size)
///
/// A and B are variant names; comparisons use the final evaluation of each run. Without `for every seed` the
/// means over seeds are compared; with it, every seed (paired by seed number) must satisfy the claim. `by MARGIN`
/// requires the difference to exceed MARGIN. `increases with size` requires the mean difference to grow strictly
/// from each size to the next larger one (sizes ordered by non-embedding parameters).
public struct Claim: CustomStringConvertible {
    public enum Form {
        case compare(less: Bool, sizes: [String]?, everySeed: Bool, margin: Double)
        case trend(increasing: Bool)
    }
    public let a: String
    public let b: String
    public let metric: String
    public let form: Form
    public let text: String

    public var description: String { text }

    public struct ParseError: Error, CustomStringConvertible { public let description: String }

    public static let syntax = "'A < B on METRIC [for all sizes | at size S] [for every seed] [by MARGIN]' or 'A - B on METRIC increases|decreases with size'"

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
        case "<", ">":
            var sizes: [String]? = nil
            var everySeed = false
            var margin = 0.0
            while !rest.isEmpty {
                if rest.starts(with: ["for", "all", "sizes"]) { rest.removeFirst(3); sizes = nil; continue }
                if rest.starts(with: ["for", "every", "seed"]) { rest.removeFirst(3); everySeed = true; continue }
                if rest.count >= 3 && rest[0] == "at" && rest[1] == "size" {
                    sizes = (sizes ?? []) + rest[2].split(separator: ",").map(String.init)
                    rest.removeFirst(3)
                    continue
                }
                if rest.count >= 2 && rest[0] == "by", let value = Double(rest[1]), value >= 0 {
                    margin = value
                    rest.removeFirst(2)
                    continue
                }
                throw fail("unexpected '\(rest.joined(separator: " "))'")
            }
            form = .compare(less: words[1] == "<", sizes: sizes, everySeed: everySeed, margin: margin)
        case "-":
            guard rest.count == 3, rest[1] == "with", rest[2] == "size", rest[0] == "increases" || rest[0] == "decreases" else {
                throw fail("after 'A - B on METRIC' expected 'increases with size' or 'decreases with size'")
            }
            form = .trend(increasing: rest[0] == "increases")
        default:
            throw fail("the operator must be <, > or -")
        }
    }

    /// Checks the claim; returns the lines that explain the verdict, and whether it holds.
    public func check(_ table: ResultsTable) -> (holds: Bool, explanation: [String]) {
        var lines: [String] = []
        for variant in [a, b] where !table.variants.contains(variant) {
            return (false, ["no runs of variant '\(variant)' (the file has: \(table.variants.joined(separator: ", ")))"])
        }
        switch form {
        case .compare(let less, let sizes, let everySeed, let margin):
            let checked = sizes ?? table.sizes
            var holds = true
            for size in checked {
                let xs = table.values(metric, variant: a, size: size), ys = table.values(metric, variant: b, size: size)
                guard !xs.isEmpty, !ys.isEmpty else {
                    lines.append("size \(size): no finite '\(metric)' values for \(xs.isEmpty ? a : b)")
                    holds = false
                    continue
                }
                var pairs: [(String, Double)] = []
                if everySeed {
                    let byseed = Dictionary(ys.map { ($0.seed, $0.value) }, uniquingKeysWith: { x, _ in x })
                    for x in xs { if let y = byseed[x.seed] { pairs.append(("seed \(x.seed)", x.value - y)) } }
                    if pairs.isEmpty { lines.append("size \(size): no seed has both variants"); holds = false; continue }
                } else {
                    let mx = xs.map(\.value).reduce(0, +) / Double(xs.count), my = ys.map(\.value).reduce(0, +) / Double(ys.count)
                    pairs.append(("mean", mx - my))
                }
                for (label, difference) in pairs {
                    let ok = less ? difference < -margin : difference > margin
                    if !ok { holds = false }
                    lines.append(String(format: "size %@, %@: %@ - %@ = %+.5f %@ (needs %@ %@)", size, label, a, b,
                                        difference, ok ? "ok" : "FAILS", less ? "<" : ">",
                                        less ? String(format: "%.5f", -margin) : String(format: "%.5f", margin)))
                }
            }
            return (holds, lines)
        case .trend(let increasing):
            var previous: Double?
            var holds = true
            for size in table.sizes {
                let xs = table.values(metric, variant: a, size: size).map(\.value)
                let ys = table.values(metric, variant: b, size: size).map(\.value)
                guard !xs.isEmpty, !ys.isEmpty else { continue }
                let difference = xs.reduce(0, +) / Double(xs.count) - ys.reduce(0, +) / Double(ys.count)
                var verdict = ""
                if let previous {
                    let ok = increasing ? difference > previous : difference < previous
                    if !ok { holds = false }
                    verdict = ok ? " ok" : " FAILS"
                }
                lines.append(String(format: "size %@: mean %@ - %@ = %+.5f%@", size, a, b, difference, verdict))
                previous = difference
            }
            if lines.count < 2 { holds = false; lines.append("needs at least two sizes with both variants") }
            return (holds, lines)
        }
    }
}
