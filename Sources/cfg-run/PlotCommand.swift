import Files
import Foundation
import Runner

let plotSpec = CommandSpec(
    name: "plot", summary: "draw learning curves of a results CSV as an SVG figure (a panel per size, a line per variant)",
    positionals: ["RESULTS.csv..."],
    options: [
        OptionSpec("--y", value: "COLUMN", help: "what to plot (default gen_accuracy; any numeric column: excess_per_char, val_loss_per_char, ...)"),
        OptionSpec("--x", value: "COLUMN", help: "against what (default step; also chars, tokens)"),
        OptionSpec("--title", value: "TEXT", help: "a title above the panels"),
        OptionSpec("--columns", value: "N", help: "panels per row (default 3)"),
        OptionSpec("--out", value: "FILE.svg", help: "write the figure there (default: stdout)"),
    ],
    details: """
    One panel per model size (ordered by non-embedding parameters, the same y axis in every panel), one line per
    variant: the mean over seeds at each evaluation, with a band from the lowest to the highest seed. The paper's
    Figure 2 analogue: cfg-run plot results/x.csv --y gen_accuracy --out results/x.svg. Several files (e.g. one
    sweep per width) are read as one table.
    """)

func runPlot(_ arguments: ParsedArguments) throws -> Int32 {
    var files: [(text: String, source: String)] = []
    for path in arguments.positionals {
        // Read first as `summary` reads it: a cut or malformed file is refused the same way.
        do { _ = try ResultsTable(contentsOfFile: path) } catch { throw UsageError(error.description) }
        files.append((try usage { String(decoding: try FileSystem.read(path), as: UTF8.self) }, path))
    }
    let plot: ResultsPlot
    do {
        plot = try ResultsPlot(files: files, x: arguments.string("--x") ?? "step", y: arguments.string("--y") ?? "gen_accuracy")
    } catch { throw UsageError(error.description) }
    let svg = plot.svg(title: arguments.string("--title"), columns: try arguments.int("--columns", default: 3, range: 1...12))
    if let out = arguments.string("--out") {
        let resolved = try usage { try FileSystem.resolveOutputFile(out) }
        try writeResults(svg, to: resolved)
        printError("wrote \(resolved): \(plot.panels.count) panel\(plot.panels.count == 1 ? "" : "s"), \(plot.panels.map(\.series.count).reduce(0, +)) lines")
    } else {
        print(svg, terminator: "")
    }
    return 0
}
