import Files
import Foundation

/// A results CSV read back: the final evaluation of every run, grouped by size and variant, with means and
/// 95% intervals over seeds. Used for the end-of-sweep summary and by `cfg-run assert`.
///
/// Like is compared with like. A run is *finished* when its last row is at its size's final step (the highest step
/// any run of that size reached: a sweep trains every run of a size to one budget); a run of an interrupted sweep
/// whose last row is earlier is *unfinished*, and its last row is not a final result. A run whose last row says
/// `diverged` is a result that has no final metrics. Neither kind is averaged with the finished runs: they are
/// listed (``diverged``, ``unfinished``), and a claim or summary line that needs them says it cannot be decided.
/// With `atStep`, every run's row at that step is used instead (a run that diverged before it counts as diverged;
/// one that had not reached it as unfinished).
public struct ResultsTable {
    public struct Run {
        public let variant: String
        public let size: String
        public let seed: String
        public let params: Int
        public let nonEmbeddingParams: Int
        /// The numeric values of the row used: the final one, or the one at the step asked for.
        public let values: [String: Double]
        public let status: String
        /// The step of the row used, and the run's last step in the file.
        public let step: Int
        public let lastStep: Int
        /// The step a finished run of its size ends at (or the step asked for).
        public let finalStep: Int

        /// Why the run cannot stand beside finished ones (nil when it is one), e.g. "diverged at step 340".
        public var problem: String? {
            if status == "diverged" { return "diverged at step \(step)" }
            if step != finalStep {
                // Past the step asked for (--at-step) without a row there: evaluated at other steps, not unfinished.
                if lastStep > finalStep { return "has no row at step \(finalStep) (its rows end at step \(lastStep))" }
                return "unfinished (its last row is at step \(lastStep), not \(finalStep))"
            }
            return nil
        }

        /// "size S variant V seed K", to name the run.
        public var name: String { "\(variant) seed \(seed) at size \(size)" }
    }

    /// The finished runs: the row used of each (variant, size, seed) that reached its size's final step (or the
    /// step asked for) without diverging.
    public let runs: [Run]
    /// Runs that diverged (before the step asked for): results without final metrics.
    public let diverged: [Run]
    /// Runs whose last row is before their size's final step (or the step asked for).
    public let unfinished: [Run]
    /// The step asked for, if any.
    public let atStep: Int?
    /// Every run in the file, in file order: finished, diverged and unfinished.
    public let allRuns: [Run]
    /// The header's column names, in file order.
    public let columns: [String]
    /// The grammars named in the file's `grammar` column (empty without one): at most one, since runs are told apart
    /// by variant, size and seed only.
    public let grammars: [String]
    /// The columns a claim can compare on, in file order: those of ``ResultRow``'s schema that are numbers, and
    /// any other column (not grammar, variant, size or status) whose every value is a number.
    public let numericColumns: [String]

    public struct ReadError: Error, CustomStringConvertible { public let description: String }

    /// Reads a results file. Besides what ``init(csv:source:)`` checks, the file must be UTF-8 text that ends
    /// with a line break: cfg-run ends every line it writes with one, so a last line without one was cut off
    /// (by a full disk, a killed process, a copy in progress) and may hold a cut number that still reads as one.
    /// A file that cannot be read says why (no such file, a directory, permission).
    /// `-` reads standard input.
    public init(contentsOfFile path: String, atStep: Int? = nil) throws(ReadError) {
        let source = path == "-" ? "<stdin>" : path
        let bytes: [UInt8]
        do { bytes = try FileReading.contents(ofFile: path == "-" ? "/dev/stdin" : path, limit: ResultsTable.maximumFileSize) }
        catch { throw ReadError(description: error.description) }
        try self.init(csv: try ResultsTable.text(ofFile: bytes, source: source), source: source, atStep: atStep)
    }

    /// The most bytes a results file may hold (an endless stream given by mistake must not fill the memory).
    public static let maximumFileSize = 1 << 32

