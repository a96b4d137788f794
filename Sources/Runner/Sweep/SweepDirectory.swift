import Files
import Foundation
import Model

/// A failure of a sweep that the user must act on: a directory made with other settings, a run's files that
/// disagree, a lock held by another sweep, a full disk. The description names the file and says what to do.
public struct SweepError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }

    static func busy(_ unit: RunUnit, holder: String?) -> SweepError {
        SweepError("run \(unit.id) is being trained by \(holder ?? "another process"); wait for it, or stop it")
    }
}

/// The state of a sweep on disk, `<results>.csv.runs/`: the settings it was made with (`sweep.json`), and per
/// run (unit) a shard of its CSV rows (`<id>.csv`), its latest checkpoint (`<id>.ckpt`) and, once finished, a
/// done-marker (`<id>.done`).
///
/// Every file is replaced atomically, so a kill at any moment leaves the old or the new version. Each shard row
/// carries a checksum bound to this sweep's settings, and the done-marker records the finished shard's checksum and
/// steps: a lost, cut, edited or foreign shard is found before anything is trained or written, never turned into a
/// silently shorter CSV.
///
/// Locks (`flock`, released by the kernel when a holder dies): a whole sweep holds `sweep.lock` exclusively; a
/// single unit (`--unit K`, a task of a job array) and a merge hold it shared; every unit being trained holds its own
/// `<id>.lock`. So two sweeps never train into one directory, while the tasks of a job array run side by side.
public final class SweepDirectory {
    public let path: String
    /// The settings and unit ids recorded in `sweep.json`.
    public let manifest: Manifest
    /// A fingerprint of `sweep.json`'s bytes; shard row checksums and checkpoints are bound to it.
    let fingerprint: UInt64
    /// The grammar the runs were trained on, by content (`grammar.json`); nil only for a folder of an older cfg-run
    /// opened by `openExisting` before any run used it.
    public private(set) var grammar: GrammarRecord?
    private let lock: FileLock

    public struct Manifest: Codable, Equatable, Sendable {
        public let settings: SweepSettings
        /// The runs, in sweep order.
        public let units: [RunUnit]
    }

    /// How a process uses the directory.
    public enum Access {
        /// A whole sweep: alone in the directory.
        case sweep
        /// One unit of a job array, or a merge: beside other units, never beside a whole sweep.
        case shared

        var exclusive: Bool { self == .sweep }
    }

    static let manifestName = "sweep.json"
    static let grammarName = "grammar.json"
    static let lockName = "sweep.lock"

