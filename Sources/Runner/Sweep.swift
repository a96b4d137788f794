import Foundation
import Grammar
import Tokenizer

/// A sweep: every (size, design, seed) unit of a comparison. Its directory (`SweepDirectory`) holds each unit's
/// shard, checkpoint and done-marker, and the settings they were made with: rerun with the same arguments, a sweep
/// skips finished units, resumes an unfinished one from its checkpoint, and ends with exactly the CSV of an
/// uninterrupted sweep.
public struct Sweep {
    public let settings: SweepSettings
    public let units: [RunUnit]

    /// Units in the order they run: by size, then design, then seed. The same size, design or seed given twice
    /// would train the same run twice (and write its rows twice): refused.
    public init(settings: SweepSettings, sizes: [ModelSize], designs: [VocabularyDesign], seeds: [UInt64]) throws(SweepError) {
        func firstRepeat<T, K: Hashable>(_ items: [T], key: (T) -> K) -> (T, T)? {
            var seen: [K: T] = [:]
            for item in items {
                if let earlier = seen[key(item)] { return (earlier, item) }
                seen[key(item)] = item
            }
            return nil
        }
        if let (a, b) = firstRepeat(sizes, key: { [$0.layers, $0.width, $0.heads] }) {
            throw SweepError(a.name == b.name ? "--sizes lists \(a.name) twice"
                : "--sizes lists the same model twice: \(a.name) and \(b.name) are both L\(a.layers)-d\(a.width)-h\(a.heads)")
        }
        if let (a, _) = firstRepeat(sizes, key: \.name) { throw SweepError("--sizes lists \(a.name) twice") }
        if let (a, _) = firstRepeat(designs, key: \.description) { throw SweepError("--variants lists \(a) twice") }
        if let (a, _) = firstRepeat(seeds, key: { $0 }) { throw SweepError("--seeds lists \(a) twice") }
        self.settings = settings
        var units: [RunUnit] = []
        for size in sizes { for design in designs { for seed in seeds { units.append(RunUnit(design: design, size: size, seed: seed)) } } }
        self.units = units
    }

    /// What makes some runs impossible (a model or vocabulary too large, a malformed shape), one line per design
    /// and size, checked before anything is trained or written.
    public func problems(data: SweepData, memoryLimit: Double) -> [String] {
        var seen = Set<String>(), problems: [String] = []
        for unit in units {
            let key = unit.design.description + "|" + unit.size.name
            guard seen.insert(key).inserted else { continue }
            if case .failure(let error) = RunExecutor.modelConfig(unit, alphabet: data.grammar.terminals.count, window: data.window,
                                                                   batch: settings.batch, positions: settings.positions,
                                                                   memoryLimit: memoryLimit) {
                problems.append(error.description)
            }
        }
        return problems
    }

    /// Runs every unit in `directory` (opened for this sweep with `.sweep` access). `update` receives the rows so
    /// far after every new row; `log` progress and messages for stderr. First checks every unit's files, so that a
    /// damaged directory is reported before anything is trained. Returns all rows.
    public func run(data: SweepData, directory: SweepDirectory, threads: Int, log: @escaping (String) -> Void,
                    update: (SweepRows) throws -> Void = { _ in }) throws -> SweepRows {
        var results = SweepRows(units: units)
        var problems: [String] = []
        for (index, unit) in units.enumerated() {
            do {
                if case .finished(let rows) = try directory.state(of: unit) {
                    results.byUnit[index] = rows
                    results.finished[index] = true
                }
            } catch {
                problems.append("\(error)")
            }
        }
        guard problems.isEmpty else { throw SweepError(problems.joined(separator: "\n")) }
        try update(results)
        let started = Date()
        var progress = ProgressLog(totalSteps: units.count * settings.steps, log: log)
        for (index, unit) in units.enumerated() {
            let label = "run \(index + 1)/\(units.count) \(unit.size.name) \(unit.design) seed \(unit.seed)"
            if results.finished[index] {
                log("\(label): finished earlier, its rows are reused")
                progress.skip(settings.steps)
                continue
            }
            let executor = RunExecutor(unit: unit, data: data, directory: directory, threads: threads)
            var updateError: Error?
            let rows = try executor.execute(progress: { progress.report(label, $0) }, emit: { row in
                results.byUnit[index].append(row)
                if updateError == nil { do { try update(results) } catch { updateError = error } }
            })
            if let updateError { throw updateError }
            progress.finish(settings.steps)
            results.byUnit[index] = rows
            results.finished[index] = true
            if rows.last?.status == "diverged" {
                log("warning: \(unit.id): the loss stopped being finite at step \(rows.last!.step); the run stops there (marked 'diverged' in the CSV) and the sweep goes on")
            }
            try update(results)
        }
        log(String(format: "sweep finished: %d runs in %@", units.count, formatDuration(Date().timeIntervalSince(started))))
        return results
    }
}