    /// The bytes of a whole results file (or of a pipe, read once) as text, checked as ``init(contentsOfFile:atStep:)``
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
    public init(csv text: String, source: String = "results", atStep: Int? = nil) throws(ReadError) {
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
        // Per run: its rows' steps and values, in file order.
        var rowsOf: [String: [(step: Int, values: [String: Double], status: String)]] = [:]
        var identity: [String: (variant: String, size: String, seed: String, params: Int, nonEmbeddingParams: Int)] = [:]
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
        // Two grammars' runs of one variant, size and seed would be read as one run: such a file (two results
        // files joined, say) is refused rather than averaged.
        var grammars: [String] = []
        if let g = column["grammar"] {
            for (line, fields) in rows where !grammars.contains(fields[g]) {
                grammars.append(fields[g])
                if grammars.count > 1 {
                    throw fail(line, "the grammar '\(fields[g].prefix(60))' after '\(grammars[0].prefix(60))': one results file holds one grammar's runs (its runs are told apart by variant, size and seed); give each grammar's results separately")
                }
            }
        }
        self.grammars = grammars
        for (line, fields) in rows {
            func text(_ name: String) -> String { column[name].map { fields[$0] } ?? "" }
            var values: [String: Double] = [:]
            for i in numeric { values[header[i]] = ResultsTable.number(fields[i]) }
            guard let step = Int(text("step")) else { throw fail(line, "column 'step': '\(text("step").prefix(40))' is not a whole number") }
            let key = [text("variant"), text("size"), text("seed")].joined(separator: "\u{1F}")
            if rowsOf[key] == nil {
                order.append(key)
                identity[key] = (text("variant"), text("size"), text("seed"), Int(text("params")) ?? 0, Int(text("nonembed_params")) ?? 0)
            }
            rowsOf[key, default: []].append((step, values, column["status"] != nil ? text("status") : "ok"))
        }
        // The step a finished run of each size ends at: the highest any run of that size reached.
        var finalStep: [String: Int] = [:]
        for key in order { finalStep[identity[key]!.size] = max(finalStep[identity[key]!.size] ?? Int.min, rowsOf[key]!.map(\.step).max()!) }
        // A step that no run evaluated at is a mistyped step, not a file of unfinished runs.
        if let atStep, !order.contains(where: { key in rowsOf[key]!.contains { $0.step == atStep } }) {
            let steps = Set(order.flatMap { rowsOf[$0]!.map(\.step) }).sorted()
            let shown = steps.count > 8 ? steps.prefix(3).map(String.init) + ["...", String(steps.last!)] : steps.map(String.init)
            throw ReadError(description: "\(source): no run has a row at step \(atStep) (its rows are at steps \(shown.joined(separator: ", ")))")
        }
        var all: [Run] = [], finished: [Run] = [], diverged: [Run] = [], unfinished: [Run] = []
        for key in order {
            let id = identity[key]!, runRows = rowsOf[key]!.sorted { $0.step < $1.step }
            let last = runRows.last!
            let target = atStep ?? finalStep[id.size]!
            // The row used: the one at the target step; a diverged run's last row if it diverged before it; else
            // the last row (an unfinished run, named and not used).
            let used = runRows.last { $0.step == target } ?? last
            let run = Run(variant: id.variant, size: id.size, seed: id.seed, params: id.params, nonEmbeddingParams: id.nonEmbeddingParams,
                          values: used.values, status: used.status, step: used.step, lastStep: last.step, finalStep: target)
            all.append(run)
            if run.status == "diverged" { diverged.append(run) }
            else if used.step != target { unfinished.append(run) }
            else { finished.append(run) }
        }
        allRuns = all
        runs = finished
        self.diverged = diverged
        self.unfinished = unfinished
        self.atStep = atStep
        columns = header
        numericColumns = numeric.map { header[$0] }
    }


    /// The runs of a variant at a size that are not finished results (diverged or unfinished).
    public func problems(variant: String, size: String) -> [Run] {
        (diverged + unfinished).filter { $0.variant == variant && $0.size == size }.sorted { $0.seed < $1.seed }
    }

    /// Names for a message: the first `limit`, then how many more (a file may have thousands of variants).
    public static func list(_ names: [String], limit: Int = 10) -> String {
        names.prefix(limit).joined(separator: ", ") + (names.count > limit ? " and \(names.count - limit) more" : "")
    }

    /// A field as a number: as cfg-run writes them (including NaN, Inf, -Inf), or as Swift reads a `Double`.
    static func number(_ field: String) -> Double? { ResultRow.number(field) ?? Double(field) }

    /// Sizes ordered by non-embedding parameters (then name), of every run in the file.
    public var sizes: [String] {
        var params: [String: Int] = [:]
        for run in allRuns { params[run.size] = max(params[run.size] ?? 0, run.nonEmbeddingParams) }
        return params.keys.sorted { (params[$0]!, $0) < (params[$1]!, $1) }
    }