    /// Opens the directory of a sweep with `settings`, `units` and `grammar`, creating it if it is new. Throws,
    /// touching no results, if it holds a sweep with other settings or units, or runs of another grammar (by content:
    /// the grammar's path may be spelled another way, or be a copy), if `sweep.json` is unreadable, or if another
    /// process holds it (the error names that process). A folder made by a cfg-run that did not record its grammar
    /// takes `grammar` as its own now; `log` hears that.
    public static func open(_ path: String, settings: SweepSettings, units: [RunUnit], grammar: GrammarRecord,
                            access: Access, log: (String) -> Void = { _ in }) throws -> SweepDirectory {
        if let kind = FileSystem.kind(of: path), kind != .directory {
            throw SweepError("\(path) exists and is not a folder; cfg-run keeps a sweep's state there (move that file away, or use another --out)")
        }
        try FileSystem.createFolder(path)
        let lock = try takeLock(path, access: access)
        let expected = Manifest(settings: settings, units: units)
        let manifestPath = path + "/" + manifestName
        var bytes: Data
        if FileSystem.exists(manifestPath) {
            bytes = try FileSystem.read(manifestPath)
        } else {
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: path))?
                .filter { $0.hasSuffix(".csv") || $0.hasSuffix(".ckpt") || $0.hasSuffix(".done") } ?? []
            if !leftovers.isEmpty {
                throw SweepError("\(path) holds runs (\(leftovers.prefix(3).joined(separator: ", "))\(leftovers.count > 3 ? ", ..." : "")) but no \(manifestName) saying which settings made them; delete the folder to start over, or use another --out")
            }
            // The grammar first: a folder with sweep.json but no grammar.json is one of an older cfg-run.
            try writeGrammar(grammar, in: path)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            bytes = try encoder.encode(expected)
            try FileSystem.writeAtomically(bytes, to: manifestPath)
        }
        guard let found = try? JSONDecoder().decode(Manifest.self, from: bytes) else {
            throw SweepError("\(manifestPath) is unreadable (not the settings file of a cfg-run sweep, or damaged); delete \(path) to start that sweep over, or use another --out")
        }
        // The grammar is known by its content (below), not by how its path is spelled.
        var comparable = expected.settings
        comparable.grammarPath = found.settings.grammarPath
        if found != Manifest(settings: comparable, units: expected.units) {
            throw SweepError("\(path) holds a sweep with other settings or runs (\(SweepDirectory.differences(found, expected).joined(separator: "; "))); rerun with the same arguments, use another --out, or delete that folder to start over")
        }
        if let recorded = try readGrammar(in: path) {
            if let change = recorded.change(to: grammar) {
                throw SweepError("\(settings.grammarPath) is not the grammar the runs in \(path) were trained on (\(path)/\(grammarName) records its rules): \(change). Restore the grammar, or give the changed one another --out")
            }
        } else {
            try writeGrammar(grammar, in: path)
            log("note: \(path) was made by a cfg-run that did not record the grammar's rules; it records those of \(settings.grammarPath) now, and every later use of this folder must have the same rules")
        }
        if access.exclusive { FileSystem.removeLeftoverTemporaryFiles(in: path) }
        let directory = SweepDirectory(path: path, manifest: found, fingerprint: Checksum.fnv1a(bytes), lock: lock)
        directory.grammar = grammar
        return directory
    }

    private static func readGrammar(in path: String) throws -> GrammarRecord? {
        let file = path + "/" + grammarName
        guard FileSystem.exists(file) else { return nil }
        guard let record = try? JSONDecoder().decode(GrammarRecord.self, from: try FileSystem.read(file)) else {
            throw SweepError("\(file) is unreadable (damaged); it records the grammar of the runs in \(path): delete \(path) to start that sweep over, or use another --out")
        }
        return record
    }

    private static func writeGrammar(_ grammar: GrammarRecord, in path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted]
        try FileSystem.writeAtomically(try encoder.encode(grammar), to: path + "/" + grammarName)
    }

    /// The `grammar` column of this sweep's rows: the name of the grammar file the sweep was made with (without
    /// its folder and extension), whatever spelling or copy later runs read the same rules from.
    public var grammarName: String {
        URL(fileURLWithPath: manifest.settings.grammarPath).deletingPathExtension().lastPathComponent
    }

    /// Opens the directory of an existing sweep, whatever its settings (for `merge`).
    public static func openExisting(_ path: String) throws -> SweepDirectory {
        guard FileSystem.kind(of: path) == .directory else {
            throw SweepError("\(path): \(FileSystem.exists(path) ? "a file, not a sweep folder" : "no such sweep folder") (a sweep run with --out FILE.csv keeps its state in the folder FILE.csv.runs)")
        }
        let manifestPath = path + "/" + manifestName
        let bytes = try FileSystem.read(manifestPath)
        guard let found = try? JSONDecoder().decode(Manifest.self, from: bytes) else {
            throw SweepError("\(manifestPath) is unreadable (not the settings file of a cfg-run sweep, or damaged)")
        }
        let lock = try takeLock(path, access: .shared)
        let directory = SweepDirectory(path: path, manifest: found, fingerprint: Checksum.fnv1a(bytes), lock: lock)
        directory.grammar = try readGrammar(in: path)
        return directory
    }

    private init(path: String, manifest: Manifest, fingerprint: UInt64, lock: FileLock) {
        self.path = path
        self.manifest = manifest
        self.fingerprint = fingerprint
        self.lock = lock
    }

    private static func takeLock(_ path: String, access: Access) throws -> FileLock {
        let lockPath = path + "/" + lockName
        do {
            return try FileLock.acquire(lockPath, exclusive: access.exclusive, purpose: "cfg-run sweep")
        } catch let held as FileLock.Held {
            if let holder = held.holder {
                throw SweepError("\(path) is in use by another sweep: \(holder); wait for it to finish (or stop it), then rerun")
            }
            let units = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                .filter { $0.hasSuffix(".lock") && $0 != lockName }.sorted()
                .compactMap { name -> String? in
                    let unitLock = path + "/" + name
                    guard FileLock.isHeld(unitLock) else { return nil }
                    return "\(name.dropLast(5)) by \(FileLock.holderDescription(unitLock) ?? "another process")"
                }
            throw SweepError("\(path) is in use by single-unit runs (--unit, e.g. tasks of a job array)\(units.isEmpty ? "" : ": " + units.joined(separator: "; ")); wait for them to finish, or use 'cfg-run merge' to collect their results")
        }
    }

    /// What differs between two manifests, in words.
    static func differences(_ found: Manifest, _ expected: Manifest) -> [String] {
        func fields(_ settings: SweepSettings) -> [String: String] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let data = try? encoder.encode(settings),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
            var flat: [String: String] = [:]
            func add(_ value: Any, _ name: String) {
                if let nested = value as? [String: Any] {
                    for (key, inner) in nested { add(inner, name + "." + key) }
                } else {
                    flat[name] = "\(value)"
                }
            }
            for (key, value) in object { add(value, key) }
            return flat
        }
        var a = fields(found.settings), b = fields(expected.settings)
        // The grammar is compared by content, not by its path's spelling.
        (a["grammarPath"], b["grammarPath"]) = (nil, nil)
        var out = Set(a.keys).union(b.keys).sorted().filter { a[$0] != b[$0] }
            .map { "\($0): \(a[$0] ?? "-") there, \(b[$0] ?? "-") here" }
        if found.units != expected.units {
            let there = Set(found.units.map(\.id)), here = Set(expected.units.map(\.id))
            var what = "runs: \(found.units.count) there, \(expected.units.count) here"
            if let extra = expected.units.first(where: { !there.contains($0.id) }) { what += " (\(extra.id) is new)" }
            else if let gone = found.units.first(where: { !here.contains($0.id) }) { what += " (\(gone.id) is not asked for)" }
            else { what += " (in another order)" }
            out.append(what)
        }
        return out
    }

    // MARK: One unit's files

    func shardPath(_ unit: RunUnit) -> String { path + "/" + unit.id + ".csv" }
    func checkpointPath(_ unit: RunUnit) -> String { path + "/" + unit.id + ".ckpt" }
    /// The checkpoint at the end of a warmup-stable-decay run's stable phase.
    func stableCheckpointPath(_ unit: RunUnit) -> String { path + "/" + unit.id + ".stable.ckpt" }
    func donePath(_ unit: RunUnit) -> String { path + "/" + unit.id + ".done" }
    func lockPath(_ unit: RunUnit) -> String { path + "/" + unit.id + ".lock" }

    /// Takes the unit's lock: one process trains a unit at a time.
    func lockUnit(_ unit: RunUnit) throws -> FileLock {
        do {
            return try FileLock.acquire(lockPath(unit), exclusive: true, purpose: "cfg-run, unit \(unit.id)")
        } catch let held as FileLock.Held {
            throw SweepError.busy(unit, holder: held.holder)
        }
    }

    /// Throws when another process trains `unit` now (checked before saying anything about it; `lockUnit` still
    /// decides, since the other process may start in between).
    func checkUnitIsFree(_ unit: RunUnit) throws {
        if FileLock.isHeld(lockPath(unit)) { throw SweepError.busy(unit, holder: FileLock.holderDescription(lockPath(unit))) }
    }

    /// Where a unit stands on disk.
    public enum UnitState {
        case notStarted
        /// Checkpointed at `step`; `rows` are its rows up to that step.
        case inProgress(step: Int, rows: [ResultRow])
        /// Finished (or stopped by divergence): all its rows.
        case finished(rows: [ResultRow])

        public var rows: [ResultRow] {
            switch self {
            case .notStarted: return []
            case .inProgress(_, let rows), .finished(let rows): return rows
            }
        }
    }

    /// The done-marker: how the run ended and what its shard holds.
    struct DoneMarker: Codable {
        let status: String
        let lastStep: Int
        let rows: Int
        /// FNV-1a of the shard file's bytes, in hex.
        let shardChecksum: String
    }

    /// Reads and checks a unit's files. Throws a `SweepError` naming the file, what is wrong and which files to
    /// delete to redo the run, when a shard is missing, cut, altered or foreign, or does not cover every evaluation
    /// step that the checkpoint or done-marker claims.
    public func state(of unit: RunUnit) throws -> UnitState {
        let settings = manifest.settings
        let shard = shardPath(unit), checkpoint = checkpointPath(unit), done = donePath(unit)
        func failure(_ file: String, _ problem: String) -> SweepError {
            let remove = [checkpoint, done, shard].filter(FileSystem.exists).map { ($0 as NSString).lastPathComponent }
            return SweepError("\(file): \(problem). To redo this run from the start, delete \(remove.joined(separator: ", ")) in \(path) and rerun")
        }
        if FileSystem.exists(done) {
            guard let data = try? FileSystem.read(done), let marker = try? JSONDecoder().decode(DoneMarker.self, from: data) else {
                throw failure(done, "unreadable done-marker (damaged, or written by an older cfg-run)")
            }
            guard FileSystem.exists(shard) else { throw failure(shard, "missing, but \(unit.id).done says the run finished with \(marker.rows) rows") }
            let bytes = try FileSystem.read(shard)
            guard String(Checksum.fnv1a(bytes), radix: 16) == marker.shardChecksum else {
                throw failure(shard, "its contents differ from what \(unit.id).done recorded when the run finished (the file was cut, edited or replaced)")
            }
            let rows = try readShard(bytes, unit: unit, file: shard, failure: failure)
            var expected = settings.evaluationSteps
            if marker.status == "diverged" { expected = expected.filter { $0 < marker.lastStep } + [marker.lastStep] }
            guard rows.map(\.step) == expected else {
                throw failure(shard, "holds rows for steps \(SweepDirectory.describe(rows.map(\.step))), expected \(SweepDirectory.describe(expected))")
            }
            return .finished(rows: rows)
        }
        guard FileSystem.exists(checkpoint) else { return .notStarted }
        let step: Int
        do {
            let (saved, metadata) = try Checkpoint.inspect(checkpoint)
            guard metadata["sweep"] == String(fingerprint, radix: 16) else {
                throw failure(checkpoint, "this checkpoint belongs to a sweep with other settings")
            }
            step = saved
        } catch let error as Checkpoint.Failure {
            throw failure(checkpoint, error.description.replacingOccurrences(of: checkpoint + ": ", with: ""))
        }
        guard FileSystem.exists(shard) else { throw failure(shard, "missing, but \(unit.id).ckpt is at step \(step)") }
        let rows = try readShard(try FileSystem.read(shard), unit: unit, file: shard, failure: failure).filter { $0.step <= step }
        let expected = settings.evaluationSteps.filter { $0 <= step }
        guard rows.map(\.step) == expected else {
            throw failure(shard, "holds rows for steps \(SweepDirectory.describe(rows.map(\.step))), but the checkpoint at step \(step) needs \(SweepDirectory.describe(expected))")
        }
        return .inProgress(step: step, rows: rows)
    }

    static func describe(_ steps: [Int]) -> String {
        if steps.isEmpty { return "none" }
        if steps.count <= 6 { return steps.map(String.init).joined(separator: ", ") }
        return "\(steps.prefix(3).map(String.init).joined(separator: ", ")), ... \(steps.last!) (\(steps.count) in all)"
    }

    /// The shard's header: the results columns, then each row's checksum.
    static let shardHeader = ResultRow.header + ",row_checksum"

    /// A shard line: the results line and its checksum (bound to this sweep's settings).
    func shardLine(_ row: ResultRow) -> String {
        let line = row.csvLine
        return line + "," + String(rowChecksum(line), radix: 16)
    }

    private func rowChecksum(_ line: String) -> UInt64 { Checksum.fnv1a(line.utf8, from: fingerprint) }

    private func readShard(_ bytes: Data, unit: RunUnit, file: String, failure: (String, String) -> SweepError) throws -> [ResultRow] {
        guard let text = String(data: bytes, encoding: .utf8) else { throw failure(file, "not UTF-8 text") }
        guard text.isEmpty || text.hasSuffix("\n") else { throw failure(file, "the last line is cut off") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard let header = lines.first, header == SweepDirectory.shardHeader else {
            throw failure(file, lines.isEmpty ? "empty (no header)" : "unexpected header (written by another cfg-run version, or damaged)")
        }
        let columns = try? ResultRow.columnIndices(header: CSV.fields(header).dropLast())
        var rows: [ResultRow] = []
        for (number, line) in lines.dropFirst().enumerated() {
            let at = "line \(number + 2)"
            guard let comma = line.lastIndex(of: ","), UInt64(line[line.index(after: comma)...], radix: 16) == rowChecksum(String(line[..<comma])) else {
                throw failure(file, "\(at) fails its checksum (the file was edited or damaged, or comes from a sweep with other settings)")
            }
            let fields = CSV.fields(line[..<comma])
            guard let columns, fields.count == ResultRow.columnNames.count else { throw failure(file, "\(at) has \(fields.count) fields") }
            let row: ResultRow
            do { row = try ResultRow(fields: fields, columns: columns) } catch { throw failure(file, "\(at): \(error)") }
            guard row.variant == unit.design.description, row.size == unit.size.name, row.seed == unit.seed else {
                throw failure(file, "\(at) belongs to another run (\(row.size) \(row.variant) seed \(row.seed))")
            }
            rows.append(row)
        }
        return rows
    }

    /// Replaces the unit's shard with `rows`.
    func writeShard(_ rows: [ResultRow], of unit: RunUnit) throws {
        let text = ([SweepDirectory.shardHeader] + rows.map(shardLine)).map { $0 + "\n" }.joined()
        try FileSystem.writeAtomically(text, to: shardPath(unit))
    }

    /// Marks the unit finished, recording its shard as it is now.
    func markDone(_ unit: RunUnit, rows: [ResultRow]) throws {
        let bytes = try FileSystem.read(shardPath(unit))
        let marker = DoneMarker(status: rows.last?.status ?? "ok", lastStep: rows.last?.step ?? 0, rows: rows.count,
                                shardChecksum: String(Checksum.fnv1a(bytes), radix: 16))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.writeAtomically(try encoder.encode(marker), to: donePath(unit))
    }

    /// The metadata that binds a checkpoint to this sweep.
    var checkpointBinding: [String: String] { ["sweep": fingerprintText] }
    var fingerprintText: String { String(fingerprint, radix: 16) }

    /// Replaces the results file `path` with `rows` (atomically); a failure (a full disk) says that nothing is lost.
    public func writeResults(_ rows: [ResultRow], to path: String) throws {
        do {
            try FileSystem.writeAtomically(SweepRows.csv(rows), to: path)
        } catch {
            throw SweepError("\(error). Nothing is lost: every finished evaluation is kept in \(self.path); make room and rerun the same command to write the CSV")
        }
    }

    /// Every unit's rows in sweep order, and the units that have not finished (for `merge`).
    public func collect() throws -> (rows: [ResultRow], missing: [RunUnit]) {
        var rows: [ResultRow] = [], missing: [RunUnit] = []
        for unit in manifest.units {
            if case .finished(let unitRows) = try state(of: unit) { rows += unitRows } else { missing.append(unit) }
        }
        return (rows, missing)
    }
}


