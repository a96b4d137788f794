import Foundation
import Grammar
import Kernels
import Model
import Runner
import Tokenizer
import XCTest

/// Designs and input layers are open: this file alone adds a vocabulary design with an input layer of its own (a
/// skip-bigram: position t embeds the pair of the token there and the one `gap` positions back, beside the token
/// table), registers both, and trains them in a sweep, resumed from a checkpoint, with nothing in Sources edited.
struct SkipBigramEmbedding: InputLayer {
    static let name = "skip-bigram"
    let gap: Int

    var specification: InputLayerSpecification { InputLayerSpecification(SkipBigramEmbedding.name, [.init("gap", gap)]) }

    func problems(_ shape: InputShape) -> [String] { gap < 1 ? ["the gap must be at least 1"] : [] }

    func tables(_ shape: InputShape) -> [TableSize] {
        let pairs = Double(shape.vocabulary + 1) * Double(shape.vocabulary + 1)
        return [TableSize(name: "the skip-bigram table", rows: pairs, columns: Double(shape.width), advice: "")]
    }

    func tensors(_ shape: InputShape) -> [InputTensor] {
        [InputTensor(name: "wte", shape: [shape.vocabulary, shape.width], isEmbedding: true),
         InputTensor(name: "skip.\(gap)", shape: [(shape.vocabulary + 1) * (shape.vocabulary + 1), shape.width], isEmbedding: true)]
    }

    func workspace(rows: Int, _ shape: InputShape) -> InputWorkspace.Size { InputWorkspace.Size(ints: [rows]) }

    func forward(
        x: UnsafeMutablePointer<Float>, rows: Int, tokens: UnsafePointer<Int32>, sequences: TokenSequences,
        weights: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?) {
        let ids = workspace.ints[0], v = shape.vocabulary
        for r in 0..<rows {
            let t = sequences.position(ofRow: r)
            let back = t >= gap ? Int(sequences.token(ofRow: r, at: t - gap)) + 1 : 0
            ids[r] = Int32(back * (v + 1) + Int(sequences.token(ofRow: r, at: t)) + 1)
        }
        Embedding.gather(output: x, table: weights[0], ids: tokens, rows: rows, width: shape.width, accumulate: false, pool: pool)
        Embedding.gather(output: x, table: weights[1], ids: ids, rows: rows, width: shape.width, accumulate: true, pool: pool)
    }

    func backward(dx: UnsafePointer<Float>, rows: Int, tokens: UnsafePointer<Int32>, weights: [UnsafeMutablePointer<Float>],
                  gradients: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?) {
        Embedding.scatterAdd(dTable: gradients[0], dOutput: dx, ids: tokens, rows: rows, width: shape.width, pool: pool)
        Embedding.scatterAdd(dTable: gradients[1], dOutput: dx, ids: workspace.ints[0], rows: rows, width: shape.width, pool: pool)
    }
}

/// `Ngram-skip`: the characters, each position also embedding the pair (token N - 1 back, token): a 1gram head.
struct SkipBigramInput: CharacterLevelDesign {
    static let family = "skip"
    static let hasOrder = true
    let order: Int

    init(order: Int, settings: [(key: String, value: String)]) throws {
        guard settings.isEmpty else { throw VocabularyDesign.ParseError("Ngram-skip has no settings") }
        self.order = order
    }

    var inputLayer: any InputLayer { SkipBigramEmbedding(gap: order - 1) }
}

final class OpenDesignTests: XCTestCase {
    override func setUpWithError() throws {
        InputLayers.register(SkipBigramEmbedding.name) { SkipBigramEmbedding(gap: try InputLayers.setting($0, "gap")) }
        try VocabularyDesign.register(SkipBigramInput.self)
    }

    func testADesignWithItsOwnInputLayerTrainsInASweepAndResumes() throws {
        let design = try VocabularyDesign(parsing: "3gram-skip")
        XCTAssertEqual(design.description, "3gram-skip")
        XCTAssertTrue(VocabularyDesign.spellings.contains("Ngram-skip"))
        var settings = smallSettings()
        settings.evalEvery = 10
        let data = try SweepData(settings: settings, grammar: GrammarReader.read(path: settings.grammarPath))
        let sweep = try Sweep(settings: settings, sizes: [try ModelSize(parsing: "tiny")],
                              designs: try VocabularyDesign.list(parsing: "1gram,3gram-skip"), seeds: [1])
        let directory = try sweepDirectory(settings, sweep.units, access: .sweep)
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let rows = try sweep.run(data: data, directory: directory, threads: 1).all
        let skip = rows.filter { $0.variant == "3gram-skip" }
        XCTAssertEqual(skip.map(\.step), [10, 20, 30])
        XCTAssertTrue(skip.allSatisfy { $0.status == "ok" && $0.excess.isFinite })
        XCTAssertLessThan(skip.last!.trainLoss, skip.first!.trainLoss)
        // Its own table is in the model and counted as an embedding; the checkpoint names its layer and reads back
        // through the registry: a run stopped after step 10 resumes to the same rows.
        let (config, _) = try RunExecutor.modelConfig(sweep.units[1], alphabet: 3, window: data.window, batch: settings.batch,
                                                      positions: .learned, memoryLimit: .infinity).get()
        let layout = ParameterLayout(config)
        XCTAssertNotNil(layout["skip.2"])
        XCTAssertEqual(layout.nonEmbeddingCount, ParameterLayout(GPTConfig(vocabulary: config.vocabulary, classes: config.classes,
                                                                           layers: config.layers, width: config.width,
                                                                           heads: config.heads, maxSequence: config.maxSequence)).nonEmbeddingCount)
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        XCTAssertTrue(json.contains("{\"skip-bigram\":{\"gap\":2}}"), json)
        XCTAssertEqual(try JSONDecoder().decode(GPTConfig.self, from: Data(json.utf8)), config)
        let unit = sweep.units[1]
        let shard = directory.path + "/" + unit.id
        try FileManager.default.removeItem(atPath: shard + ".done")
        try FileManager.default.removeItem(atPath: shard + ".ckpt")
        let stopped = try RunExecutor(unit: unit, data: data, directory: directory, threads: 1).execute(stop: { $0 == 10 })
        XCTAssertEqual(stopped.map(\.step), [10])
        let resumed = try RunExecutor(unit: unit, data: data, directory: directory, threads: 1).execute()
        func withoutWall(_ rows: [ResultRow]) -> [String] { rows.map { row in var row = row; row.wallSeconds = 0; return row.csvLine } }
        XCTAssertEqual(withoutWall(resumed), withoutWall(skip))
    }
}
