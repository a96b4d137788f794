import Dispatch
import Foundation
import Synchronization

/// What a sweep does on Ctrl-C (SIGINT), SIGTERM or SIGHUP (its terminal closed): say what is kept and how to
/// resume, then exit. Every file of a sweep is replaced atomically, so stopping at any instant loses at most the work
/// since the last evaluation. SIGPIPE is ignored, so that a closed standard output is an error the sweep sees (and
/// stops on, removing its temporary folder) rather than a silent death that leaves the folder behind.
enum InterruptHandler {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    /// Set as a signal's handler begins. Removing the temporary folder can make the working thread fail (a file it
    /// writes is gone) and head for its own exit; it waits here instead, so the exit status is the signal's.
    private static let stopping = Atomic<Bool>(false)

    /// Called on every way out of the program: while a signal's handler is stopping the process, never returns.
    static func waitIfStopping() {
        while stopping.load(ordering: .acquiring) { pause() }
    }

    /// `directory`: the sweep's state folder (nil when it is temporary and is removed on the way out).
    static func install(directory: String?, temporary: String? = nil) {
        signal(SIGPIPE, SIG_IGN)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                stopping.store(true, ordering: .releasing)
                let message = directory.map { "\ninterrupted: every finished evaluation is kept in \($0); rerun the same command to resume\n" }
                    ?? "\ninterrupted (without --out nothing is kept; use --out FILE.csv to make a sweep resumable)\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                if let temporary { removeWhileInUse(temporary) }
                _exit(128 + signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Removes a folder that the working threads may still be writing into: moved aside first (their next file,
    /// made by path, then fails), then removed, again if a file was being finished inside it.
    private static func removeWhileInUse(_ folder: String) {
        let aside = folder + ".removing"
        let target = rename(folder, aside) == 0 ? aside : folder
        for _ in 0..<100 where FileManager.default.fileExists(atPath: target) {
            try? FileManager.default.removeItem(atPath: target)
        }
    }
}
