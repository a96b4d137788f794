import Files
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
    /// The header's column names, in file order.
    public let columns: [String]
    /// The columns a claim can compare on, in file order: those of ``ResultRow``'s schema that are numbers, and
    /// any other column (not grammar, variant, size or status) whose every value is a number.
    public let numericColumns: [String]

    public struct ReadError: Error, CustomStringConvertible { public let description: String }

    /// Reads a results file. Besides what ``init(csv:source:)`` checks, the file must be UTF-8 text that ends
    /// with a line break: cfg-run ends every line it writes with one, so a last line without one was cut off
    /// (by a full disk, a killed process, a copy in progress) and may hold a cut number that still reads as one.
    /// A file that cannot be read says why (no such file, a directory, permission).
    public init(contentsOfFile path: String) throws(ReadError) {
        let bytes: [UInt8]
        do { bytes = try FileReading.contents(ofFile: path, limit: ResultsTable.maximumFileSize) } catch {
            throw ReadError(description: error.description)
        }
        try self.init(csv: try ResultsTable.text(ofFile: bytes, source: path), source: path)
    }

    /// The most bytes a results file may hold (an endless stream given by mistake must not fill the memory).
    public static let maximumFileSize = 1 << 32

    /// The bytes of a whole results file (or of a pipe, read once) as text, checked as ``init(contentsOfFile:)``
    /// checks a file: UTF-8 that ends with a line break. `source` names the file in errors.
    public static func text(ofFile bytes: [UInt8], source: String) throws(ReadError) -> String {
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw ReadError(description: "\(source): not UTF-8 text (is this a cfg-run results file?)")
        }
        if let last = bytes.last, last != UInt8(ascii: "\n") {
            let line = bytes.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            throw ReadError(description: "\(source):\(line): the last line does not end with a line break: the file looks cut off (cfg-run ends every line with one, so a complete results file ends with a newline); remove the incomplete line or rerun the sweep to rewrite the file")
        }
        return text
    }

    /// Reads results from CSV text (`\n` or `\r\n` line breaks; `source` names it in errors). Errors name the line
    /// and, where it applies, the column: a header without variant, size, seed or step; a row whose field count
    /// differs from the header's; a value that is not a number in a numeric column of ``ResultRow``'s schema
    /// (`NaN`, `Inf` and `-Inf` are numbers, written as cfg-run writes them); a status other than ok or diverged;
    /// a quoted field that is never closed. A last row without a line break is read (a text made in memory need
    /// not end with one); ``init(contentsOfFile:)`` refuses it in a file.
    public init(csv text: String, source: String = "results") throws(ReadError) {
        func fail(_ line: Int, _ message: String) -> ReadError { ReadError(description: "\(source):\(line): \(message)") }
        var records = CSV.records(text)
        guard !records.isEmpty else { throw ReadError(description: "\(source): empty file, expected a header line") }
        if let last = records.last, last.ending == .insideQuotes {
            throw fail(last.line, "a quoted field is never closed: the file looks cut off")
        }
        let header = records.removeFirst().fields
        for required in ["variant", "size", "seed", "step"] where !header.contains(required) {
            throw ReadError(description: "\(source): no '\(required)' column (is this a cfg-run results file?)")
        }
        let column = Dictionary(header.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let schemaNumeric = Set(ResultRow.numericColumnNames)
        let textColumns = Set(ResultRow.columnNames).subtracting(schemaNumeric)
        // Columns whose values are numbers: checked for the schema's, found out for others.
        var numeric = header.indices.filter { column[header[$0]] == $0 && !textColumns.contains(header[$0]) }
        var last: [String: (step: Int, run: Run)] = [:]
        var order: [String] = []
        var rows: [(line: Int, fields: [String])] = []
        for record in records {
            let fields = record.fields
            guard fields.count == header.count else {
                throw fail(record.line, "\(fields.count) fields, the header has \(header.count)")
            }
            for i in numeric where schemaNumeric.contains(header[i]) && ResultRow.number(fields[i]) == nil {
                throw fail(record.line, "column '\(header[i])': '\(fields[i].prefix(40))' is not a number (numbers are written like 0.25, 12, NaN, Inf or -Inf)")
            }
            if let i = column["status"], !ResultRow.statuses.contains(fields[i]) {
                throw fail(record.line, "column 'status': '\(fields[i].prefix(40))' is not one of \(ResultRow.statuses.joined(separator: ", "))")
            }
            numeric.removeAll { ResultsTable.number(fields[$0]) == nil }
            rows.append((record.line, fields))
        }
        for (_, fields) in rows {
            func text(_ name: String) -> String { column[name].map { fields[$0] } ?? "" }
            var values: [String: Double] = [:]
            for i in numeric { values[header[i]] = ResultsTable.number(fields[i]) }
            let run = Run(variant: text("variant"), size: text("size"), seed: text("seed"),
                          params: Int(text("params")) ?? 0, nonEmbeddingParams: Int(text("nonembed_params")) ?? 0,
                          values: values, status: column["status"] != nil ? text("status") : "ok")
            let key = run.variant + "|" + run.size + "|" + run.seed
            let step = Int(text("step")) ?? 0
            if last[key] == nil { order.append(key) }
            if step >= last[key]?.step ?? Int.min { last[key] = (step, run) }
        }
        runs = order.map { last[$0]!.run }
        columns = header
        numericColumns = numeric.map { header[$0] }
    }

    /// A field as a number: as cfg-run writes them (including NaN, Inf, -Inf), or as Swift reads a `Double`.
    static func number(_ field: String) -> Double? { ResultRow.number(field) ?? Double(field) }

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

    /// Checks that what the claim names is in `table`: its two variants, its metric as a numeric column, and the
    /// sizes of `at size`. A claim that names something the file lacks is a mistake in the claim, not a finding
    /// (``check(_:)`` would call it failed); the error lists what the file has.
    public func validate(against table: ResultsTable) throws(ParseError) {
        func fail(_ why: String) -> ParseError { ParseError(description: "the claim '\(text)' \(why)") }
        func listed(_ names: [String], _ what: String) -> String {
            names.isEmpty ? "the file has no result rows" : "\(what) in the file: \(names.joined(separator: ", "))"
        }
        for variant in [a, b] where !table.variants.contains(variant) {
            throw fail("names the variant '\(variant)', which has no runs in the file (\(listed(table.variants, "variants")))")
        }
        let numeric = "numeric columns: \(table.numericColumns.joined(separator: ", "))"
        if !table.columns.contains(metric) {
            throw fail("compares on '\(metric)', which is not a column of the file (\(numeric))")
        }
        if !table.numericColumns.contains(metric) {
            throw fail("compares on the column '\(metric)', which is not numeric (\(numeric))")
        }
        if case .compare(_, let sizes?, _, _) = form {
            for size in sizes where !table.sizes.contains(size) {
                throw fail("names the size '\(size)', which has no runs in the file (\(listed(table.sizes, "sizes")))")
            }
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
