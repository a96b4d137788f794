import Foundation
import Model
import SeededRandom
import XCTest

final class ModelTests: XCTestCase {
    func batch(_ config: GPTConfig, windows: Int, seq: Int, seed: UInt64) -> (inputs: [Int32], targets: [Int32]) {
        var generator = SeededGenerator(seed: seed)
        // A learnable pattern: each target is the next token of a repeating sequence with noise-free structure.
        let inputs = (0..<(windows * seq)).map { _ in Int32(generator.nextInt(below: config.vocabulary)) }
        let targets = inputs.enumerated().map { Int32((Int($1) * 3 + $0 % 2) % config.classes) }
        return (inputs, targets)
    }

    func train(_ model: GPT, _ data: (inputs: [Int32], targets: [Int32]), steps: Int) -> [Float] {
        var losses: [Float] = []
        for _ in 0..<steps {
            model.zeroGradients()
            let loss = data.inputs.withUnsafeBufferPointer { i in
                data.targets.withUnsafeBufferPointer { t in model.forward(inputs: i.baseAddress!, targets: t.baseAddress!) }
            }
            model.backward()
            model.optimizerStep(learningRate: 3e-3)
            losses.append(loss)
        }
        return losses
    }

    func testTrainingLowersTheLoss() {
        let config = GPTConfig(vocabulary: 7, layers: 2, width: 32, heads: 2, maxSequence: 16, input: HierarchicalNGramEmbedding(order: 2))
        let model = GPT(config: config, batch: 4, seq: 16, threads: 2, seed: 1)
        let losses = train(model, batch(config, windows: 4, seq: 16, seed: 3), steps: 60)
        XCTAssertEqual(losses[0], log(7), accuracy: 0.1)
        XCTAssertLessThan(losses.last!, 0.2 * losses[0], "\(losses)")
    }

    /// The same seed gives bit-identical parameters after several steps with 1, 2 and 3 threads.
    func testResultsDoNotDependOnTheThreadCount() {
        for config in [
            GPTConfig(vocabulary: 6, layers: 2, width: 48, heads: 3, maxSequence: 80, input: HashedNGramEmbedding(order: 3, rows: 11, slices: 2)),
            GPTConfig(vocabulary: 6, classes: 20, layers: 1, width: 32, heads: 2, maxSequence: 80, positions: .rotary,
                      predictionDepth: 2),
        ] {
            var finals: [[Float]] = []
            for threads in [1, 2, 3] {
                let model = GPT(config: config, batch: 3, seq: 80, threads: threads, seed: 5)
                _ = train(model, batch(config, windows: 3, seq: 80, seed: 4), steps: 4)
                finals.append(Array(UnsafeBufferPointer(start: model.parameters, count: model.layout.count)))
            }
            XCTAssertEqual(finals[0], finals[1])
            XCTAssertEqual(finals[0], finals[2])
        }
    }

    /// The KV-cached decoder gives the same logits as the full forward pass, for every input variant.
    func testCachedDecodingMatchesTheFullForwardPass() {
        let inputs: [any InputLayer] = [TokenEmbedding(), NGramEmbedding(order: 3), HierarchicalNGramEmbedding(order: 3),
                                        HashedNGramEmbedding(order: 3, rows: 13, slices: 2)]
        for input in inputs {
            for positions in [GPTConfig.Positions.learned, .rotary] {
                let config = GPTConfig(vocabulary: 5, layers: 2, width: 32, heads: 4, maxSequence: 24, input: input,
                                       positions: positions)
                let model = GPT(config: config, batch: 1, seq: 24, threads: 1, seed: 9)
                var generator = SeededGenerator(seed: 1)
                for i in 0..<model.layout.count { model.parameters[i] += 0.05 * Float(generator.nextDouble() - 0.5) }
                let tokens = (0..<24).map { _ in Int32(generator.nextInt(below: 5)) }
                let targets = [Int32](repeating: 0, count: 24)
                tokens.withUnsafeBufferPointer { i in
                    targets.withUnsafeBufferPointer { t in _ = model.forward(inputs: i.baseAddress!, targets: t.baseAddress!) }
                }
                let full = Array(model.logits)
                let cached = Generator(model: model, batch: 2).cachedLogits(tokens)
                XCTAssertEqual(full.count, cached.count)
                let worst = zip(full, cached).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(worst, 1e-4, "\(input.specification) \(positions)")
            }
        }
    }