extension SweepDirectory {
    /// Why `earlier` (the settings of an existing sweep) cannot be extended to `later`, or nil: both must be
    /// warmup-stable-decay with the same decay fraction, and differ only in a longer budget, with the same warmup
    /// and evaluation interval in steps (the defaults of both follow the budget: give them explicitly).
    public static func extensionProblem(from earlier: SweepSettings, to later: SweepSettings) -> String? {
        guard earlier.decayStart != nil, later.decayStart != nil, earlier.schedule == later.schedule else {
            return "only a warmup-stable-decay sweep (--schedule wsd) can be extended, with the same --decay"
        }
        guard later.steps > earlier.steps else {
            return "the extended sweep needs more steps than the \(earlier.steps) of the earlier one"
        }
        if earlier.effectiveWarmup != later.effectiveWarmup {
            return "the warmup differs (\(earlier.effectiveWarmup) steps there, \(later.effectiveWarmup) here): give --warmup \(earlier.effectiveWarmup)"
        }
        if earlier.effectiveEvalEvery != later.effectiveEvalEvery {
            return "the evaluation interval differs (\(earlier.effectiveEvalEvery) steps there, \(later.effectiveEvalEvery) here): give --eval-every \(earlier.effectiveEvalEvery)"
        }
        var a = earlier, b = later
        (a.steps, a.warmupSteps, a.evalEvery, a.grammarPath) = (0, 0, 0, "")
        (b.steps, b.warmupSteps, b.evalEvery, b.grammarPath) = (0, 0, 0, "")
        guard a == b else {
            return "the sweeps differ in more than their budget (\(differences(Manifest(settings: earlier, units: []), Manifest(settings: later, units: [])).filter { !$0.hasPrefix("steps") }.joined(separator: "; ")))"
        }
        return nil
    }

