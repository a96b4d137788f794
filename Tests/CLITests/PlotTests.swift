import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// `cfg-run plot`: extreme values, inputs and outputs, seeds aggregated by step, and a layout whose text never
/// overlaps or leaves the figure.
final class PlotTests: CLITestCase {
    /// An SVG element as parsed: its name, attributes, text, and the classes of the groups it is in.
    struct Element {
        let name: String
        let attributes: [String: String]
        var text: String
        let groups: [String]
        func number(_ attribute: String) -> Double? { attributes[attribute].flatMap(Double.init) }
    }

    /// Parses an SVG document into its elements (parsing checks that it is well-formed XML).
    final class SVGElements: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        private var open: [Int] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            let groups = open.compactMap { elements[$0].name == "g" ? elements[$0].attributes["class"] : nil }
            elements.append(Element(name: name, attributes: attributes, text: "", groups: groups))
            open.append(elements.count - 1)
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            open.removeLast()
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let last = open.last { elements[last].text += string }
        }
    }

    func elements(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> [Element] {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = SVGElements()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")", file: file, line: line)
        return collector.elements
    }

    /// The layout's estimate of a text's width: 6.5 px a character at font size 11.
    func estimatedWidth(_ text: String, fontSize: Double) -> Double { Double(text.count) * 6.5 / 11 * fontSize }

    /// The horizontal extent of a text element by the layout's estimate.
    func extent(_ element: Element, fontSize: Double) -> ClosedRange<Double> {
        let x = element.number("x") ?? 0, width = estimatedWidth(element.text, fontSize: fontSize)
        switch element.attributes["text-anchor"] {
        case "middle": return (x - width / 2)...(x + width / 2)
        case "end": return (x - width)...x
        default: return x...(x + width)
        }
    }

    func write(_ text: String, _ name: String, in folder: String) throws -> String {
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    let header = "variant,size,seed,step,chars,excess_per_char\n"

    override func setUp() {
        super.setUp()
        // A refused run exits before it reads its standard input: writing the input must fail, not kill the tests.
        signal(SIGPIPE, SIG_IGN)
    }

    /// Nearly equal, huge, tiny and single values: the figure comes at once, with finite coordinates only (the tick
    /// loop once never ended on a range of 2e-16, and ±1.7e308 overflowed the range into NaN coordinates).
    func testPlotFinishesWithFiniteCoordinatesForAnyFiniteValues() throws {
        let folder = try temporaryFolder()
        let cases: [(name: String, values: [(x: String, y: String)])] = [
            ("nearly-equal", [("1", "1"), ("2", "1.0000000000000002")]),
            ("huge", [("1", "-1.7e308"), ("2", "1.7e308")]),
            ("huge-x", [("-1.7e308", "0.5"), ("1.7e308", "0.25")]),
            ("largest", [("1.7976931348623157e308", "1.7976931348623157e308"), ("1.7976931348623157e308", "-1.7976931348623157e308")]),
            ("single", [("1000", "0.3")]),
            ("zeros", [("0", "0"), ("0", "0")]),
            ("tiny", [("1", "1e-300"), ("2", "2e-300")]),
            ("subnormal", [("5e-324", "5e-324"), ("1e-323", "0")]),
            ("offset", [("1e15", "123456789.5"), ("1e15", "123456789.50000001")]),
        ]
        for (name, values) in cases {
            var csv = header
            for (index, value) in values.enumerated() { csv += "A,s,\(index % 2 + 1),\(index / 2 + 1),\(value.x),\(value.y)\n" }
            let path = try write(csv, name + ".csv", in: folder)
            for x in ["step", "chars"] {
                let started = Date()
                let outcome = try run(["plot", path, "--y", "excess_per_char", "--x", x], timeout: 20)
                XCTAssertEqual(outcome.status, 0, "\(name) --x \(x): \(outcome.stderr)")
                XCTAssertLessThan(Date().timeIntervalSince(started), 10, "\(name) --x \(x)")
                let svg = outcome.stdout.lowercased()
                XCTAssertFalse(svg.contains("nan") || svg.contains("inf"), "\(name) --x \(x): \(outcome.stdout)")
                let all = elements(outcome.stdout)
                XCTAssertEqual(all.filter { $0.attributes["class"] == "line" }.count, 1, name)
                let ticks = all.filter { $0.name == "line" && $0.groups.contains("panel") }
                XCTAssertFalse(ticks.isEmpty, "\(name): no ticks")
                XCTAssertLessThanOrEqual(ticks.count, 40, "\(name): a bounded number of ticks")
            }
        }
    }

    /// `--out` may not name an input (the results would be replaced by the figure), and this is found before any
    /// work; an --out into a missing folder creates it.
    func testPlotRefusesAnOutputThatIsAnInputAndCreatesItsFolder() throws {
        let folder = try temporaryFolder()
        let original = read("results/plateau-d8-20k.csv")
        let input = try write(original, "r.csv", in: folder)
        for out in [input, folder + "/./r.csv"] {
            // --y bogus would fail later: the output is checked first.
            let refused = try run(["plot", input, "--out", out, "--y", "bogus"])
            XCTAssertEqual(refused.status, 2, refused.stderr)
            XCTAssertTrue(refused.stderr.contains("is the input"), refused.stderr)
            XCTAssertEqual(read(input), original, "the results are intact")
        }
        let nested = folder + "/figures/new/r.svg"
        let written = try run(["plot", input, "--out", nested])
        XCTAssertEqual(written.status, 0, written.stderr)
        XCTAssertTrue(read(nested).hasPrefix("<svg"), read(nested))
        XCTAssertTrue(written.stderr.contains("wrote \(nested): 1 panel, 6 lines"), written.stderr)
    }

    /// A variant with a single evaluation is a visible marker (a path of one point draws nothing), with its seeds'
    /// range as a bar.
    func testPlotDrawsASinglePointSeriesVisibly() throws {
        let folder = try temporaryFolder()
        let csv = header + "A,s,1,1,10,0.5\nA,s,1,2,20,0.4\nB,s,1,2,20,0.3\nB,s,2,2,21,0.35\nC,s,1,2,20,0.2\n"
        let outcome = try run(["plot", try write(csv, "one.csv", in: folder), "--y", "excess_per_char"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let all = elements(outcome.stdout)
        let markers = all.filter { $0.name == "circle" && $0.attributes["class"] == "marker" }
        XCTAssertEqual(Set(markers.compactMap { $0.attributes["data-variant"] }), ["B", "C"], outcome.stdout)
        for marker in markers {
            XCTAssertNotNil(marker.number("cx"))
            XCTAssertNotNil(marker.number("cy"))
            XCTAssertGreaterThan(marker.number("r") ?? 0, 1)
        }
        let bands = all.filter { $0.attributes["class"] == "band" }
        XCTAssertEqual(bands.compactMap { $0.attributes["data-variant"] }, ["B"], "two seeds: B's range as a bar")
        XCTAssertNotEqual(bands.first?.attributes["stroke"] ?? "none", "none", "a bar of no area is drawn with a stroke")
    }

    /// --x size: a point per size and variant at the final evaluation, placed by its value (here the differences to
    /// the baseline, paired by seed); unfinished runs left out and named; mistakes refused before anything is drawn.
    func testPlotAgainstSizeDrawsFinalDifferencesAndRefusesMistakes() throws {
        let folder = try temporaryFolder()
        let sizeHeader = "variant,size,seed,step,nonembed_params,excess_per_char,status\n"
        let small = sizeHeader + """
        base,s,1,10,100,0.50,ok
        base,s,2,10,100,0.60,ok
        up,s,1,10,100,0.70,ok
        up,s,2,10,100,0.82,ok
        down,s,1,10,100,0.40,ok
        down,s,2,5,100,0.45,ok

        """
        let large = sizeHeader + "base,l,1,20,900,0.30,ok\nbase,l,2,20,900,0.30,ok\nup,l,1,20,900,0.20,ok\nup,l,2,20,900,0.22,ok\n"
        let s = try write(small, "s.csv", in: folder), l = try write(large, "l.csv", in: folder)
        let outcome = try run(["plot", l, s, "--x", "size", "--y", "excess_per_char", "--baseline", "base"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("left out: down seed 2 at size s: unfinished"), outcome.stderr)
        let all = elements(outcome.stdout)
        let markers = all.filter { $0.name == "circle" && $0.attributes["class"] == "marker" }
        XCTAssertEqual(markers.count, 3, "up at s and l, down at s (one seed); the baseline is not drawn")
        // Sizes in order of parameters, whatever the order of the files: s left of l.
        let sx = markers.filter { $0.attributes["data-size"] == "s" }.compactMap { $0.number("cx") }
        let lx = markers.filter { $0.attributes["data-size"] == "l" }.compactMap { $0.number("cx") }
        XCTAssertLessThan(sx.max() ?? .infinity, lx.min() ?? -.infinity)
        // up - base at s: +0.20, +0.22 (above the dashed zero line, drawn higher: smaller y); at l: -0.10, -0.08.
        let zero = try XCTUnwrap(all.first { $0.attributes["class"] == "zero" }?.number("y1"))
        let upAtS = markers.filter { $0.attributes["data-size"] == "s" }.compactMap { $0.number("cy") }.min()!
        let upAtL = try XCTUnwrap(markers.first { $0.attributes["data-size"] == "l" }?.number("cy"))
        XCTAssertLessThan(upAtS, zero)
        XCTAssertGreaterThan(upAtL, zero)
        XCTAssertEqual(all.filter { $0.attributes["class"] == "interval" }.count, 2, "two seeds paired: an interval; one seed: none")
        XCTAssertTrue(all.contains { $0.text.contains("; 1 left out (") }, outcome.stdout)

        for (arguments, message) in [
            (["plot", s, "--baseline", "base"], "needs --x size"),
            (["plot", s, s, "--x", "size", "--y", "excess_per_char"], "give one file per size"),
            (["plot", s, "--x", "size", "--y", "excess_per_char", "--baseline", "nobody"], "no runs of the baseline variant 'nobody'"),
            (["plot", s, "--x", "size", "--y", "gen_accuracy"], "no numeric column 'gen_accuracy'"),
        ] {
            let refused = try run(arguments)
            XCTAssertEqual(refused.status, 2, "\(arguments): \(refused.stderr)")
            XCTAssertTrue(refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
            XCTAssertTrue(refused.stdout.isEmpty, "\(arguments): nothing drawn")
        }
    }

    /// Runs of two grammars are never averaged as one: a figure of files of different grammars, and a file that
    /// joins two grammars' results (for assert and summary too), are refused, naming the grammars.
    func testResultsOfTwoGrammarsAreRefusedNotMixed() throws {
        let folder = try temporaryFolder()
        let head = "grammar,variant,size,seed,step,nonembed_params,excess_per_char,status\n"
        let a = try write(head + "g1,1gram,s,1,10,100,0.5,ok\ng1,in,s,1,10,100,0.4,ok\n", "a.csv", in: folder)
        let b = try write(head + "g2,1gram,s,1,10,100,0.9,ok\ng2,in,s,1,10,100,0.8,ok\n", "b.csv", in: folder)
        let joined = try write(head + "g1,1gram,s,1,10,100,0.5,ok\ng2,1gram,s,1,10,100,0.9,ok\n", "joined.csv", in: folder)
        for arguments in [["plot", a, b, "--y", "excess_per_char"], ["plot", a, b, "--y", "excess_per_char", "--x", "size"]] {
            let refused = try run(arguments)
            XCTAssertEqual(refused.status, 2, "\(arguments): \(refused.stderr)")
            XCTAssertTrue(refused.stderr.contains("2 grammars, g1 (\(a)), g2 (\(b))"), refused.stderr)
        }
        for arguments in [["plot", joined, "--y", "excess_per_char"], ["summary", joined],
                          ["assert", joined, "1gram < 1gram on excess_per_char"]] {
            let refused = try run(arguments)
            XCTAssertEqual(refused.status, 2, "\(arguments): \(refused.stdout)")
            XCTAssertTrue(refused.stderr.contains("joined.csv:3: the grammar 'g2' after 'g1'"), refused.stderr)
        }
        let one = try run(["plot", a, "--y", "excess_per_char"])
        XCTAssertEqual(one.status, 0, one.stderr)
    }

    /// Standard input (`-` or /dev/stdin) and pipes are read once; a cut-off input is refused as a file is.
    func testPlotReadsStandardInputOnce() throws {
        let csv = read("results/plateau-d8-20k.csv")
        let fromFile = try run(["plot", "results/plateau-d8-20k.csv"])
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        for name in ["-", "/dev/stdin"] {
            let outcome = try run(["plot", name], input: csv)
            XCTAssertEqual(outcome.status, 0, "\(name): \(outcome.stderr)")
            XCTAssertEqual(outcome.stdout, fromFile.stdout, name)
        }
        let twice = try run(["plot", "-", "-"])
        XCTAssertEqual(twice.status, 2)
        XCTAssertTrue(twice.stderr.contains("standard input"), twice.stderr)
        let cut = try run(["plot", "-"], input: String(csv.dropLast(3)))
        XCTAssertEqual(cut.status, 2)
        XCTAssertTrue(cut.stderr.contains("cut off"), cut.stderr)
        let folder = try temporaryFolder()
        let cutFile = try write(String(csv.dropLast(3)), "cut.csv", in: folder)
        let cutFromFile = try run(["plot", cutFile])
        XCTAssertEqual(cutFromFile.status, 2)
        XCTAssertEqual(cutFromFile.stderr.replacingOccurrences(of: cutFile, with: "<stdin>"), cut.stderr, "one check for both")
        // A shell's process substitution is a pipe too.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.arguments = ["-c", "\"$0\" plot <(cat results/plateau-d8-20k.csv) > \"$1\"", executable.path, folder + "/piped.svg"]
        shell.currentDirectoryURL = CLITestCase.root
        try shell.run()
        shell.waitUntilExit()
        XCTAssertEqual(shell.terminationStatus, 0)
        XCTAssertEqual(read(folder + "/piped.svg"), fromFile.stdout)
    }

    /// Against chars, the seeds' rows at one step are one point (their mean chars): a line has a point per step and
    /// a band no vertical bars.
    func testPlotAggregatesTheSeedsOfAStep() throws {
        let folder = try temporaryFolder()
        var csv = header
        for seed in 1...3 {
            for step in 1...4 { csv += "A,s,\(seed),\(step * 100),\(step * 1000 + seed * 7),\(1.0 / Double(step) + Double(seed) / 100)\n" }
        }
        let path = try write(csv, "seeds.csv", in: folder)
        for x in ["step", "chars"] {
            let outcome = try run(["plot", path, "--y", "excess_per_char", "--x", x])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            let all = elements(outcome.stdout)
            let line = try XCTUnwrap(all.first { $0.attributes["class"] == "line" }?.attributes["d"])
            XCTAssertEqual(line.components(separatedBy: "L").count, 4, "\(x): a point per step: \(line)")
            let band = try XCTUnwrap(all.first { $0.attributes["class"] == "band" }?.attributes["d"])
            let corners = band.dropFirst().dropLast().components(separatedBy: " L").map { $0.components(separatedBy: ",")[0] }
            XCTAssertEqual(corners.count, 8, "\(x): \(band)")
            XCTAssertEqual(Array(corners.prefix(4)), Array(corners.suffix(4).reversed()), "\(x): the band's edges share their x")
        }
    }

    /// Text never overlaps or leaves the figure: legend entries (in any figure width), panel titles, a long title;
    /// and an axis's tick labels share one format.
    func testPlotLayoutKeepsTextApartAndInside() throws {
        let folder = try temporaryFolder()
        var csv = "variant,size,seed,step,chars,nonembed_params,excess_per_char\n"
        for variant in ["1gram", "3gram-in", "3gram-hin", "3gram-out", "3gram-gpt", "2gram-out-long-name"] {
            for step in 1...2 { csv += "\(variant),L8-d8-h1-a-long-size-name,1,\(step * 5000),\(step),123456789,0.\(step)\n" }
        }
        let path = try write(csv, "layout.csv", in: folder)
        let title = String(repeating: "a rather long title of the figure ", count: 4)
        for arguments in [[path], ["results/plateau-d8-20k.csv", "results/lr-check-d64-h4-lr0.002.csv", "--title", title],
                          ["results/plateau-d8-20k.csv", "--title", title], ["results/dichotomy.csv", "--columns", "2"],
                          [path, "--x", "size"], ["results/dichotomy.csv", "--x", "size", "--baseline", "1gram", "--title", title]] {
            let outcome = try run(["plot"] + arguments + ["--y", "excess_per_char"])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            let all = elements(outcome.stdout)
            let width = try XCTUnwrap(all.first?.number("width"))
            for text in all where text.name == "text" && text.attributes["transform"] == nil {
                let range = extent(text, fontSize: text.number("font-size") ?? 11)
                XCTAssertTrue(range.lowerBound >= 0 && range.upperBound <= width, "\(arguments): '\(text.text)' at \(range), figure width \(width)")
            }
            let legend = all.filter { $0.name == "text" && $0.groups.contains("legend") }
            XCTAssertFalse(legend.isEmpty)
            for (i, a) in legend.enumerated() {
                for b in legend[(i + 1)...] where a.number("y") == b.number("y") {
                    XCTAssertFalse(extent(a, fontSize: 11).overlaps(extent(b, fontSize: 11)), "\(arguments): '\(a.text)' and '\(b.text)' overlap")
                }
            }
            let titles = all.filter { $0.name == "text" && $0.attributes["class"] == "title" }
            XCTAssertEqual(titles.isEmpty, !arguments.contains("--title"), "\(arguments): a title, in lines that fit")
        }
        // One format per axis: 0, 5k, 10k, ... not 0, 5000, 10k.
        let plateau = try run(["plot", "results/plateau-d8-20k.csv"])
        XCTAssertEqual(plateau.status, 0, plateau.stderr)
        let all = elements(plateau.stdout)
        let labels = all.filter { $0.name == "text" && $0.groups.contains("panel") && $0.attributes["class"] == "x-tick" }.map(\.text)
        XCTAssertEqual(labels, ["0", "5k", "10k", "15k", "20k"])
        let yLabels = all.filter { $0.name == "text" && $0.attributes["class"] == "y-tick" }.map(\.text)
        XCTAssertEqual(yLabels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    }
}
