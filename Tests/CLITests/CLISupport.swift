import Foundation
import XCTest

/// Runs the built `cfg-run` executable for the CLI test suites.
class CLITestCase: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The `cfg-run` binary beside the test bundle (this test target depends on it, so it is built first), or the
    /// one `CFG_RUN_TEST_BINARY` names (to show that a test fails on an older build).
    var executable: URL {
        if let path = ProcessInfo.processInfo.environment["CFG_RUN_TEST_BINARY"] { return URL(fileURLWithPath: path) }
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [folder, folder.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("cfg-run")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("cfg-run")
    }

    /// Runs `cfg-run` with `arguments` in the repository root (or in `directory`); `input` is written to its standard
    /// input from another thread (so a large input cannot deadlock against its output). A run past `timeout` seconds
    /// is killed and fails the test: nothing may hang. With `shell`, `arguments` go to bash instead (`-c SCRIPT NAME
    /// ARGS...`), for pipelines.
    func run(_ arguments: [String], input: String? = nil, environment: [String: String]? = nil, in directory: String? = nil,
             timeout: Double = 300, shell: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        let process = Process()
        process.executableURL = shell ? URL(fileURLWithPath: "/bin/bash") : executable
        process.arguments = arguments
        process.currentDirectoryURL = directory.map { URL(fileURLWithPath: $0) } ?? CLITestCase.root
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try process.run()
        let writer = inPipe.fileHandleForWriting
        let bytes = Data((input ?? "").utf8)
        DispatchQueue.global().async {
            if !bytes.isEmpty { try? writer.write(contentsOf: bytes) }
            try? writer.close()
        }
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        var stderr = Data()
        let errorReader = DispatchWorkItem { stderr = err.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(execute: errorReader)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        errorReader.wait()
        process.waitUntilExit()
        watchdog.cancel()
        if process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM {
            XCTFail("cfg-run \(arguments.joined(separator: " ")) ran past \(timeout) s", file: file, line: line)
        }
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Starts `cfg-run` in the background (output discarded), for tests that kill it or race it.
    func start(_ arguments: [String], environment: [String: String]? = nil) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.currentDirectoryURL = CLITestCase.root
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// A fresh temporary folder, removed after the test.
    func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "cfg-run-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// A results CSV without its wall_s column (the one column that may differ between runs of the same sweep).
    func withoutWallTime(_ csv: String) -> [String] {
        let lines = csv.split(separator: "\n").map(String.init)
        guard let header = lines.first?.split(separator: ",").map(String.init), let wall = header.firstIndex(of: "wall_s") else { return lines }
        return lines.map { line in
            var fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if fields.count > wall { fields.remove(at: wall) }
            return fields.joined(separator: ",")
        }
    }

    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing>" }
}