    /// Variants in order of first appearance, of every run in the file.
    public var variants: [String] {
        var seen: [String] = [], known = Set<String>()
        for run in allRuns where known.insert(run.variant).inserted { seen.append(run.variant) }
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
    /// 1gram baseline, with whether the 95% intervals over seeds separate. The `runs` column counts the finished
    /// runs averaged; runs that diverged or did not finish are counted there too, listed under the table, and make
    /// the separation of their line `?` (it cannot be decided without them).
    public func summary(baseline: String = "1gram") -> String {
        let when = atStep.map { "evaluation at step \($0)" } ?? "final evaluation"
        var out = "\(when), mean over seeds [95% interval]; Δ = variant - \(baseline); 'sep' = intervals separate\n"
        out += "size      variant                    runs     excess/char                 Δ excess    sep   gen acc                Δ acc    sep\n"
        for size in sizes {
            let base = ResultsTable.meanInterval(values("excess_per_char", variant: baseline, size: size).map(\.value))
            let baseAcc = ResultsTable.meanInterval(values("gen_accuracy", variant: baseline, size: size).map(\.value))
            let baseUndecided = !problems(variant: baseline, size: size).isEmpty
            for variant in variants {
                let finished = runs.filter { $0.variant == variant && $0.size == size }.count
                let notUsed = problems(variant: variant, size: size)
                guard finished + notUsed.count > 0 else { continue }
                let e = ResultsTable.meanInterval(values("excess_per_char", variant: variant, size: size).map(\.value))
                let a = ResultsTable.meanInterval(values("gen_accuracy", variant: variant, size: size).map(\.value))
                let isBase = variant == baseline
                let undecided = baseUndecided || !notUsed.isEmpty
                func interval(_ x: (mean: Double, halfWidth: Double), _ digits: Int, clamp: Bool = false) -> String {
                    guard x.mean.isFinite else { return "-" }
                    guard x.halfWidth.isFinite else { return String(format: "%.\(digits)f", x.mean) }
                    var (low, high) = (x.mean - x.halfWidth, x.mean + x.halfWidth)
                    if clamp { (low, high) = (max(0, low), min(1, high)) }  // a fraction stays in [0, 1]
                    return String(format: "%.\(digits)f [%.\(digits)f, %.\(digits)f]", x.mean, low, high)
                }
                func difference(_ x: Double, _ y: Double, _ digits: Int) -> String {
                    isBase ? "" : (x - y).isFinite ? String(format: "%+.\(digits)f", x - y) : "-"
                }
                func separated(_ x: (mean: Double, halfWidth: Double), _ y: (mean: Double, halfWidth: Double)) -> String {
                    if isBase { return "" }
                    if undecided { return "?" }
                    guard x.halfWidth.isFinite, y.halfWidth.isFinite else { return "-" }
                    return abs(x.mean - y.mean) > x.halfWidth + y.halfWidth ? "yes" : "no"
                }
                out += size.padding(toLength: 10, withPad: " ", startingAt: 0)
                out += variant.padding(toLength: 27, withPad: " ", startingAt: 0)
                out += (notUsed.isEmpty ? "\(finished)" : "\(finished)+\(notUsed.count)*").padding(toLength: 9, withPad: " ", startingAt: 0)
                out += interval(e, 4).padding(toLength: 28, withPad: " ", startingAt: 0)
                out += difference(e.mean, base.mean, 4).padding(toLength: 12, withPad: " ", startingAt: 0)
                out += separated(e, base).padding(toLength: 6, withPad: " ", startingAt: 0)
                out += interval(a, 3, clamp: true).padding(toLength: 23, withPad: " ", startingAt: 0)
                out += difference(a.mean, baseAcc.mean, 3).padding(toLength: 9, withPad: " ", startingAt: 0)
                out += separated(a, baseAcc)
                out += "\n"
            }
        }
        let notUsed = diverged + unfinished
        if !notUsed.isEmpty {
            out += "* not in the means above (a diverged run is a result without final metrics; an unfinished run's last row is not final\(atStep == nil ? ": compare at a step every run reached with --at-step N" : "")), so 'sep' is '?' where they belong:\n"
            for run in notUsed.sorted(by: { ($0.size, $0.variant, $0.seed) < ($1.size, $1.variant, $1.seed) }) {
                out += "  \(run.name): \(run.problem ?? "")\n"
            }
        }
        return out
    }
}
