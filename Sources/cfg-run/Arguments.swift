import Foundation

/// A usage or input error: printed to stderr, exit status 2.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// One option of a command: `--name VALUE`, `--name=VALUE`, or a flag without a value.
struct OptionSpec {
    let names: [String]
    let value: String?
    let help: String
    init(_ names: String..., value: String? = nil, help: String) {
        self.names = names
        self.value = value
        self.help = help
    }
    var isFlag: Bool { value == nil }
}

/// A command's interface: what `--help` prints and what the parser accepts.
struct CommandSpec {
    let name: String
    let summary: String
    /// Positional arguments, e.g. `["G.cfg", "[FILE|-]"]` (bracketed ones are optional).
    let positionals: [String]
    let options: [OptionSpec]
    let details: String

    var usage: String {
        let options = self.options.isEmpty ? "" : " [options]"
        return "cfg-run \(name) \(positionals.joined(separator: " "))\(options)"
    }

    var help: String {
        var text = "\(summary)\n\nUsage: \(usage)\n"
        if !details.isEmpty { text += "\n\(details)\n" }
        text += "\nOptions:\n"
        let rows = options + [OptionSpec("-h", "--help", help: "show this help")]
        let left = rows.map { option in option.names.joined(separator: ", ") + (option.value.map { " \($0)" } ?? "") }
        let width = min(28, (left.map(\.count).max() ?? 0) + 2)
        for (label, option) in zip(left, rows) {
            let pad = label.count < width ? String(repeating: " ", count: width - label.count) : "\n" + String(repeating: " ", count: width + 2)
            text += "  \(label)\(pad)\(option.help)\n"
        }
        return text
    }

    /// Parses `arguments` (after the command name). Returns nil when `--help` was asked for (help is printed).
    func parse(_ arguments: [String]) throws(UsageError) -> ParsedArguments? {
        var parsed = ParsedArguments(command: self)
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || argument == "-" || !argument.hasPrefix("-") || Double(argument) != nil {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" { onlyPositionals = true; continue }
            if argument == "-h" || argument == "--help" {
                print(help, terminator: "")
                return nil
            }
            var name = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            guard let option = options.first(where: { $0.names.contains(name) }) else {
                let known = options.flatMap(\.names).filter { $0.hasPrefix("--") }.joined(separator: ", ")
                throw UsageError("unknown option '\(name)' for 'cfg-run \(self.name)' (expected one of: \(known), --help)")
            }
            let key = option.names.last!
            if option.isFlag {
                if inlineValue != nil { throw UsageError("option '\(name)' takes no value") }
                parsed.flags.insert(key)
                continue
            }
            if let inlineValue {
                parsed.values[key, default: []].append(inlineValue)
            } else {
                guard index < arguments.count else {
                    throw UsageError("option '\(name)' expects a value (\(option.value!))")
                }
                parsed.values[key, default: []].append(arguments[index])
                index += 1
            }
        }
        let required = positionals.filter { !$0.hasPrefix("[") }.count
        if parsed.positionals.count < required {
            throw UsageError("missing argument \(positionals[parsed.positionals.count]) (usage: \(usage))")
        }
        if parsed.positionals.count > positionals.count && positionals.last?.hasSuffix("...") != true {
            throw UsageError("unexpected argument '\(parsed.positionals[positionals.count])' (usage: \(usage))")
        }
        return parsed
    }
}

/// Parsed arguments with typed accessors that name the option and the expected form in their errors.
struct ParsedArguments {
    let command: CommandSpec
    /// Every value given for each option, in order (an option given twice keeps both; `string` reads the last).
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []

    init(command: CommandSpec) { self.command = command }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func string(_ name: String) -> String? { values[name]?.last }

    /// All values of a repeatable option.
    func strings(_ name: String) -> [String] { values[name] ?? [] }

    func int(_ name: String, default value: Int, range: ClosedRange<Int> = Int.min...Int.max) throws(UsageError) -> Int {
        guard let text = string(name) else { return value }
        guard let parsed = Int(text.replacingOccurrences(of: "_", with: "")), range.contains(parsed) else {
            throw UsageError("\(name) expects an integer \(describe(range)), got '\(text)'")
        }
        return parsed
    }

    func uint64(_ name: String, default value: UInt64) throws(UsageError) -> UInt64 {
        guard let text = string(name) else { return value }
        guard let parsed = UInt64(text) else {
            throw UsageError("\(name) expects a non-negative integer seed, got '\(text)'")
        }
        return parsed
    }

    private func describe(_ range: ClosedRange<Int>) -> String {
        switch (range.lowerBound, range.upperBound) {
        case (Int.min, Int.max): return ""
        case (let low, Int.max): return ">= \(low)"
        case (let low, let high): return "in \(low)...\(high)"
        }
    }
}

/// Buffered standard output for commands that print a lot.
struct OutputBuffer {
    private var bytes: [UInt8] = []
    init() { bytes.reserveCapacity(1 << 16) }
    mutating func write(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        if bytes.count >= 1 << 16 { flush() }
    }
    mutating func flush() {
        if bytes.isEmpty { return }
        bytes.withUnsafeBufferPointer { _ = fwrite($0.baseAddress, 1, $0.count, stdout) }
        fflush(stdout)
        bytes.removeAll(keepingCapacity: true)
    }
}

func printError(_ text: String) {
    Heartbeat.noteOutput(text)
    StatusOutput.message(text)
}

/// A line on stderr when a long command has printed nothing for a minute (one training step of a huge model, a
/// slow evaluation), so that a silent process is never mistaken for a hung one.
enum Heartbeat {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var lastOutput = Date()
    nonisolated(unsafe) private static var lastLine = ""
    nonisolated(unsafe) private static var timer: DispatchSourceTimer?

    /// Called for every line written to stderr (and by status updates, which count as output).
    static func noteOutput(_ line: String) {
        lock.lock()
        lastOutput = Date()
        if !line.isEmpty { lastLine = String(line.split(separator: "\n").last ?? "") }
        lock.unlock()
    }

    static func start(after seconds: Double = 60) {
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + seconds, repeating: seconds / 4)
        timer.setEventHandler {
            lock.lock()
            let silent = Date().timeIntervalSince(lastOutput)
            let last = lastLine
            lock.unlock()
            guard silent >= seconds else { return }
            let line = "still working (nothing to report for \(Int(silent)) s)" + (last.isEmpty ? "" : "; last: " + last.prefix(160))
            noteOutput("")
            StatusOutput.message(line)
        }
        timer.resume()
        Heartbeat.timer = timer
    }
}
