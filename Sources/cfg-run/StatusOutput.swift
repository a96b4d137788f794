import Foundation

/// Everything cfg-run writes to stderr goes through here, so that messages and a block of status lines (one per
/// active run, redrawn in place on a terminal) never garble each other, whichever thread writes.
enum StatusOutput {
    private static let lock = NSLock()
    /// Whether stderr is a terminal that understands cursor movement.
    static let isTerminal: Bool = isatty(2) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    nonisolated(unsafe) private static var block: [String] = []
    nonisolated(unsafe) private static var drawnLines = 0
    nonisolated(unsafe) private static var lastDraw = Date.distantPast

    /// Writes `text` and a line break above the status block.
    static func message(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        var out = erase()
        out += text + "\n"
        out += draw()
        write(out)
    }

    /// Replaces the status block (terminal only; at most ten redraws a second unless `force`).
    static func setBlock(_ lines: [String], force: Bool = false) {
        guard isTerminal else { return }
        lock.lock()
        defer { lock.unlock() }
        block = lines
        guard force || Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
        write(erase() + draw())
    }

    /// Removes the status block from the screen.
    static func clearBlock() {
        guard isTerminal else { return }
        lock.lock()
        defer { lock.unlock() }
        block = []
        write(erase())
    }

    private static func erase() -> String {
        guard drawnLines > 0 else { return "" }
        defer { drawnLines = 0 }
        return "\u{1B}[\(drawnLines)A\r\u{1B}[J"
    }

    private static func draw() -> String {
        guard isTerminal, !block.isEmpty else { return "" }
        lastDraw = Date()
        drawnLines = block.count
        let width = max(20, terminalWidth() - 1)
        return block.map { String($0.prefix(width)) + "\n" }.joined()
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 120 }
        return Int(size.ws_col)
    }

    private static func write(_ text: String) {
        guard !text.isEmpty else { return }
        FileHandle.standardError.write(Data(text.utf8))
    }
}