/// Progress lines for stderr: at most one a second after training steps, one every 5 seconds during an
/// evaluation; the ETA counts the steps of this session only (resumed and finished runs do not inflate it).
struct ProgressLog {
    let totalSteps: Int
    let log: (String) -> Void
    private let started = Date()
    private var lastReport = Date.distantPast
    /// Steps of finished runs, and of runs skipped or resumed, counted toward the total.
    private var stepsBefore = 0
    private var sessionSteps = 0

    init(totalSteps: Int, log: @escaping (String) -> Void) {
        self.totalSteps = totalSteps
        self.log = log
    }

    mutating func skip(_ steps: Int) { stepsBefore += steps }

    mutating func finish(_ steps: Int) { stepsBefore += steps }

    mutating func report(_ label: String, _ p: RunProgress) {
        if let evaluating = p.evaluating {
            guard Date().timeIntervalSince(lastReport) >= 5 else { return }
            lastReport = Date()
            log("\(label) | step \(p.step)/\(p.steps) | evaluating: \(evaluating)")
            return
        }
        sessionSteps += 1
        guard Date().timeIntervalSince(lastReport) >= 1 || p.step == p.steps else { return }
        lastReport = Date()
        let remaining = totalSteps - stepsBefore - p.step
        let eta = Date().timeIntervalSince(started) / Double(sessionSteps) * Double(remaining)
        log(String(format: "%@ | step %d/%d | train loss/char %.4f | %.0f tok/s | ETA %@", label, p.step, p.steps, p.loss,
                   p.tokensPerSecond, formatDuration(eta)))
    }
}

extension Sweep {
    /// Runs unit `index` alone, as one task of a job array does, in `directory` (opened with `.shared` access);
    /// progress lines go to `log`, rows to `emit`. Returns its rows.
    public func runUnit(_ index: Int, data: SweepData, directory: SweepDirectory, threads: Int, log: @escaping (String) -> Void,
                        emit: (ResultRow) -> Void) throws -> [ResultRow] {
        let unit = units[index]
        var progress = ProgressLog(totalSteps: settings.steps, log: log)
        let label = "unit \(index) (\(unit.size.name) \(unit.design) seed \(unit.seed))"
        if case .finished = try directory.state(of: unit) { log("\(label): finished earlier, its rows are reused") }
        return try RunExecutor(unit: unit, data: data, directory: directory, threads: threads)
            .execute(progress: { progress.report(label, $0) }, emit: emit)
    }
}

/// The rows of a sweep so far, per unit in sweep order.
public struct SweepRows {
    public var byUnit: [[ResultRow]]
    public var finished: [Bool]

    init(units: [RunUnit]) {
        byUnit = Array(repeating: [], count: units.count)
        finished = Array(repeating: false, count: units.count)
    }

    /// Every row, in sweep order.
    public var all: [ResultRow] { byUnit.flatMap { $0 } }

    /// The rows that stay where they are in the final CSV: those of the finished units before the first
    /// unfinished one, and that unit's rows so far (what can be streamed in order).
    public var settled: [ResultRow] {
        var rows: [ResultRow] = []
        for (unitRows, done) in zip(byUnit, finished) {
            rows += unitRows
            if !done { break }
        }
        return rows
    }

    /// The CSV text of `rows`, header first.
    public static func csv(_ rows: [ResultRow]) -> String {
        ([ResultRow.header] + rows.map(\.csvLine)).map { $0 + "\n" }.joined()
    }
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60)
        : s >= 60 ? String(format: "%dm%02ds", s / 60, s % 60) : "\(s)s"
}
