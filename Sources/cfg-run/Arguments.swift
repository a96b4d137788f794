import Foundation

/// A usage or input error: printed to stderr, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// One option of a command as the parser and `--help` see it: its names, what its value looks like (nil for a
/// flag), its help, and how a given value is checked, which the parser does for every option before the command
/// runs (so a bad value is refused before any work). Made from an `Option` declaration (see Options.swift).
struct OptionSpec {
    let names: [String]
    let value: String?
    let help: String
    /// The declaration this comes from (one per option name in the whole command line: see `Options`).
    let declaration: String
    let check: (String) throws(UsageError) -> Void
    var isFlag: Bool { value == nil }
    var name: String { names.last! }
}

/// A typed option: declared once (Options.swift: name, type, default, validation) and shared by every command that
/// takes it; a command may word its help or choose its default (`with(help:)`, `defaulting(to:)`), never its
/// validation. Reading an option a command does not declare is a programming error (a precondition, which the
/// CLI tests exercise).
struct Option<Value> {
    let names: [String]
    let value: String?
    let help: String
    let defaultValue: Value?
    let read: (String) throws(UsageError) -> Value

    init(_ names: String..., value: String?, help: String, default defaultValue: Value? = nil,
         read: @escaping (String) throws(UsageError) -> Value) {
        self.init(names: names, value: value, help: help, defaultValue: defaultValue, read: read)
    }

    var name: String { names.last! }

    var spec: OptionSpec {
        OptionSpec(names: names, value: value, help: help, declaration: "\(names) \(Value.self)", check: { text throws(UsageError) in _ = try read(text) })
    }

    /// The same option with a command's own words for its help.
    func with(help: String) -> Option {
        Option(names: names, value: value, help: help, defaultValue: defaultValue, read: read)
    }

    /// The same option with a command's own default.
    func defaulting(to value: Value) -> Option {
        Option(names: names, value: self.value, help: help, defaultValue: value, read: read)
    }

    init(names: [String], value: String?, help: String, defaultValue: Value?,
                 read: @escaping (String) throws(UsageError) -> Value) {
        self.names = names
        self.value = value
        self.help = help
        self.defaultValue = defaultValue
        self.read = read
    }
}

extension Option where Value == Bool {
    /// A flag: present or not.
    init(flag names: String..., help: String) {
        self.init(names: names, value: nil, help: help, defaultValue: false, read: { _ throws(UsageError) in true })
    }
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
        let rows = options.map { ($0.names, $0.value, $0.help) } + [(["-h", "--help"], nil, "show this help")]
        let left = rows.map { names, value, _ in names.joined(separator: ", ") + (value.map { " \($0)" } ?? "") }
        let width = min(28, (left.map(\.count).max() ?? 0) + 2)
        for (label, row) in zip(left, rows) {
            let pad = label.count < width ? String(repeating: " ", count: width - label.count) : "\n" + String(repeating: " ", count: width + 2)
            text += "  \(label)\(pad)\(row.2)\n"
        }
        return text
    }

    /// Parses `arguments` (after the command name), checking every option's value. Returns nil when `--help` was
    /// asked for (help is printed).
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
            if option.isFlag {
                if inlineValue != nil { throw UsageError("option '\(name)' takes no value") }
                parsed.flags.insert(option.name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else { throw UsageError("option '\(name)' expects a value (\(option.value!))") }
                value = arguments[index]
                index += 1
            }
            try option.check(value)
            parsed.values[option.name, default: []].append(value)
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

/// Parsed arguments, read through the options' declarations.
struct ParsedArguments {
    let command: CommandSpec
    /// Every value given for each option, in order (an option given twice keeps both; `value` reads the last).
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []

    init(command: CommandSpec) { self.command = command }

    private func declared<V>(_ option: Option<V>) {
        precondition(command.options.contains { $0.name == option.name && $0.declaration == option.spec.declaration },
                     "cfg-run \(command.name) reads \(option.name), which it does not declare")
    }

    /// Whether the option was given.
    func given<V>(_ option: Option<V>) -> Bool {
        declared(option)
        return values[option.name] != nil || flags.contains(option.name)
    }

    /// A flag.
    func flag(_ option: Option<Bool>) -> Bool {
        declared(option)
        return flags.contains(option.name)
    }

    /// The option's value if given, else nil.
    func optional<V>(_ option: Option<V>) throws(UsageError) -> V? {
        declared(option)
        return try values[option.name]?.last.map(option.read)
    }

    /// The option's value, or its default.
    func value<V>(_ option: Option<V>) throws(UsageError) -> V {
        guard let value = try optional(option) ?? option.defaultValue else {
            preconditionFailure("cfg-run \(command.name) reads \(option.name), which has no default, with value(_:)")
        }
        return value
    }

    /// Every value of a repeatable option, in order.
    func all<V>(_ option: Option<V>) throws(UsageError) -> [V] {
        declared(option)
        var out: [V] = []
        for text in values[option.name] ?? [] { out.append(try option.read(text)) }
        return out
    }

    /// The options given, by name (for commands whose options depend on one another).
    var givenNames: Set<String> { Set(values.keys).union(flags) }
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