    /// Batched sampling splits its rows between the threads; every row's numbers are its own, so the tokens and the
    /// final logits are the same bits for 1, 2 and 3 threads, and each row's logits equal that row decoded alone.
    func testSamplingDoesNotDependOnTheThreadCountOrTheOtherRows() {
        let config = GPTConfig(vocabulary: 5, layers: 2, width: 64, heads: 2, maxSequence: 40, input: HierarchicalNGramEmbedding(order: 2))
        var results: [(tokens: [[Int32]], logits: [Float])] = []
        for threads in [1, 2, 3] {
            let model = GPT(config: config, batch: 1, seq: 40, threads: threads, seed: 7)
            var generator = SeededGenerator(seed: 11)
            for i in 0..<model.layout.count { model.parameters[i] += 0.2 * Float(generator.nextDouble() - 0.5) }
            let sampler = Generator(model: model, batch: 5)
            let prompts = (0..<5).map { [Int32($0)] }
            let out = sampler.generate(prompts: prompts, maxLength: 30, using: &generator, isEnd: { _ in false })
            results.append((out.map(\.tokens), sampler.latestLogits(rows: 5)))
            if threads == 2 {
                for r in 0..<5 {
                    let alone = Generator(model: model, batch: 1).cachedLogits(prompts[r] + out[r].tokens)
                    XCTAssertEqual(alone.suffix(config.classes).map(\.bitPattern),
                                   results[1].logits[(r * config.classes)..<((r + 1) * config.classes)].map(\.bitPattern), "row \(r)")
                }
            }
        }
        for i in 1..<3 {
            XCTAssertEqual(results[0].tokens, results[i].tokens)
            XCTAssertEqual(results[0].logits.map(\.bitPattern), results[i].logits.map(\.bitPattern))
        }
    }

    func testSamplingIsSeededAndStopsAtTheEndToken() {
        let config = GPTConfig(vocabulary: 4, layers: 1, width: 16, heads: 2, maxSequence: 32)
        let model = GPT(config: config, batch: 1, seq: 32, threads: 1, seed: 2)
        let sampler = Generator(model: model, batch: 8)
        var a = SeededGenerator(seed: 3), b = SeededGenerator(seed: 3)
        let prompts = [[Int32]](repeating: [0], count: 8)
        let first = sampler.generate(prompts: prompts, using: &a, isEnd: { $0 == 3 })
        let second = sampler.generate(prompts: prompts, using: &b, isEnd: { $0 == 3 })
        XCTAssertEqual(first.map(\.tokens), second.map(\.tokens))
        for row in first {
            XCTAssertEqual(row.ended, row.tokens.last == 3)
            XCTAssertFalse(row.tokens.dropLast().contains(3))
            XCTAssertLessThanOrEqual(row.tokens.count, 31)
        }
    }

