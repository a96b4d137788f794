#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads whole files with POSIX calls, so that a failure can say why in plain words ("no such file", "is a
/// directory, not a file", "permission denied", ...) instead of a bare "cannot read" or a Foundation error dump.
///
/// Works on anything that can be opened and read to its end: regular files, pipes, `/dev/stdin` and the
/// `<(command)` paths of a shell's process substitution.
public enum FileReading {
    /// A file that could not be read, and why.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// The path as given.
        public let path: String
        /// Why, in words: "no such file", "is a directory, not a file", "permission denied", ...
        public let reason: String
        public var description: String { "cannot read \(path): \(reason)" }
    }

    /// The bytes of the file at `path`, or a ``Failure`` that says why they cannot be read. More than `limit`
    /// bytes is a failure too (an endless stream such as `/dev/zero` given by mistake must not fill the memory).
    public static func contents(ofFile path: String, limit: Int = Int.max) throws(Failure) -> [UInt8] {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw Failure(path: path, reason: reason(errno: errno)) }
        defer { close(descriptor) }
        var information = stat()
        guard fstat(descriptor, &information) == 0 else { throw Failure(path: path, reason: reason(errno: errno)) }
        if (information.st_mode & S_IFMT) == S_IFDIR { throw Failure(path: path, reason: reason(errno: EISDIR)) }
        var bytes: [UInt8] = []
        if (information.st_mode & S_IFMT) == S_IFREG && information.st_size > 0 {
            bytes.reserveCapacity(Int(information.st_size))
        }
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, chunk) }
            if count > 0 {
                bytes.append(contentsOf: buffer[0..<count])
                if bytes.count > limit {
                    throw Failure(path: path, reason: "it holds more than \(limit) bytes, the most this file can be")
                }
            } else if count == 0 {
                return bytes
            } else if errno != EINTR {
                throw Failure(path: path, reason: reason(errno: errno))
            }
        }
    }

    /// The words for an `errno` value of a failed open or read: the common ones in the terms a user thinks in,
    /// the others as the system says them ("input/output error", "no space left on device", ...).
    public static func reason(errno code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES, EPERM: return "permission denied"
        case EISDIR: return "is a directory, not a file"
        case ENOTDIR: return "a part of the path before the last '/' is a file, not a directory"
        case ELOOP: return "too many levels of symbolic links"
        default:
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }
}
