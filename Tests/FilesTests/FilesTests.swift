import Files
import Foundation
import XCTest

final class FilesTests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "cfg-run-files-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileSystem.createFolder(folder)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func testAtomicWriteReplacesAndLeavesNoTemporaryFile() throws {
        let path = folder + "/a.csv"
        try FileSystem.writeAtomically("one\n", to: path)
        try FileSystem.writeAtomically("two\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "two\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["a.csv"])
        // Into a folder that does not exist: a clear reason, no crash.
        XCTAssertThrowsError(try FileSystem.writeAtomically("x", to: folder + "/missing/b.csv")) {
            XCTAssertTrue("\($0)".contains("no such file"), "\($0)")
        }
    }

    func testOutputPathsNeverNameDevicesOrFolders() throws {
        XCTAssertThrowsError(try FileSystem.resolveOutputFile("/dev/null")) {
            XCTAssertTrue("\($0)".contains("/dev/null is a character device"), "\($0)")
        }
        XCTAssertThrowsError(try FileSystem.resolveOutputFile(folder)) { XCTAssertTrue("\($0)".contains("is a directory"), "\($0)") }
        // A link to a device is refused; a link to a file resolves to the file, relative targets included.
        try FileManager.default.createSymbolicLink(atPath: folder + "/null.csv", withDestinationPath: "/dev/null")
        XCTAssertThrowsError(try FileSystem.resolveOutputFile(folder + "/null.csv"))
        try FileSystem.createFolder(folder + "/sub")
        try FileManager.default.createSymbolicLink(atPath: folder + "/link.csv", withDestinationPath: "sub/real.csv")
        XCTAssertEqual(try FileSystem.resolveOutputFile(folder + "/link.csv"), folder + "/sub/real.csv")
        XCTAssertEqual(try FileSystem.resolveOutputFile(folder + "/new.csv"), folder + "/new.csv")
        // A path below a file.
        try FileSystem.writeAtomically("x", to: folder + "/file")
        XCTAssertThrowsError(try FileSystem.resolveOutputFile(folder + "/file/x.csv")) {
            XCTAssertTrue("\($0)".contains("is a file, not a folder"), "\($0)")
        }
        XCTAssertThrowsError(try FileSystem.createFolder(folder + "/file")) {
            XCTAssertTrue("\($0)".contains("a file of that name exists"), "\($0)")
        }
    }

    func testAnOutputIsNeverOneOfTheInputsAndItsFolderIsReadyBeforeTheWork() throws {
        let input = folder + "/g.cfg"
        try FileSystem.writeAtomically("S -> a\n", to: input)
        try FileManager.default.createSymbolicLink(atPath: folder + "/alias.cfg", withDestinationPath: "g.cfg")
        try FileManager.default.linkItem(atPath: input, toPath: folder + "/hard.cfg")
        // The same file by device and inode, whatever the spelling: a link, a hard link, ./ and ../ detours.
        for spelling in [input, folder + "/./g.cfg", folder + "/../" + (folder as NSString).lastPathComponent + "/g.cfg",
                         folder + "/alias.cfg", folder + "/hard.cfg"] {
            XCTAssertThrowsError(try FileSystem.prepareOutputFile(spelling, inputs: ["-", input])) {
                XCTAssertTrue("\($0)".contains("is the input \(input)"), "\($0)")
            }
        }
        XCTAssertEqual(try FileSystem.prepareOutputFile(folder + "/out.csv", inputs: [input]), folder + "/out.csv")
        // A missing folder is created now, before any work; one ending in '/' names a folder, not a file.
        XCTAssertEqual(try FileSystem.prepareOutputFile(folder + "/new/deeper/x.svg"), folder + "/new/deeper/x.svg")
        XCTAssertEqual(FileSystem.kind(of: folder + "/new/deeper"), .directory)
        XCTAssertThrowsError(try FileSystem.resolveOutputFile(folder + "/dir/")) {
            XCTAssertTrue("\($0)".contains("names a folder"), "\($0)")
        }
        // The longest file name the system allows is written atomically too (its temporary name is shortened).
        let long = folder + "/" + String(repeating: "r", count: 251) + ".csv"
        try FileSystem.writeAtomically("x\n", to: long)
        XCTAssertEqual(try String(contentsOfFile: long, encoding: .utf8), "x\n")
    }

    func testANamedPipeIsOpenedOnceAndReadToItsEnd() throws {
        // Opening a pipe to probe it and again to read it loses the writer of the first open, and then waits for
        // a writer that never comes.
        let fifo = folder + "/fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let writer = Thread {
            let descriptor = open(fifo, O_WRONLY)
            _ = "a\nb\nc\n".withCString { write(descriptor, $0, 6) }
            close(descriptor)
        }
        writer.start()
        let reader = try LineReader(path: fifo)
        var lines: [LineReader.Line] = []
        while let batch = try reader.nextBatch() { lines += batch }
        XCTAssertEqual(lines, ["a", "b", "c"].map { .text(Array($0.utf8)) })
    }

    func testReadProblemsSayWhy() throws {
        let missing = "/nonexistent-\(getpid())/g.cfg"
        XCTAssertThrowsError(try FileReading.contents(ofFile: missing)) { error in
            XCTAssertEqual("\(error)", "cannot read \(missing): no such file")
        }
        func reason(_ path: String) -> String? {
            do { _ = try LineReader(path: path); return nil } catch { return error.reason }
        }
        XCTAssertEqual(reason(missing), "no such file")
        XCTAssertEqual(reason(folder), "is a directory, not a file")
        try FileSystem.writeAtomically("x", to: folder + "/ok")
        XCTAssertEqual(reason(folder + "/ok/x"), "a part of the path before the last '/' is a file, not a directory")
        XCTAssertNil(reason(folder + "/ok"))
        XCTAssertEqual(try FileReading.contents(ofFile: folder + "/ok"), Array("x".utf8))
        XCTAssertEqual(FileReading.reason(errno: EACCES), "permission denied")
        XCTAssertEqual(FileReading.reason(errno: ENOSPC), "no space left on device")
        // A pipe reads to its end (Foundation's readers fail on them).
        var pipeEnds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&pipeEnds), 0)
        _ = "piped".withCString { write(pipeEnds[1], $0, 5) }
        close(pipeEnds[1])
        XCTAssertEqual(try FileReading.contents(ofFile: "/dev/fd/\(pipeEnds[0])"), Array("piped".utf8))
        close(pipeEnds[0])
    }

    func testLocksExcludeAndNameTheirHolder() throws {
        let path = folder + "/x.lock"
        let held = try FileLock.acquire(path, exclusive: true, purpose: "test")
        // flock(2) locks belong to an open file, so a second taker in this process is refused as another would be.
        XCTAssertThrowsError(try FileLock.acquire(path, exclusive: true, purpose: "second")) { error in
            XCTAssertTrue("\(error)".contains("process \(getpid())"), "\(error)")
            XCTAssertTrue("\(error)".contains("(test)"), "\(error)")
        }
        XCTAssertThrowsError(try FileLock.acquire(path, exclusive: false, purpose: "reader"))
        XCTAssertTrue(FileLock.isHeld(path))
        held.release()
        XCTAssertFalse(FileLock.isHeld(path))
        let reader1 = try FileLock.acquire(path, exclusive: false, purpose: "reader")
        let reader2 = try FileLock.acquire(path, exclusive: false, purpose: "reader")
        XCTAssertThrowsError(try FileLock.acquire(path, exclusive: true, purpose: "writer"))
        reader1.release()
        reader2.release()
        XCTAssertNoThrow(try FileLock.acquire(path, exclusive: true, purpose: "writer"))
    }
}
