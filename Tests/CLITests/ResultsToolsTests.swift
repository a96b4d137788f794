import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// `cfg-run plot` and `cfg-run kgram` on committed results and a bundled grammar.
final class ResultsToolsTests: CLITestCase {
    /// Counts the elements of an SVG document by name and class (parsing it checks that it is well-formed XML).
    final class SVGCounter: NSObject, XMLParserDelegate {
        var root: String?
        var counts: [String: Int] = [:]
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if root == nil { root = name }
            counts[name + "." + (attributes["class"] ?? ""), default: 0] += 1
        }
    }

    func testPlotDrawsAPanelPerSizeAndALinePerVariant() throws {
        let folder = try temporaryFolder()
        let out = folder + "/dichotomy.svg"
        let outcome = try run(["plot", "results/dichotomy.csv", "--y", "excess_per_char", "--out", out, "--title", "test"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("4 panels, 20 lines"), outcome.stderr)
        let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: out)))
        let counter = SVGCounter()
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        XCTAssertEqual(counter.root, "svg")
        XCTAssertEqual(counter.counts["g.panel"], 4)
        XCTAssertEqual(counter.counts["g.axes"], 4)
        XCTAssertEqual(counter.counts["path.line"], 20, "\(counter.counts)")
        XCTAssertEqual(counter.counts["path.band"], 20, "three seeds: a band per line")
        let svg = read(out)
        for size in ["tiny", "xs", "s", "m"] { XCTAssertTrue(svg.contains("data-size=\"\(size)\""), size) }
        XCTAssertTrue(svg.contains(">excess_per_char</text>"))
        // The same file twice: the same bytes; stdout when there is no --out.
        XCTAssertEqual(try run(["plot", "results/dichotomy.csv", "--y", "excess_per_char", "--title", "test"]).stdout, svg)
        let missing = try run(["plot", "results/dichotomy.csv", "--y", "bogus"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("no column 'bogus'"), missing.stderr)
    }

    /// Several files (e.g. one sweep per width) are one table: their sizes are panels side by side.
    func testPlotReadsSeveralFilesAsOneTable() throws {
        let both = try run(["plot", "results/saturation-tiny-l3.csv", "results/saturation-deep-l3.csv", "--x", "chars"])
        XCTAssertEqual(both.status, 0, both.stderr)
        XCTAssertTrue(both.stdout.contains("data-size=\"tiny\"") && both.stdout.contains("data-size=\"deep\""))
        XCTAssertEqual(both.stdout.components(separatedBy: "class=\"panel\"").count - 1, 2)
        let bad = try run(["plot", "results/saturation-tiny-l3.csv", "results/README.md"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("results/README.md"), bad.stderr)
    }

    /// `rescore`: a sweep's final checkpoints on another validation set, as a results file the other tools read;
    /// careless uses are refused with a reason.
    func testRescoreScoresFinalCheckpointsOnAnotherValidationSet() throws {
        let folder = try temporaryFolder(), out = folder + "/s.csv", scored = folder + "/s-val200.csv"
        let sweep = try run(["grammars/cfg3f-l3.cfg", "--sizes", "tiny", "--variants", "1gram,3gram-in", "--seeds", "1,2",
                             "--steps", "20", "--eval-every", "10", "--val-samples", "50", "--gen-samples", "8", "--out", out])
        XCTAssertEqual(sweep.status, 0, sweep.stderr)
        let arguments = ["rescore", out, "--val-samples", "200", "--data-seed", "7", "--threads", "1", "--out", scored]
        let first = try run(arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("new validation set: 200 sentences (data seed 7)"), first.stderr)
        let text = try String(contentsOfFile: scored, encoding: .utf8)
        XCTAssertEqual(try run(arguments).status, 0)
        XCTAssertEqual(try String(contentsOfFile: scored, encoding: .utf8), text, "the same set, the same numbers")
        let rows = text.split(separator: "\n"), sweepLines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 5)
        XCTAssertEqual(rows[0], sweepLines[0], "the columns of a results file")
        let column = rows[0].split(separator: ",").map(String.init)
        let step = column.firstIndex(of: "step")!
        let excess = column.firstIndex(of: "excess_per_char")!, entropy = column.firstIndex(of: "true_entropy_per_char")!
        let sweepRows = sweepLines.dropFirst().filter { $0.split(separator: ",")[step] == "20" }
        XCTAssertEqual(sweepRows.count, 4)
        for (new, old) in zip(rows.dropFirst(), sweepRows) {
            let a = new.split(separator: ",").map(String.init), b = old.split(separator: ",").map(String.init)
            XCTAssertEqual(a[1...3], b[1...3])
            XCTAssertNotEqual(a[excess], b[excess])
            XCTAssertNotEqual(a[entropy], b[entropy])
        }
        XCTAssertEqual(try run(["summary", scored, "--baseline", "1gram"]).status, 0)
        // Refused: the sweep's own seed (the same sentences), no --out, the output onto its input, no sweep folder.
        for (bad, message) in [(["rescore", out, "--val-samples", "200", "--data-seed", "20250101", "--out", scored], "is the sweep's own"),
                               (["rescore", out, "--val-samples", "200", "--data-seed", "7"], "--out FILE is required"),
                               (["rescore", out, "--data-seed", "7", "--out", scored], "are required"),
                               (["rescore", out, "--val-samples", "200", "--data-seed", "7", "--out", out], "the same file"),
                               (["rescore", folder + "/none.csv", "--val-samples", "200", "--data-seed", "7", "--out", scored], "no such sweep folder")] {
            let outcome = try run(bad)
            XCTAssertEqual(outcome.status, 2, "\(bad)")
            XCTAssertTrue(outcome.stderr.contains(message), "\(bad): \(outcome.stderr)")
        }
        // A run whose final checkpoint is gone is named and left out: exit status 1, the others written.
        try FileManager.default.removeItem(atPath: out + ".runs/tiny_1gram_seed2.ckpt")
        let partial = try run(arguments)
        XCTAssertEqual(partial.status, 1, partial.stderr)
        XCTAssertTrue(partial.stderr.contains("left out: unit 1 (tiny 1gram seed 2): no final checkpoint"), partial.stderr)
        XCTAssertEqual(try String(contentsOfFile: scored, encoding: .utf8).split(separator: "\n").count, 4)
        // No run scored at all: nothing written.
        for seed in [1, 2] { for variant in ["1gram", "3gram-in"] { try? FileManager.default.removeItem(atPath: out + ".runs/tiny_\(variant)_seed\(seed).ckpt") } }
        let none = try run(["rescore", out, "--val-samples", "200", "--data-seed", "7", "--out", folder + "/none-scored.csv"])
        XCTAssertEqual(none.status, 1, none.stderr)
        XCTAssertTrue(none.stderr.contains("no run could be scored"), none.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/none-scored.csv"))
    }

    func testKGramCalibrationIsReproducibleAndImprovesWithCharacters() throws {
        let arguments = ["kgram", "grammars/cfg3f-l3.cfg", "--chars", "20000,200000", "--orders", "3-6", "--val-samples", "100"]
        let first = try run(arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(try run(arguments).stdout, first.stdout)
        var rows = first.stdout.split(separator: "\n").map { $0.split(separator: ",") }
        XCTAssertEqual(rows.removeFirst().joined(separator: ","), "grammar,model,order,chars,seed,val_loss_per_char,true_entropy_per_char,excess_per_char,gen_accuracy,gen_accuracy_lo,gen_accuracy_hi,gen_samples")
        XCTAssertEqual(rows.count, 8)
        XCTAssertTrue(rows.allSatisfy { $0.count == 12 && $0[0] == "cfg3f-l3" && $0[1] == "kgram-wb" && $0[11] == "2000" })
        let excess = rows.map { Double($0[7])! }
        XCTAssertLessThan(excess[7], excess[3], "a 6-gram gains from 10x the characters")
        XCTAssertTrue(excess.allSatisfy { $0 > 0 }, "no count model beats the grammar's own entropy")
        // Generation accuracy of the count models (sampled, checked by the parser): within its Wilson interval, in
        // [0, 1], and a 6-gram on 200,000 characters generates grammatical sentences more often than a 3-gram.
        let accuracy = rows.map { (Double($0[8])!, Double($0[9])!, Double($0[10])!) }
        XCTAssertTrue(accuracy.allSatisfy { 0 <= $0.1 && $0.1 <= $0.0 && $0.0 <= $0.2 && $0.2 <= 1 }, "\(accuracy)")
        XCTAssertGreaterThan(accuracy[7].0, accuracy[4].0)
        let bad = try run(["kgram", "grammars/cfg3f-l3.cfg", "--chars", "10", "--orders", "40"])
        XCTAssertEqual(bad.status, 2)
        // Order 1 (a unigram model: no context at all) works; malformed order ranges are refused, not read as 3-5.
        let unigram = try run(["kgram", "grammars/cfg3f-l3.cfg", "--chars", "1000", "--orders", "1", "--val-samples", "50", "--gen-samples", "20"])
        XCTAssertEqual(unigram.status, 0, unigram.stderr)
        XCTAssertEqual(unigram.stdout.split(separator: "\n").count, 2)
        for orders in ["3--5", "3-x-5", "3-5-", "-3", "5-3", "0", ""] {
            let refused = try run(["kgram", "grammars/cfg3f-l3.cfg", "--chars", "1000", "--orders", orders])
            XCTAssertEqual(refused.status, 2, orders)
            XCTAssertTrue(refused.stderr.contains("--orders expects"), orders + ": " + refused.stderr)
        }
    }
}
