#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file, a pipe or standard input in chunks and hands out its lines in batches, so that input of any size
/// (even an endless one such as `/dev/zero`) is processed in bounded memory. Lines end at `\n`; a last line without
/// one counts. A line longer than `maximumLineLength` bytes ends the reading: it is handed out as `.tooLong`, and
/// the input is taken to be something other than lines of text (a binary file, an endless stream).
public final class LineReader {
    public enum Line: Equatable {
        case text([UInt8])
        /// A line over the limit (its first `maximumLineLength` bytes had no line break); the last line handed out.
        case tooLong
    }

    public let maximumLineLength: Int
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let path: String
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    /// Opens `path` (`-`: standard input).
    public init(path: String, maximumLineLength: Int = 16 << 20) throws(FileReading.Failure) {
        self.path = path
        self.maximumLineLength = maximumLineLength
        if path == "-" {
            descriptor = 0
            ownsDescriptor = false
        } else {
            // Opened once: a named pipe opened to probe it and closed again loses its writer (and its data).
            descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { throw FileReading.Failure(path: path, reason: FileReading.reason(errno: errno)) }
            var information = stat()
            if fstat(descriptor, &information) != 0 || (information.st_mode & S_IFMT) == S_IFDIR {
                let code = (information.st_mode & S_IFMT) == S_IFDIR ? EISDIR : errno
                close(descriptor)
                throw FileReading.Failure(path: path, reason: FileReading.reason(errno: code))
            }
            ownsDescriptor = true
        }
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    /// The next lines, at most `maxLines` of them and about `maxBytes` bytes in all; nil once the input is
    /// exhausted.
    public func nextBatch(maxLines: Int = 4096, maxBytes: Int = 8 << 20) throws(FileReading.Failure) -> [Line]? {
        var lines: [Line] = []
        var bytes = 0
        while lines.count < maxLines && bytes < maxBytes {
            if let line = try nextLine() {
                if case .text(let text) = line { bytes += text.count }
                lines.append(line)
            } else {
                break
            }
        }
        return lines.isEmpty ? nil : lines
    }

    private func nextLine() throws(FileReading.Failure) -> Line? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { start = newline + 1 }
                return .text(Array(buffer[start..<newline]))
            }
            if buffer.count - start > maximumLineLength {
                atEnd = true
                buffer.removeAll()
                start = 0
                return .tooLong
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return .text(Array(buffer[start...]))
            }
            try fill()
        }
    }

    private func fill() throws(FileReading.Failure) {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let chunk = 1 << 20
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: chunk))
        var count = 0
        repeat {
            count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + old, chunk) }
        } while count < 0 && errno == EINTR
        if count < 0 {
            buffer.removeSubrange(old...)
            throw FileReading.Failure(path: path, reason: FileReading.reason(errno: errno))
        }
        buffer.removeSubrange((old + count)...)
        if count == 0 { atEnd = true }
    }
}