    func testCheckpointRoundTripAndCorruption() throws {
        let config = GPTConfig(vocabulary: 5, layers: 1, width: 16, heads: 2, maxSequence: 8)
        let model = GPT(config: config, batch: 2, seq: 8, threads: 1, seed: 1)
        _ = train(model, batch(config, windows: 2, seq: 8, seed: 1), steps: 3)
        let path = NSTemporaryDirectory() + "cfg-run-checkpoint-\(getpid()).bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(model, rngState: (1, 2, 3, 4), metadata: ["run": "x"], to: path)
        let copy = GPT(config: config, batch: 2, seq: 8, threads: 1, seed: 99)
        let (rng, metadata) = try Checkpoint.load(into: copy, from: path)
        XCTAssertEqual([rng.0, rng.1, rng.2, rng.3], [1, 2, 3, 4])
        XCTAssertEqual(metadata, ["run": "x"])
        XCTAssertEqual(copy.step, 3)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: copy.parameters, count: copy.layout.count)),
                       Array(UnsafeBufferPointer(start: model.parameters, count: model.layout.count)))
        // Continuing from the checkpoint gives the same parameters as continuing the original.
        _ = train(model, batch(config, windows: 2, seq: 8, seed: 1), steps: 2)
        _ = train(copy, batch(config, windows: 2, seq: 8, seed: 1), steps: 2)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: copy.parameters, count: copy.layout.count)),
                       Array(UnsafeBufferPointer(start: model.parameters, count: model.layout.count)))
        // A flipped byte, a truncated file and another configuration are clear errors.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Checkpoint.load(into: copy, from: path)) { XCTAssertTrue("\($0)".contains("checksum")) }
        try bytes.prefix(100).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Checkpoint.load(into: copy, from: path))
        try Checkpoint.save(model, rngState: (1, 2, 3, 4), to: path)
        let other = GPT(config: GPTConfig(vocabulary: 5, layers: 2, width: 16, heads: 2, maxSequence: 8), batch: 1, seq: 8,
                        threads: 1, seed: 1)
        XCTAssertThrowsError(try Checkpoint.load(into: other, from: path)) {
            XCTAssertTrue("\($0)".contains("different model configuration"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp-\(getpid())"))
    }

    func testParameterCountsAndSchedule() {
        let config = GPTConfig(vocabulary: 5, layers: 2, width: 32, heads: 2, maxSequence: 16)
        let layout = ParameterLayout(config)
        // Per block 12 d^2 + 13 d; plus wte, wpe, ln_f, head.
        XCTAssertEqual(layout.count, 2 * (12 * 32 * 32 + 13 * 32) + 5 * 32 + 16 * 32 + 2 * 32 + 5 * 32)
        XCTAssertEqual(layout.nonEmbeddingCount, 2 * (12 * 32 * 32 + 13 * 32) + 2 * 32)
        let schedule = CosineSchedule(peak: 1, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(schedule.rate(at: 0), 0.1, accuracy: 1e-6)
        XCTAssertEqual(schedule.rate(at: 9), 1, accuracy: 1e-6)
        XCTAssertEqual(schedule.rate(at: 60), 0.55, accuracy: 1e-6)
        XCTAssertEqual(schedule.rate(at: 110), 0.1, accuracy: 1e-6)
    }

    /// The memory estimate is counted by the plans that size the allocations: it equals what a model and its sampler
    /// hold, for every kind of input layer and head.
    func testTheMemoryEstimateIsWhatTheArenasHold() {
        let configs = [
            GPTConfig(vocabulary: 5, layers: 2, width: 32, heads: 2, maxSequence: 24),
            GPTConfig(vocabulary: 5, layers: 1, width: 16, heads: 2, maxSequence: 24, input: NGramEmbedding(order: 3)),
            GPTConfig(vocabulary: 5, layers: 2, width: 32, heads: 4, maxSequence: 40, input: HierarchicalNGramEmbedding(order: 3),
                      positions: .rotary),
            GPTConfig(vocabulary: 6, classes: 40, layers: 2, width: 48, heads: 3, maxSequence: 30,
                      input: HashedNGramEmbedding(order: 3, rows: 11, slices: 2)),
            GPTConfig(vocabulary: 5, layers: 2, width: 32, heads: 2, maxSequence: 24, predictionDepth: 3),
        ]
        for config in configs {
            let model = GPT(config: config, batch: 3, seq: 20, threads: 1, seed: 1)
            let sampler = Generator(model: model, batch: 7)
            let held = 4 * model.layout.count + model.allocatedCount.floats + model.allocatedCount.ints
                + sampler.allocatedCount.floats + sampler.allocatedCount.ints
            XCTAssertEqual(config.estimatedBytes(batch: 3, seq: 20, samplingBatch: 7), Double(4 * held), "\(config.input.specification)")
        }
    }

    /// Checkpoints of earlier versions wrote the input layer as an enum case: `{"ngram":{"n":3}}`. They read back to
    /// the same layers, and a configuration is written in that form (JSON objects have no key order).
    func testConfigurationsOfEarlierCheckpointsReadBack() throws {
        let cases: [(String, any InputLayer)] = [
            (#"{"token":{}}"#, TokenEmbedding()), (#"{"ngram":{"n":3}}"#, NGramEmbedding(order: 3)),
            (#"{"hierarchical":{"n":4}}"#, HierarchicalNGramEmbedding(order: 4)),
            (#"{"hashed":{"n":3,"rows":97,"slices":2}}"#, HashedNGramEmbedding(order: 3, rows: 97, slices: 2)),
        ]
        for (input, layer) in cases {
            let json = #"{"vocabulary":5,"classes":5,"layers":2,"width":16,"heads":2,"maxSequence":64,"input":"# + input
                + #","positions":"learned","predictionDepth":1,"predictionWeights":[1]}"#
            let config = try JSONDecoder().decode(GPTConfig.self, from: Data(json.utf8))
            XCTAssertEqual(config.input.specification, layer.specification)
            let written = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
            XCTAssertTrue(written.contains(#""input":"# + input) || input.contains(","), written)
            XCTAssertEqual(try JSONDecoder().decode(GPTConfig.self, from: Data(written.utf8)), config)
        }
        let unknown = #"{"vocabulary":5,"classes":5,"layers":2,"width":16,"heads":2,"maxSequence":64,"input":{"nope":{}},"positions":"learned","predictionDepth":1,"predictionWeights":[1]}"#
        XCTAssertThrowsError(try JSONDecoder().decode(GPTConfig.self, from: Data(unknown.utf8))) {
            XCTAssertTrue("\($0)".contains("unknown input layer 'nope'"), "\($0)")
        }
    }
}
