import Foundation
import Grammar
import Runner
import Tokenizer
import XCTest

/// The first round's findings of results/README.md that held robustly, as a regression test: a scaled-down sweep
/// (two sizes, two seeds, cfg3f's lowest three levels, 300 steps) checked with the same claims as `cfg-run assert`.
/// These are facts of early training (every model still learning local statistics), not the paper's claims at a
/// plateau; the second round's verdicts replace them here once its runs are in. A regression in the engine, the
/// tokenizers or the metrics that changes these facts turns the suite red.
final class FindingsTests: XCTestCase {
    func testEarlyTrainingInputNgramsHelpEverySizeAndOutputNgramsHelpMoreWithSize() throws {
        var settings = SweepSettings(grammarPath: grammarsFolder.appendingPathComponent("cfg3f-l3.cfg").path)
        settings.steps = 300
        settings.evalEvery = 300
        settings.validationSamples = 300
        settings.generationSamples = 0
        let data = try SweepData(settings: settings, grammar: GrammarReader.read(path: settings.grammarPath))
        let sweep = try Sweep(settings: settings, sizes: [try ModelSize(parsing: "tiny"), try ModelSize(parsing: "s")],
                              designs: try ["1gram", "3gram-in", "3gram-out"].map { try VocabularyDesign(parsing: $0) },
                              seeds: [1, 2])
        let directory = try sweepDirectory(settings, sweep.units, access: .sweep)
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let rows = try sweep.run(data: data, directory: directory, threads: 2, jobs: 2)
        let table = try ResultsTable(csv: SweepRows.csv(rows.all))
        for claim in [
            "3gram-in < 1gram on excess_per_char for all sizes for every seed by 0.02",
            "3gram-out - 1gram on excess_per_char decreases with size",
        ] {
            let (holds, lines) = try Claim(parsing: claim).check(table)
            XCTAssertTrue(holds, "\(claim)\n" + lines.joined(separator: "\n"))
        }
    }
}
