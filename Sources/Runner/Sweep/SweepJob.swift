import Files
import Foundation
import Grammar

/// A sweep from the request to the results file: what `cfg-run G.cfg ...` does, as a library call. A job is made
/// in two stages, so that every mistake is found before any work and every check that needs the grammar before
/// anything is written:
///
/// 1. `SweepJob.Request` holds what was asked; ``SweepJob/check(_:)`` refuses what cannot be right whatever the
///    grammar holds (a grammar path with a control character, an output onto an input or a folder, an extension
///    from a folder that is missing or is this sweep's own, a missing temporary folder, `jobs` with one unit).
/// 2. ``SweepJob/start(_:log:)`` reads the grammar and the validation set, checks that every run fits, and either
///    finds that the results file already holds this sweep's finished result (nothing to train), or opens the
///    sweep's state folder (recording the grammar), seeds an extension, and returns the job ready to run.
///
/// Then ``run(events:rows:)`` trains every unit, `jobs` at a time, writing the results file atomically as rows come
/// in (or handing them to `rows` in sweep order when there is no results file); ``runUnit(events:emit:)`` trains one.
public final class SweepJob {
    /// What was asked of a sweep.
    public struct Request {
        public var sweep: Sweep
        /// The results file (a path as given); nil: the rows go to the caller, the state to a temporary folder.
        public var out: String?
        /// One unit alone (a task of a job array), or nil for the whole sweep.
        public var unit: Int?
        /// The results file (or state folder) of an earlier, shorter warmup-stable-decay sweep to extend.
        public var extendFrom: String?
        /// Worker threads in all, and runs at once (nil: as many as threads, at most the number of runs).
        public var threads: Int
        public var jobs: Int?
        /// Whether the units will run elsewhere (a Slurm job array): the folder is shared, not locked for a sweep.
        public var submitted = false
        /// Memory one run may need, in bytes.
        public var memoryLimit: Double

        public init(sweep: Sweep, out: String?, unit: Int? = nil, extendFrom: String? = nil, threads: Int, jobs: Int? = nil,
                    memoryLimit: Double) {
            self.sweep = sweep
            self.out = out
            self.unit = unit
            self.extendFrom = extendFrom
            self.threads = threads
            self.jobs = jobs
            self.memoryLimit = memoryLimit
        }

        public var grammarPath: String { sweep.settings.grammarPath }
    }

    /// A request that passed ``check(_:)``: paths resolved, nothing written yet but the results file's folder.
    public struct CheckedRequest {
        public let request: Request
        /// The results file, resolved (links followed), or nil.
        public let out: String?
        /// The earlier sweep's state folder, or nil.
        public let earlierFolder: String?
        /// The state folder: `OUT.runs`, or a temporary folder (removed at the end) without a results file.
        public let folder: String
        public var isTemporary: Bool { out == nil }
    }

