#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A failed file operation, described in words a user can act on: the path, what was being done and the system's
/// reason ("No space left on device"), never a raw `NSError` dump.
public struct FileError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The file operations that results and run state depend on: atomic replacement, output paths that cannot clobber
/// a device or a directory, and plain-language reasons for failures.
public enum FileSystem {
    /// The words for an `errno` value (see `FileReading.reason(errno:)`).
    public static func reason(_ code: Int32) -> String { FileReading.reason(errno: code) }

    /// What is at a path.
    public enum Kind: Equatable, Sendable {
        case regularFile, directory, symbolicLink
        /// A device, socket or pipe; the words say which.
        case special(String)
    }

    /// What is at `path` (the link itself for a symbolic link), or nil when nothing is.
    public static func kind(of path: String) -> Kind? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regularFile
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        case S_IFCHR: return .special("a character device")
        case S_IFBLK: return .special("a block device")
        case S_IFIFO: return .special("a named pipe")
        case S_IFSOCK: return .special("a socket")
        default: return .special("not a regular file")
        }
    }

    /// Reads a whole file (regular, pipe or device); a failure says why: "cannot read PATH: no such file".
    public static func read(_ path: String) throws(FileError) -> Data {
        do { return Data(try FileReading.contents(ofFile: path)) } catch { throw FileError(error.description) }
    }

    /// The file a results path really names: symbolic links are followed to their target, so the link stays a
    /// link and its target is written. Nothing is created. A path that names (or links to) a directory, a device, a
    /// pipe or a socket is refused, so that writing results can never replace one of those (as root, a rename over
    /// `/dev/null` would replace the system's); so is a path whose folder is a file.
    public static func resolveOutputFile(_ path: String) throws(FileError) -> String {
        if path.isEmpty { throw FileError("an output file name is empty") }
        if path.hasSuffix("/") {
            throw FileError("\(path) ends with '/', so it names a folder; give a file name such as \(path)results.csv")
        }
        var current = path
        for _ in 0..<64 {
            switch kind(of: current) {
            case nil, .regularFile:
                try checkParentFolder(of: current, for: path)
                return current
            case .directory:
                throw FileError("\(path) is a directory; give a file name such as \(path.hasSuffix("/") ? path : path + "/")results.csv")
            case .special(let what):
                throw FileError("\(path) is \(what), not a regular file; results are written to a file (omit --out to print them)")
            case .symbolicLink:
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else {
                    throw FileError("cannot follow the symbolic link \(current)")
                }
                current = target.hasPrefix("/") ? target
                    : (current as NSString).deletingLastPathComponent.appendingPathComponentIfRelative(target)
            }
        }
        throw FileError("\(path): too many levels of symbolic links")
    }

    /// `resolveOutputFile`, and more, for a command about to do work whose result goes to `path`: the output may
    /// not be one of the command's `inputs` (the same file by device and inode, however spelled or linked: writing
    /// results over a grammar or a results file destroys it), and its folder is created now (with missing parents)
    /// and must be writable, so that a mistake in the output path is found before the work, not after it. Inputs
    /// that do not exist, and `-` (standard input), are skipped. Returns the resolved path.
    public static func prepareOutputFile(_ path: String, inputs: [String] = []) throws(FileError) -> String {
        let resolved = try resolveOutputFile(path)
        for input in inputs where input != "-" && isSameFile(resolved, input) {
            throw FileError("the output \(path) is the input \(input) (the same file); writing would destroy it: choose another output file")
        }
        var folder = (resolved as NSString).deletingLastPathComponent
        if folder.isEmpty { folder = "." }
        try createFolder(folder)
        if access(folder, W_OK) != 0 { throw FileError("cannot write \(path): the folder \(folder): \(reason(errno))") }
        return resolved
    }

    /// Whether `a` and `b` name the same existing file (device and inode, symbolic links followed).
    public static func isSameFile(_ a: String, _ b: String) -> Bool {
        var x = stat(), y = stat()
        guard stat(a, &x) == 0, stat(b, &y) == 0 else { return false }
        return x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }

    private static func checkParentFolder(of file: String, for original: String) throws(FileError) {
        var folder = (file as NSString).deletingLastPathComponent
        if folder.isEmpty { folder = "." }
        // Walk up to the first component that exists: it must be a folder (a missing one is created later).
        while true {
            var info = stat()
            if stat(folder, &info) == 0 {
                if (info.st_mode & S_IFMT) != S_IFDIR {
                    throw FileError("cannot write \(original): \(folder) is a file, not a folder")
                }
                return
            }
            let parent = (folder as NSString).deletingLastPathComponent
            if parent.isEmpty || parent == folder { return }
            folder = parent
        }
    }

    /// Creates `path` and its missing parents as folders; an existing folder is fine.
    public static func createFolder(_ path: String) throws(FileError) {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
            if isFolder.boolValue { return }
            throw FileError("cannot create the folder \(path): a file of that name exists")
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path { try createFolder(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw FileError("cannot create the folder \(path): \(reason(errno))")
        }
    }

    /// Replaces `path` with `bytes` atomically: they go to a temporary file in the same folder, are flushed to the
    /// disk, and the temporary file is renamed over `path`. A crash, a kill or a full disk leaves either the old file
    /// or the new one, never a mix; on failure the temporary file is removed and the error says why.
    public static func writeAtomically(_ bytes: Data, to path: String) throws(FileError) {
        let temporary = temporaryName(for: path)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw FileError("cannot write \(path): \(reason(errno))") }
        var failure: Int32 = 0
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += written
            }
        }
        if failure == 0 && fsync(descriptor) != 0 { failure = errno }
        if close(descriptor) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw FileError("cannot write \(path): \(reason(failure))")
        }
    }

    /// Writes text atomically (see `writeAtomically(_:to:)`).
    public static func writeAtomically(_ text: String, to path: String) throws(FileError) {
        try writeAtomically(Data(text.utf8), to: path)
    }

    /// The temporary name `writeAtomically` uses for `path`: hidden, beside it, unique to this process and call.
    static func temporaryName(for path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        var name = (path as NSString).lastPathComponent
        let unique = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // A file name may have 255 bytes: a long one is shortened here (whole characters), so that any name that
        // can be written can be written atomically.
        while name.utf8.count + 1 + temporaryMarker.utf8.count + unique.utf8.count > 255 { name.removeLast() }
        return (folder.isEmpty ? "" : folder + "/") + "." + name + temporaryMarker + unique
    }

    /// What every temporary name contains, so that leftovers of killed writers can be found.
    public static let temporaryMarker = ".tmp-"

    /// Removes temporary files of `writeAtomically` left in `folder` by writers that were killed. Call it only when
    /// no other process can be writing there (while holding the folder's exclusive lock).
    public static func removeLeftoverTemporaryFiles(in folder: String, named prefix: String = "") {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix("." + prefix) && name.contains(temporaryMarker) {
            unlink(folder + "/" + name)
        }
    }

    /// Removes a file; a missing one is fine.
    public static func remove(_ path: String) throws(FileError) {
        if unlink(path) != 0 && errno != ENOENT { throw FileError("cannot remove \(path): \(reason(errno))") }
    }

    /// Whether a file (or link, or folder) exists at `path`.
    public static func exists(_ path: String) -> Bool { kind(of: path) != nil }
}

private extension String {
    func appendingPathComponentIfRelative(_ component: String) -> String {
        (self as NSString).appendingPathComponent(component)
    }
}
