import Foundation
import Grammar

// cfg-run: the command line. This file only parses arguments, calls the libraries and prints.
// Exit status: 0 ok, 1 a negative verdict (a rejected string), 2 a usage or input error.

let commands: [(spec: CommandSpec, run: (ParsedArguments) throws -> Int32)] = [
    (sweepSpec, runSweep),
    (assertSpec, runAssert),
    (summarySpec, runSummary),
    (mergeSpec, runMerge),
    (rescoreSpec, runRescore),
    (kgramSpec, runKGram),
    (plotSpec, runPlot),
    (sampleSpec, runSample),
    (checkSpec, runCheck),
    (statsSpec, runStats),
    (generateSpec, runGenerate),
    (benchSpec, runBench),
]

let topLevelHelp = """
cfg-run: language-model experiments on synthetic context-free grammars.

Usage: cfg-run G.cfg [sweep options]      the main job: a training sweep (same as 'cfg-run sweep G.cfg')
       cfg-run COMMAND [arguments] [options]

Commands:
\(commands.map { "  " + $0.spec.name.padding(toLength: 10, withPad: " ", startingAt: 0) + $0.spec.summary }.joined(separator: "\n"))

Run 'cfg-run COMMAND --help' for a command's options. The .cfg format is described in grammars/README.md.

"""

func main() -> Int32 {
    var arguments = Array(CommandLine.arguments.dropFirst())
    guard let name = arguments.first else {
        printError(topLevelHelp + "error: expected a command")
        return 2
    }
    if name == "-h" || name == "--help" || name == "help" {
        // `cfg-run help COMMAND` is `cfg-run COMMAND --help`.
        if name == "help", arguments.count > 1 {
            guard let command = commands.first(where: { $0.spec.name == arguments[1] }) else {
                printError("error: unknown command '\(arguments[1])' (expected one of: \(commands.map(\.spec.name).joined(separator: ", ")))")
                return 2
            }
            print(command.spec.help, terminator: "")
            return 0
        }
        print(topLevelHelp, terminator: "")
        return 0
    }
    // The main job: `cfg-run grammars/x.cfg --sizes ...` is `cfg-run sweep grammars/x.cfg ...`.
    if commands.first(where: { $0.spec.name == name }) == nil, name.hasSuffix(".cfg") || FileManager.default.fileExists(atPath: name) {
        arguments.insert("sweep", at: 0)
    }
    guard let command = commands.first(where: { $0.spec.name == arguments[0] }) else {
        printError("error: unknown command '\(name)' (expected one of: \(commands.map(\.spec.name).joined(separator: ", ")); see cfg-run --help)")
        return 2
    }
    arguments.removeFirst()
    if ["sweep", "check", "stats", "bench"].contains(command.spec.name) { Heartbeat.start() }
    do {
        guard let parsed = try command.spec.parse(arguments) else { return 0 }
        let status = try command.run(parsed)
        InterruptHandler.waitIfStopping()
        return status
    } catch {
        // An error caused by a signal's handler at work (its temporary folder removed) is not reported.
        InterruptHandler.waitIfStopping()
        return report(error)
    }
}

/// Prints an error the way every command does; its exit status.
func report(_ error: Error) -> Int32 {
    switch error {
    case let error as UsageError:
        printError("error: \(error.message)")
    case let error as GrammarError:
        printError(error.description)
    default:
        printError("error: \(error)")
    }
    return 2
}

/// Reads a grammar, printing its warnings to stderr.
func loadGrammar(_ path: String) throws -> Grammar {
    let grammar = try GrammarReader.read(path: path)
    for warning in grammar.warnings { printError(warning.description) }
    return grammar
}

exit(main())
