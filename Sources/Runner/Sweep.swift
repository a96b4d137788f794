import Foundation
import Grammar
import Tokenizer

/// A sweep: every (size, design, seed) unit of a comparison, run one after another; rows go to the output CSV as
/// they are produced. The sweep's directory (`<out>.runs/`) holds each unit's shard, checkpoint and done-marker,
/// and the settings they were made with: rerun with the same arguments, a sweep skips finished units, resumes an
/// unfinished one from its checkpoint, and ends with exactly the CSV of an uninterrupted sweep.
public struct Sweep {
    public let settings: SweepSettings
    public let units: [RunUnit]
    public let directory: String
    public let threads: Int

    /// Units in the order they run: by size, then design, then seed.
    public init(settings: SweepSettings, sizes: [ModelSize], designs: [VocabularyDesign], seeds: [UInt64],
                directory: String, threads: Int) {
        self.settings = settings
        var units: [RunUnit] = []
        for size in sizes { for design in designs { for seed in seeds { units.append(RunUnit(design: design, size: size, seed: seed)) } } }
        self.units = units
        self.directory = directory
        self.threads = threads
    }

    /// Creates the directory, or checks that an existing one was made with the same settings and units.
    public func prepareDirectory() throws {
        let manifestPath = directory + "/sweep.json"
        struct Manifest: Codable, Equatable { let settings: SweepSettings; let units: [String] }
        let manifest = Manifest(settings: settings, units: units.map(\.id))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let existing = FileManager.default.contents(atPath: manifestPath) {
            guard let old = try? JSONDecoder().decode(Manifest.self, from: existing), old == manifest else {
                throw RunFailure(description: "\(directory) holds a sweep with other settings or runs; use another --out, or delete that directory to start over")
            }
            return
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: manifestPath))
    }

    /// Runs every unit. `row` receives each CSV line as it is produced (the header first); `log` progress and
    /// messages for stderr. Returns all rows.
    public func run(data: SweepData, row: (String) -> Void, log: (String) -> Void) throws -> [ResultRow] {
        try prepareDirectory()
        row(ResultRow.header)
        var all: [ResultRow] = []
        let started = Date()
        var lastReport = Date.distantPast
        var sessionSteps = 0
        let totalSteps = units.count * settings.steps
        for (index, unit) in units.enumerated() {
            let executor = RunExecutor(unit: unit, data: data, directory: directory, threads: threads)
            let label = "run \(index + 1)/\(units.count) \(unit.size.name) \(unit.design) seed \(unit.seed)"
            if executor.isDone { log("\(label): finished earlier, its rows are reused") }
            do {
                let rows = try executor.execute(progress: { p in
                    sessionSteps += 1
                    guard Date().timeIntervalSince(lastReport) >= 1 || p.step == p.steps else { return }
                    lastReport = Date()
                    let remaining = totalSteps - (index * settings.steps + p.step)
                    let eta = Date().timeIntervalSince(started) / Double(sessionSteps) * Double(remaining)
                    log(String(format: "%@ | step %d/%d | train loss/char %.4f | %.0f tok/s | ETA %@", label, p.step,
                               p.steps, p.loss, p.tokensPerSecond, formatDuration(eta)))
                }, emit: { r in row(r.csvLine) })
                all += rows
            } catch let failure as RunFailure {
                log("warning: \(failure.description)")
                all += executor.readShard()
            }
        }
        log(String(format: "sweep finished: %d runs in %@", units.count, formatDuration(Date().timeIntervalSince(started))))
        return all
    }
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60)
        : s >= 60 ? String(format: "%dm%02ds", s / 60, s % 60) : "\(s)s"
}
