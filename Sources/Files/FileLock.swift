#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An advisory lock on a file (`flock(2)`), held until `release()` or until the holder's process ends: the kernel
/// drops the lock of a killed process, so a stale lock is taken over by the next taker without any clean-up.
///
/// An exclusive holder writes who it is (process id, host, time, what it does) into the file, so that a refused
/// taker can say who holds it. Shared holders leave it empty.
public final class FileLock {
    public let path: String
    public let exclusive: Bool
    private var descriptor: Int32

    /// Who holds a lock that could not be taken, as the holder described itself (or nil if it wrote nothing).
    public struct Held: Error, CustomStringConvertible {
        public let path: String
        public let holder: String?
        public var description: String { "\(path) is locked by \(holder ?? "another process")" }
    }

    private init(path: String, exclusive: Bool, descriptor: Int32) {
        self.path = path
        self.exclusive = exclusive
        self.descriptor = descriptor
    }

    /// Takes the lock at `path` (created if missing) without waiting. Throws `Held` when another holder has it
    /// (any holder, for an exclusive lock; an exclusive holder, for a shared one), or `FileError` when the file
    /// cannot be opened. `purpose` is written into an exclusively held file, e.g. "cfg-run sweep".
    public static func acquire(_ path: String, exclusive: Bool, purpose: String) throws -> FileLock {
        let descriptor = open(path, O_RDWR | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw FileError("cannot open the lock file \(path): \(FileSystem.reason(errno))") }
        while flock(descriptor, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(descriptor)
            if code == EWOULDBLOCK { throw Held(path: path, holder: holderDescription(path)) }
            throw FileError("cannot lock \(path): \(FileSystem.reason(code))")
        }
        let lock = FileLock(path: path, exclusive: exclusive, descriptor: descriptor)
        // What an earlier exclusive holder wrote is stale now (a killed one could not clear it).
        _ = ftruncate(descriptor, 0)
        if exclusive {
            let text = "process \(getpid()) on \(hostName()) since \(timestamp()) (\(purpose))\n"
            _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        }
        return lock
    }

    /// Whether another process holds the lock at `path` now (an exclusive probe, released at once).
    public static func isHeld(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    /// What the last exclusive holder wrote into the lock file.
    public static func holderDescription(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
              !text.isEmpty else { return nil }
        return text
    }

    public func release() {
        guard descriptor >= 0 else { return }
        if exclusive { _ = ftruncate(descriptor, 0) }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown host" }
        return String(cString: buffer)
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date())
    }
}
