import Foundation
import Runner

/// Shows a sweep's progress on stderr. On a terminal: one line per active run, updated in place, and a total line
/// with the ETA, under the messages. Otherwise (a log file, a cluster job's output): a line when a run finishes, and
/// every 30 seconds a line per active run and the total, so a long sweep writes a few lines a minute.
final class SweepProgress {
    let units: [RunUnit]
    let steps: Int
    /// How runs are named: `run K/N` in a sweep, `unit K` for a single unit.
    let label: (Int) -> String
    private let started = Date()
    private var lastPlainReport = Date()
    private var active: [Int: (start: Int, progress: RunProgress?)] = [:]
    private var finished: [Int: Int] = [:]   // steps trained in this session, per finished unit
    private var reused = Set<Int>()
    static let plainInterval = 30.0

    init(units: [RunUnit], steps: Int, label: @escaping (Int) -> String) {
        self.units = units
        self.steps = steps
        self.label = label
    }

    func name(_ index: Int) -> String {
        let unit = units[index]
        return "\(label(index)) \(unit.size.name) \(unit.design) seed \(unit.seed)"
    }

    func handle(_ event: SweepEvent) {
        switch event {
        case .reused(let index):
            reused.insert(index)
            printError("\(name(index)): finished earlier, its rows are reused")
        case .started(let index, _, let resumedAt):
            active[index] = (start: resumedAt ?? 0, progress: nil)
            if let resumedAt { printError("\(name(index)): resuming from its checkpoint at step \(resumedAt)") }
        case .progress(let index, let progress):
            var entry = active[index] ?? (start: 0, progress: nil)
            entry.progress = progress
            active[index] = entry
        case .finished(let index, let rows, let seconds):
            let start = active[index]?.start ?? 0
            active[index] = nil
            finished[index] = steps - max(0, start)
            var text = "\(name(index)): finished in \(formatDuration(seconds))"
            if let last = rows.last {
                text += last.status == "ok"
                    ? String(format: " | step %d | val loss/char %.4f | excess %.4f", last.step, last.valLoss, last.excess)
                        + (last.genSamples > 0 ? String(format: " | gen acc %.3f", last.genAccuracy) : "")
                    : " | DIVERGED at step \(last.step) (the loss stopped being finite; marked 'diverged' in the CSV)"
            }
            printError(text)
        }
        show(force: { if case .progress = event { return false } else { return true } }())
    }

    /// The status of a run now, e.g. "run 4/15 xs 3gram-in seed 1 | step 450/1000 | loss/char 0.9123 | 12.3k tok/s".
    private func status(_ index: Int) -> String {
        guard let progress = active[index]?.progress else { return "\(name(index)) | starting" }
        if let evaluating = progress.evaluating {
            return "\(name(index)) | step \(progress.step)/\(progress.steps) | evaluating: \(evaluating)"
        }
        return String(format: "%@ | step %d/%d | train loss/char %.4f | %.1fk tok/s", name(index), progress.step,
                      progress.steps, progress.loss, progress.tokensPerSecond / 1000)
    }

    /// "15 runs: 3 done, 2 running, 10 waiting | ETA 4m10s" (steps trained in this session set the rate).
    private func total() -> String {
        let done = finished.count + reused.count
        let waiting = units.count - done - active.count
        var trained = finished.values.reduce(0, +), remaining = waiting * steps
        for (start, progress) in active.values {
            let step = progress?.step ?? max(0, start)
            trained += step - max(0, start)
            remaining += steps - step
        }
        let elapsed = Date().timeIntervalSince(started)
        let eta = trained > 0 ? formatDuration(elapsed / Double(trained) * Double(remaining)) : "?"
        return "\(units.count) run\(units.count == 1 ? "" : "s"): \(done) done, \(active.count) running, \(waiting) waiting | \(formatDuration(elapsed)) so far | ETA \(eta)"
    }

    private func show(force: Bool) {
        let lines = active.keys.sorted().map(status) + (units.count > 1 || active.isEmpty ? [total()] : [])
        if StatusOutput.isTerminal {
            StatusOutput.setBlock(lines, force: force)
            return
        }
        guard Date().timeIntervalSince(lastPlainReport) >= SweepProgress.plainInterval, !active.isEmpty else { return }
        lastPlainReport = Date()
        for line in lines { printError(line) }
    }

    /// Removes the status lines (before the summary).
    func end() { StatusOutput.clearBlock() }
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60)
        : s >= 60 ? String(format: "%dm%02ds", s / 60, s % 60) : "\(s)s"
}
