import Files
import Foundation
import Runner

let plotSpec = CommandSpec(
    name: "plot", summary: "draw learning curves of a results CSV as an SVG figure (a panel per size, a line per variant), or its final values against model size",
    positionals: ["RESULTS.csv..."],
    options: [plotY.spec, plotX.spec, plotBaseline.spec, plotTitle.spec, plotColumns.spec,
              Options.out.with(help: "write the figure (FILE.svg) there (default: stdout); its folder is created; it may not be an input").spec],
    details: """
    One panel per model size (ordered by non-embedding parameters, the same y axis in every panel), one line per
    variant with a point per evaluation step: the seeds' rows at one step are one point, at the mean of their x
    (with --x chars or tokens the seeds differ slightly at a step) and the mean of their y, with a band from the
    lowest to the highest seed; a variant evaluated at a single step is a dot. The paper's Figure 2 analogue:
    cfg-run plot results/x.csv --y gen_accuracy --out results/x.svg. Several files (e.g. one sweep per width) are
    read as one table; '-' reads the results from standard input.
    --x size draws instead the final evaluation against model size, in one panel: a point per size and variant at
    the mean over seeds with its 95% t-interval; with --baseline V, each variant's difference to V paired by seed
    (a dashed line at 0), the intervals by which the study counts an effect. Only finished runs count (as in
    assert); runs left out are named on stderr and counted in the footnote. Each size must come from one file
    (give each width's longest budget).
    """)

let plotY = Options.text("--y", value: "COLUMN", help: "what to plot (default gen_accuracy; any numeric column: excess_per_char, val_loss_per_char, ...)",
                         default: "gen_accuracy")
let plotX = Options.text("--x", value: "COLUMN", help: "against what (default step; also chars, tokens; or size: the final evaluation against model size)", default: "step")
let plotBaseline = Options.text("--baseline", value: "VARIANT", help: "with --x size: plot each variant's difference to this one, paired by seed")
let plotTitle = Options.text("--title", value: "TEXT", help: "a title above the panels (wrapped or shrunk to fit)")
let plotColumns = Options.integer("--columns", help: "panels per row (default 3)", default: 3, range: 1...12)

func runPlot(_ arguments: ParsedArguments) throws -> Int32 {
    let inputs = arguments.positionals
    if inputs.filter({ $0 == "-" }).count > 1 {
        throw UsageError("'-' (standard input) is given \(inputs.filter { $0 == "-" }.count) times: standard input can be read only once; give '-' at most once")
    }
    let x = try arguments.value(plotX), y = try arguments.value(plotY)
    let columns = try arguments.value(plotColumns)
    let baseline = try arguments.optional(plotBaseline)
    if baseline != nil && x != "size" {
        throw UsageError("--baseline draws differences against model size: it needs --x size (learning curves draw every variant as it is)")
    }
    // The output is checked (not an input) and its folder made before any input is read.
    let out = try arguments.optional(Options.out).map { path in try usage { try FileSystem.prepareOutputFile(path, inputs: inputs) } }
    var files: [(text: String, source: String)] = []
    var tables: [(table: ResultsTable, source: String)] = []
    for path in inputs {
        // Each input is read once (a pipe or standard input cannot be read again) and checked as `summary` checks
        // a results file: a cut or malformed file is refused the same way.
        let source = path == "-" ? "<stdin>" : path
        let bytes = try usage { try FileReading.contents(ofFile: path == "-" ? "/dev/stdin" : path, limit: ResultsTable.maximumFileSize) }
        do {
            let text = try ResultsTable.text(ofFile: bytes, source: source)
            tables.append((try ResultsTable(csv: text, source: source), source))
            files.append((text, source))
        } catch { throw UsageError(error.description) }
    }
    // Files of different grammars would be drawn as one: a size's line would average their runs.
    var grammarOf: [String: String] = [:]
    for (table, source) in tables { for grammar in table.grammars where grammarOf[grammar] == nil { grammarOf[grammar] = source } }
    if grammarOf.count > 1 {
        let named = grammarOf.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }
        throw UsageError("the files hold results of \(grammarOf.count) grammars, \(ResultsTable.list(named)): a figure draws one grammar's runs; plot each grammar's files separately")
    }
    let svg: String, drawn: String
    if x == "size" {
        let plot: SizePlot
        do { plot = try SizePlot(tables: tables, metric: y, baseline: baseline) } catch { throw UsageError(error.description) }
        for run in plot.leftOut { printError("left out: \(run)") }
        svg = plot.svg(title: try arguments.optional(plotTitle))
        drawn = "\(plot.sizes.count) size\(plot.sizes.count == 1 ? "" : "s"), \(plot.series.count) variant\(plot.series.count == 1 ? "" : "s")"
    } else {
        let plot: ResultsPlot
        do { plot = try ResultsPlot(files: files, x: x, y: y) } catch { throw UsageError(error.description) }
        svg = plot.svg(title: try arguments.optional(plotTitle), columns: columns)
        let lines = plot.panels.map(\.series.count).reduce(0, +)
        drawn = "\(plot.panels.count) panel\(plot.panels.count == 1 ? "" : "s"), \(lines) lines"
    }
    if let out {
        try writeResults(svg, to: out)
        printError("wrote \(out): \(drawn)")
    } else {
        print(svg, terminator: "")
    }
    return 0
}