    /// Starts the units of this sweep (a longer warmup-stable-decay budget) that have not started from `earlier`:
    /// each unit that got through its stable phase there continues from the checkpoint at its end, one that stopped
    /// before continues from its last checkpoint, with the rows up to that step. Their training from there is the
    /// training of this budget from the start (the rates agree until the earlier decay began). Returns what it did,
    /// unit by unit. `selected` limits it to some units (one task of a job array). Crash-safe: a unit is seeded shard
    /// first, checkpoint last, so an interrupted seeding is redone.
    public func seed(from earlier: SweepDirectory, only selected: [RunUnit]? = nil) throws -> [String] {
        var log: [String] = []
        if let problem = SweepDirectory.extensionProblem(from: earlier.manifest.settings, to: manifest.settings) {
            throw SweepError("cannot extend \(earlier.path): \(problem)")
        }
        guard earlier.manifest.units == manifest.units else {
            throw SweepError("cannot extend \(earlier.path): it holds other runs (the sizes, variants and seeds must be the same)")
        }
        if let grammar {
            if let recorded = earlier.grammar {
                if let change = recorded.change(to: grammar) {
                    throw SweepError("cannot extend \(earlier.path): its runs were trained on another grammar than \(manifest.settings.grammarPath) (\(earlier.path)/\(SweepDirectory.grammarName) records its rules): \(change)")
                }
            } else {
                try SweepDirectory.writeGrammar(grammar, in: earlier.path)
                earlier.grammar = grammar
                log.append("note: \(earlier.path) was made by a cfg-run that did not record the grammar's rules; it records those of \(manifest.settings.grammarPath) now")
            }
        }
        let earlierDecayStart = earlier.manifest.settings.decayStart!
        let evaluationSteps = Set(manifest.settings.evaluationSteps)
        for unit in selected ?? manifest.units {
            let unitLock = try lockUnit(unit)
            defer { unitLock.release() }
            guard case .notStarted = try state(of: unit) else { continue }
            let source: String, step: Int, rows: [ResultRow]
            switch try earlier.state(of: unit) {
            case .notStarted:
                continue
            case .inProgress(let at, let earlierRows) where at <= earlierDecayStart:
                (source, step, rows) = (earlier.checkpointPath(unit), at, earlierRows)
            case .finished(let earlierRows) where earlierRows.last?.status == "diverged" && earlierRows.last!.step <= earlierDecayStart:
                // Diverged in the stable phase: the longer budget diverges at the same step, with the same rows.
                try writeShard(named(earlierRows), of: unit)
                try markDone(unit, rows: earlierRows)
                log.append("\(unit.id): diverged at step \(earlierRows.last!.step) of \(earlier.path), as it does here")
                continue
            case .inProgress(_, let earlierRows), .finished(let earlierRows):
                source = earlier.stableCheckpointPath(unit)
                guard FileSystem.exists(source) else {
                    // Training from the start gives the same rows; it only costs the stable phase again.
                    log.append("\(unit.id): \(source) (the end of its stable phase) is missing, so it is trained from the start here (the same rows, \(earlierDecayStart) more steps)")
                    continue
                }
                (step, rows) = (earlierDecayStart, earlierRows)
            }
            do {
                let saved = try Checkpoint.inspect(source).step
                guard saved == step else { throw SweepError("\(source) is at step \(saved), expected \(step)") }
            } catch let error as Checkpoint.Failure {
                throw SweepError(error.description)
            }
            try writeShard(named(rows.filter { $0.step <= step && evaluationSteps.contains($0.step) }), of: unit)
            do { try Checkpoint.copy(source, to: checkpointPath(unit), merging: checkpointBinding) }
            catch { throw SweepError(error.description) }
            log.append("\(unit.id): continues from step \(step) of \(earlier.path)")
        }
        return log
    }

    /// Rows carried over from another sweep, with this sweep's grammar name (the same rules may have been read
    /// from another file name there).
    private func named(_ rows: [ResultRow]) -> [ResultRow] {
        rows.map { row in
            var row = row
            row.grammar = grammarName
            return row
        }
    }
}