    /// Refuses, before any work, what cannot be right whatever the grammar holds.
    public static func check(_ request: Request) throws -> CheckedRequest {
        let path = request.grammarPath
        if let unit = request.unit, !request.sweep.units.indices.contains(unit) {
            throw SweepError("--unit expects an index in 0..<\(request.sweep.units.count) (this sweep has \(request.sweep.units.count) runs), got '\(unit)'")
        }
        if request.jobs != nil && (request.unit != nil || request.submitted) {
            throw SweepError("--jobs has no effect with \(request.unit != nil ? "--unit (one run)" : "--slurm (each task runs one unit)"): leave it out")
        }
        if let control = path.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            throw SweepError("the grammar's path \(displayed(path)) contains a control character (\(String(format: "U+%04X", control.value))); rename the file: its name is written into every row")
        }
        // Never a device, a folder, a path below a file, or the grammar.
        let out = try request.out.map { out in try FileSystem.prepareOutputFile(out, inputs: [path]) }
        let earlierFolder = try request.extendFrom.map { try earlierSweepFolder($0, out: out) }
        let folder: String
        if let out {
            folder = out + ".runs"
        } else {
            let base = NSTemporaryDirectory()
            guard FileSystem.kind(of: base) == .directory else {
                throw SweepError("TMPDIR is \(base), which is \(FileSystem.exists(base) ? "not a folder" : "missing"); a sweep without --out keeps its state in a temporary folder there: set TMPDIR to an existing folder, or give --out FILE.csv")
            }
            folder = base + (base.hasSuffix("/") ? "" : "/") + "cfg-run-sweep-\(getpid())"
        }
        return CheckedRequest(request: request, out: out, earlierFolder: earlierFolder, folder: folder)
    }

    /// The state folder of the sweep that `--extend-from` names (its results file FILE.csv, or FILE.csv.runs
    /// itself): it must exist, and must not be the state folder of this sweep's own results file.
    static func earlierSweepFolder(_ given: String, out: String?) throws -> String {
        let folder = given.hasSuffix(".runs") && FileSystem.kind(of: given) == .directory ? given
            : try FileSystem.resolveOutputFile(given) + ".runs"
        if let out, folder == out + ".runs" || FileSystem.isSameFile(folder, out + ".runs") {
            throw SweepError("--extend-from names this sweep's own --out (\(out)); give the extended sweep another --out")
        }
        guard FileSystem.kind(of: folder) == .directory else {
            throw SweepError("--extend-from \(given): there is no sweep folder \(folder) (it holds the earlier runs' stable-phase checkpoints). Without it, leave out --extend-from: training the longer budget from the start gives the same rows")
        }
        return folder
    }

    /// A path for a message: control characters escaped, at most 200 characters.
    static func displayed(_ path: String) -> String {
        var shown = ""
        for scalar in path.unicodeScalars.prefix(200) {
            shown += scalar.value < 0x20 || scalar.value == 0x7F ? "\\u{\(String(scalar.value, radix: 16, uppercase: true))}" : String(scalar)
        }
        return shown
    }

    /// How starting a job ended.
    public enum Start {
        /// The results file already holds this sweep's finished result (and no state folder explains it): its rows.
        case finishedEarlier([ResultRow])
        /// Ready to run.
        case ready(SweepJob)
    }

    public let request: CheckedRequest
    public let grammar: Grammar
    public let data: SweepData
    public let directory: SweepDirectory
    public var sweep: Sweep { request.request.sweep }

    private init(request: CheckedRequest, grammar: Grammar, data: SweepData, directory: SweepDirectory) {
        self.request = request
        self.grammar = grammar
        self.data = data
        self.directory = directory
    }

    /// Reads the grammar and the validation set, checks every run, and opens the state folder (or finds the
    /// results file finished). `log` hears what happens.
    public static func start(_ request: CheckedRequest, log: @escaping (String) -> Void) throws -> Start {
        let settings = request.request.sweep.settings, sweep = request.request.sweep, path = settings.grammarPath
        let grammar = try GrammarReader.read(path: path)
        for warning in grammar.warnings { log(warning.description) }
        log("reading \(path) and computing the validation set's true entropy ...")
        let data = try SweepData(settings: settings, grammar: grammar, log: log)
        let problems = sweep.problems(data: data, memoryLimit: request.request.memoryLimit)
        guard problems.isEmpty else { throw SweepError(problems.joined(separator: "\n")) }
        log(String(format: "grammar %@: %d terminals, window %d characters, true entropy %.4f nats/char on %d validation sentences",
                   path, grammar.terminals.count, data.window, data.trueEntropyPerCharacter, data.validation.count))

        // A results file that no sweep folder explains is replaced by nothing: it is this sweep's finished result
        // (a committed CSV on a fresh clone: nothing to train), or it is not this sweep's to replace.
        if let out = request.out, FileSystem.exists(out), !FileSystem.exists(out + ".runs/sweep.json") {
            let text = String(decoding: try FileSystem.read(out), as: UTF8.self)
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            switch sweep.finishedResults(in: text, source: out, data: data, grammarName: name) {
            case .success(let rows):
                log("\(out) already holds the finished result of this sweep (\(sweep.units.count) runs, checked against its settings); nothing to train. To train it again, move \(out) away")
                return .finishedEarlier(rows)
            case .failure(let why):
                throw SweepError("\(out) exists and was not written by this sweep (there is no \(out).runs folder, and \(why.description.replacingOccurrences(of: out + " ", with: "it "))); it is not replaced: move it away or choose another --out")
            }
        }
        let whole = request.request.unit == nil && !request.request.submitted
        let directory = try SweepDirectory.open(request.folder, settings: settings, units: sweep.units, grammar: GrammarRecord(grammar),
                                                access: whole ? .sweep : .shared, log: log)
        if let earlierFolder = request.earlierFolder {
            let earlier = try SweepDirectory.openExisting(earlierFolder)
            try directory.seed(from: earlier, only: request.request.unit.map { [sweep.units[$0]] }).forEach(log)
        }
        return .ready(SweepJob(request: request, grammar: grammar, data: data, directory: directory))
    }

    /// Runs at once and threads each, for the whole sweep.
    public var parallelism: (jobs: Int, threadsEach: Int) {
        let threads = request.request.threads
        let jobs = min(request.request.jobs ?? threads, sweep.units.count)
        return (jobs, max(1, threads / max(1, jobs)))
    }

    /// Trains every unit (see `Sweep.run`). With a results file, rewrites it atomically as rows come in (at most every
    /// two seconds, and at the end); without one, `rows` hears the rows in sweep order as soon as every run before
    /// them has finished (a throw from it stops the sweep). Returns every row.
    public func run(events: @escaping (SweepEvent) -> Void, rows: @escaping ([ResultRow]) throws -> Void = { _ in }) throws -> [ResultRow] {
        var lastWrite = Date.distantPast, handed = 0
        let all = try sweep.run(data: data, directory: directory, threads: request.request.threads, jobs: parallelism.jobs,
                                events: events) { progress in
            if let out = self.request.out {
                // The CSV is replaced whole, so it is never cut mid-row.
                guard Date().timeIntervalSince(lastWrite) >= 2 else { return }
                lastWrite = Date()
                try self.writeResults(progress.all, to: out)
            } else {
                let settled = progress.settled
                try rows(Array(settled[handed...]))
                handed = max(handed, settled.count)
            }
        }.all
        if let out = request.out { try writeResults(all, to: out) }
        return all
    }

    /// Trains the request's one unit; `emit` hears its rows (an error it throws stops the unit, resumable). Returns them.
    public func runUnit(events: (SweepEvent) -> Void, emit: (ResultRow) throws -> Void) throws -> [ResultRow] {
        try sweep.runUnit(request.request.unit!, data: data, directory: directory, threads: request.request.threads,
                          events: events, emit: emit)
    }

    /// The units that have not finished (sweep-order indices), for a job array.
    public func unfinishedUnits() throws -> [Int] {
        try sweep.units.indices.filter { index in
            if case .finished = try directory.state(of: sweep.units[index]) { return false }
            return true
        }
    }

    /// Rewrites the results file from the finished units (what `cfg-run merge` writes).
    public func writeFinishedResults() throws {
        guard let out = request.out else { return }
        try writeResults(try directory.collect().rows, to: out)
    }

    private func writeResults(_ rows: [ResultRow], to path: String) throws { try directory.writeResults(rows, to: path) }
}
