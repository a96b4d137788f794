import Dispatch
import Foundation

/// What a sweep does on Ctrl-C (SIGINT), SIGTERM or SIGHUP (its terminal closed): say what is kept and how to
/// resume, then exit. Every file of a sweep is replaced atomically, so stopping at any instant loses at most the work
/// since the last evaluation. SIGPIPE is ignored, so that a closed standard output is an error the sweep sees (and
/// stops on, removing its temporary folder) rather than a silent death that leaves the folder behind.
enum InterruptHandler {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// `directory`: the sweep's state folder (nil when it is temporary and is removed on the way out).
    static func install(directory: String?, temporary: String? = nil) {
        signal(SIGPIPE, SIG_IGN)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                let message = directory.map { "\ninterrupted: every finished evaluation is kept in \($0); rerun the same command to resume\n" }
                    ?? "\ninterrupted (without --out nothing is kept; use --out FILE.csv to make a sweep resumable)\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
                _exit(128 + signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }
}
