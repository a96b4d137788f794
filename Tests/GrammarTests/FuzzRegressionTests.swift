import Foundation
import Grammar
import XCTest

/// Replays the inputs under Tests/GrammarTests/FuzzRegressions (what `tools/fuzz/run.sh` found, and its seeds)
/// through the same invariant checks as the fuzz target.
final class FuzzRegressionTests: XCTestCase {
    func testFuzzRegressionInputsKeepTheEngineInvariants() throws {
        let folder = packageRoot.appendingPathComponent("Tests/GrammarTests/FuzzRegressions")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let bytes = try Array(Data(contentsOf: folder.appendingPathComponent(file)))
            XCTAssertEqual(EngineSelfCheck.run(bytes), [], file)
        }
    }

    func testBundledGrammarsKeepTheEngineInvariants() throws {
        for name in bundledGrammarNames {
            let bytes = try Array(Data(contentsOf: packageRoot.appendingPathComponent("grammars/\(name).cfg")))
            XCTAssertEqual(EngineSelfCheck.run(bytes), [], name)
        }
    }
}
