import Foundation
import Grammar
import Kernels
import Tokenizer

/// A sweep: every (size, design, seed) unit of a comparison. Its directory (`SweepDirectory`) holds each unit's
/// shard, checkpoint and done-marker, and the settings they were made with: rerun with the same arguments, a sweep
/// skips finished units, resumes an unfinished one from its checkpoint, and ends with exactly the CSV of an
/// uninterrupted sweep.
public struct Sweep {
    public let settings: SweepSettings
    public let units: [RunUnit]

    /// What a sweep compares unless told otherwise: the paper's five designs at three small sizes.
    public static let defaultSizes = ["tiny", "xs", "s"]
    public static let defaultVariants = ["1gram", "3gram-gpt", "3gram-in", "3gram-hin", "3gram-out"]

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
        if let problem = settings.problem { throw SweepError(problem) }
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

    /// Runs every unit in `directory` (opened for this sweep with `.sweep` access), `jobs` at a time, each with
    /// `threads / jobs` threads (at least one): the results are the same for any `jobs` and `threads`. First checks
    /// every unit's files, so that a damaged directory is reported before anything is trained. `events` hears what
    /// happens and `update` receives the rows so far after every new row; both are called one at a time (from the
    /// worker threads, under a lock). When a unit fails (a full disk, a lock), the others stop at their next
    /// checkpoint and the first error is thrown. Returns all rows.
    public func run(data: SweepData, directory: SweepDirectory, threads: Int, jobs: Int = 1,
                    events: @escaping (SweepEvent) -> Void = { _ in },
                    update: @escaping (SweepRows) throws -> Void = { _ in }) throws -> SweepRows {
        var results = SweepRows(units: units)
        var problems: [String] = []
        var checkpoints: [Int: Int] = [:]
        for (index, unit) in units.enumerated() {
            do {
                switch try directory.state(of: unit) {
                case .finished(let rows):
                    results.byUnit[index] = rows
                    results.finished[index] = true
                case .inProgress(let step, _):
                    checkpoints[index] = step
                case .notStarted:
                    break
                }
            } catch {
                problems.append("\(error)")
            }
        }
        guard problems.isEmpty else { throw SweepError(problems.joined(separator: "\n")) }
        try update(results)
        for index in units.indices where results.finished[index] { events(.reused(unit: index)) }

        // Larger models first (a stable sort keeps sweep order among equals), so that the runs that finish last
        // are short ones and few threads idle at the end; the CSV keeps sweep order whatever the running order.
        let cost = Dictionary(uniqueKeysWithValues: Set(units.map(\.size)).map { ($0, $0.nonEmbeddingParameters) })
        let pending = units.indices.filter { !results.finished[$0] }
            .enumerated().sorted { (cost[units[$0.element].size]!, -$0.offset) > (cost[units[$1.element].size]!, -$1.offset) }
            .map(\.element)
        let workers = max(1, min(jobs, pending.count))
        let threadsPerUnit = max(1, threads / workers)
        // Workers still taking units: a run's share of the threads is threads / busy workers, so the last runs of
        // a sweep get the threads of the workers that have nothing left to do.
        var busyWorkers = workers
        let lock = NSLock()
        var next = 0
        var failure: Error?
        func locked<T>(_ body: () throws -> T) rethrows -> T {
            lock.lock()
            defer { lock.unlock() }
            return try body()
        }
        // Each worker takes the next unit until none is left or one has failed.
        func work() {
            while let index = locked({ () -> Int? in
                guard failure == nil, next < pending.count else { return nil }
                next += 1
                events(.started(unit: pending[next - 1], threads: threadsPerUnit, resumedAt: checkpoints[pending[next - 1]]))
                return pending[next - 1]
            }) {
                let start = Date()
                do {
                    var pool: WorkerPool? = threadsPerUnit > 1 ? WorkerPool(threads: threadsPerUnit) : nil
                    let executor = RunExecutor(unit: units[index], data: data, directory: directory, pool: {
                        let share = locked { max(1, threads / max(1, busyWorkers)) }
                        if share != (pool?.threadCount ?? 1) { pool = share > 1 ? WorkerPool(threads: share) : nil }
                        return pool
                    })
                    let rows = try executor.execute(progress: { p in locked { events(.progress(unit: index, p)) } }, emit: { row in
                        locked {
                            results.byUnit[index].append(row)
                            do { try update(results) } catch { if failure == nil { failure = error } }
                        }
                    }, stop: { _ in locked { failure != nil } })
                    locked {
                        guard failure == nil else { return }
                        results.byUnit[index] = rows
                        results.finished[index] = true
                        events(.finished(unit: index, rows: rows, seconds: Date().timeIntervalSince(start)))
                        do { try update(results) } catch { failure = error }
                    }
                } catch {
                    locked { if failure == nil { failure = error } }
                }
            }
        }
        if workers == 1 {
            work()
        } else {
            func workThenLeave() {
                work()
                locked { busyWorkers -= 1 }
            }
            // Every piece of state the workers share is read and written under `lock`.
            let job = UncheckedSendable(workThenLeave)
            let group = DispatchGroup()
            for _ in 0..<workers {
                group.enter()
                let thread = Thread {
                    job.value()
                    group.leave()
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            group.wait()
        }
        if let failure { throw failure }
        return results
    }
}

/// A value handed to another thread whose shared state is guarded by hand (a lock), not by the type system.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// What happens during a sweep, for progress displays.
public enum SweepEvent {
    /// A unit finished in an earlier session: its rows are reused.
    case reused(unit: Int)
    /// A unit starts training, from its checkpoint at step `resumedAt` if it has one.
    case started(unit: Int, threads: Int, resumedAt: Int?)
    case progress(unit: Int, RunProgress)
    /// A unit finished (its last row says `ok` or `diverged`) after `seconds` in this session.
    case finished(unit: Int, rows: [ResultRow], seconds: Double)
}

extension Sweep {
    /// Runs unit `index` alone, as one task of a job array does, in `directory` (opened with `.shared` access);
    /// `events` hears its progress, `emit` receives its rows. Returns its rows.
    public func runUnit(_ index: Int, data: SweepData, directory: SweepDirectory, threads: Int,
                        events: (SweepEvent) -> Void = { _ in }, emit: (ResultRow) throws -> Void) throws -> [ResultRow] {
        let state = try directory.state(of: units[index])
        if case .finished(let rows) = state {
            events(.reused(unit: index))
            for row in rows { try emit(row) }
            return rows
        }
        var resumedAt: Int?
        if case .inProgress(let step, _) = state { resumedAt = step }
        try directory.checkUnitIsFree(units[index])
        events(.started(unit: index, threads: threads, resumedAt: resumedAt))
        let start = Date()
        let rows = try RunExecutor(unit: units[index], data: data, directory: directory, threads: threads)
            .execute(progress: { events(.progress(unit: index, $0)) }, emit: emit)
        events(.finished(unit: index, rows: rows, seconds: Date().timeIntervalSince(start)))
        return rows
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

extension Sweep {
    /// Whether `text`, the contents of a results file that has no state folder beside it (a committed CSV on a
    /// fresh clone, say), is exactly the finished result of this sweep: every unit in sweep order with a row at
    /// every evaluation step (a diverged run up to its last step), each row naming `grammarName`, the unit's model
    /// shape, this sweep's generation samples, learning rate at that step and validation entropy, and the text
    /// written as cfg-run writes it. Returns the rows, or why the file is not that result. Such a file need not be
    /// trained again; any other is not the sweep's to replace.
    public func finishedResults(in text: String, source: String, data: SweepData, grammarName: String) -> Result<[ResultRow], SweepError> {
        let rows: [ResultRow]
        do { rows = try ResultRow.rows(csv: text, source: source) } catch { return .failure(SweepError(error.description)) }
        guard SweepRows.csv(rows) == text else {
            return .failure(SweepError("\(source) is not written as cfg-run writes results (edited, or from another version)"))
        }
        // Numbers compare as the CSV writes them (the text was just checked to be written that way).
        let schedule = settings.learningRateSchedule
        func rate(_ step: Int) -> String { String(format: "%.6g", Double(schedule.rate(at: step - 1))) }
        let entropy = String(format: "%.6f", data.trueEntropyPerCharacter)
        var offset = 0
        for unit in units {
            let name = "\(unit.size.name) \(unit.design) seed \(unit.seed)"
            var unitRows: [ResultRow] = []
            while offset < rows.count, rows[offset].size == unit.size.name, rows[offset].variant == unit.design.description,
                  rows[offset].seed == unit.seed {
                unitRows.append(rows[offset])
                offset += 1
            }
            var expected = settings.evaluationSteps
            if let last = unitRows.last, last.status == "diverged" { expected = expected.filter { $0 < last.step } + [last.step] }
            guard unitRows.map(\.step) == expected else {
                return .failure(SweepError("\(source) holds rows for steps \(SweepDirectory.describe(unitRows.map(\.step))) of \(name), where this sweep has \(SweepDirectory.describe(expected))"))
            }
            for row in unitRows {
                let problem: String? =
                    row.grammar != grammarName ? "grammar \(row.grammar), not \(grammarName)"
                    : (row.layers, row.dModel, row.heads) != (unit.size.layers, unit.size.width, unit.size.heads) ? "another model shape"
                    : row.genSamples != settings.generationSamples ? "\(row.genSamples) generation samples, not \(settings.generationSamples)"
                    : String(format: "%.6g", row.learningRate) != rate(row.step) ? "learning rate \(row.learningRate) at step \(row.step), where this sweep's schedule has \(rate(row.step))"
                    : String(format: "%.6f", row.trueEntropy) != entropy ? "the validation set's entropy \(row.trueEntropy), not \(entropy) (another validation set or grammar)"
                    : nil
                if let problem { return .failure(SweepError("\(source): the row of \(name) at step \(row.step) has \(problem)")) }
            }
        }
        guard offset == rows.count else {
            let row = rows[offset]
            return .failure(SweepError("\(source) holds rows of \(row.size) \(row.variant) seed \(row.seed) at that place, which this sweep does not have there"))
        }
        return .success(rows)
    }
}
