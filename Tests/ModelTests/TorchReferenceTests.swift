import Foundation
import Model
import XCTest

/// The Swift GPT against PyTorch (tools/torch_reference.py; fixtures in Tests/ModelTests/Fixtures, format in their
/// README): the same weights must give the same logits, loss, every parameter gradient, the losses of 10 AdamW
/// steps with clipping, and the weights after them.
///
/// Tolerances (the reference is computed in float64 and stored as float32; Swift runs in float32 with another
/// summation order). Measured worst cases over the eight fixtures, and the bounds used (about 10x above):
/// logits 2.3e-7 of the largest logit (bound 2e-6), loss and step losses 5e-7 relative (bound 5e-6), each gradient
/// tensor 6.3e-7 of its largest entry (bound 1e-5), weights after 10 steps 1.4e-5 absolute (bound 5e-5: Adam
/// divides by sqrt(v), which amplifies float32 noise in tiny gradients).
final class TorchReferenceTests: XCTestCase {
    struct Fixture {
        let config: GPTConfig
        let batch: Int
        let seq: Int
        let lr: Float
        let settings: AdamWSettings
        let loss: Double
        let stepLosses: [Double]
        let floats: [String: [Float]]
        let ints: [String: [Int32]]
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func load(_ name: String) throws -> Fixture {
        let data = try Data(contentsOf: TorchReferenceTests.folder.appendingPathComponent(name + ".cfgt"))
        let bytes = [UInt8](data)
        XCTAssertEqual(Array(bytes[0..<4]), Array("CFGT".utf8))
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        XCTAssertEqual(u32(4), 1)
        let headerLength = u32(8)
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 12..<(12 + headerLength))) as! [String: Any]
        let c = header["config"] as! [String: Any]
        func int(_ key: String) -> Int { (c[key] as! NSNumber).intValue }
        let input: any InputLayer
        switch c["input"] as! String {
        case "token": input = TokenEmbedding()
        case "ngram": input = NGramEmbedding(order: int("n"))
        case "hierarchical": input = HierarchicalNGramEmbedding(order: int("n"))
        default: input = HashedNGramEmbedding(order: int("n"), rows: int("hash_rows"), slices: int("hash_slices"))
        }
        let config = GPTConfig(vocabulary: int("vocab"), classes: int("classes"), layers: int("layers"),
                               width: int("d_model"), heads: int("heads"), maxSequence: int("seq"), input: input,
                               positions: c["positions"] as! String == "rotary" ? .rotary : .learned,
                               predictionDepth: int("mtp_depth"),
                               predictionWeights: (c["mtp_weights"] as! [NSNumber]).map { $0.floatValue })
        var settings = AdamWSettings()
        let betas = c["betas"] as! [NSNumber]
        settings.beta1 = betas[0].floatValue
        settings.beta2 = betas[1].floatValue
        settings.epsilon = (c["eps"] as! NSNumber).floatValue
        settings.weightDecay = (c["weight_decay"] as! NSNumber).floatValue
        settings.gradientClip = (c["grad_clip"] as! NSNumber).floatValue
        var floats: [String: [Float]] = [:], ints: [String: [Int32]] = [:]
        let base = 12 + headerLength
        for tensor in header["tensors"] as! [[String: Any]] {
            let count = (tensor["shape"] as! [NSNumber]).reduce(1) { $0 * $1.intValue }
            let offset = base + (tensor["offset"] as! NSNumber).intValue
            let name = tensor["name"] as! String
            bytes.withUnsafeBytes { raw in
                if tensor["dtype"] as! String == "i32" {
                    ints[name] = (0..<count).map { raw.loadUnaligned(fromByteOffset: offset + 4 * $0, as: Int32.self) }
                } else {
                    floats[name] = (0..<count).map { raw.loadUnaligned(fromByteOffset: offset + 4 * $0, as: Float.self) }
                }
            }
        }
        return Fixture(config: config, batch: int("batch"), seq: int("seq"), lr: (c["lr"] as! NSNumber).floatValue,
                       settings: settings, loss: (header["loss"] as! NSNumber).doubleValue,
                       stepLosses: (header["step_losses"] as! [NSNumber]).map(\.doubleValue), floats: floats, ints: ints)
    }

    let verbose = ProcessInfo.processInfo.environment["TORCH_REFERENCE_VERBOSE"] != nil

    func maxAbs(_ xs: [Float]) -> Float { xs.map { abs($0) }.max() ?? 0 }

    func check(_ name: String) throws {
        let fixture = try load(name)
        let model = GPT(config: fixture.config, batch: fixture.batch, seq: fixture.seq, threads: 2, seed: 1)
        for tensor in model.layout.tensors {
            let values = try XCTUnwrap(fixture.floats[tensor.name], "\(name): missing \(tensor.name)")
            XCTAssertEqual(values.count, tensor.count, "\(name): \(tensor.name)")
            for i in 0..<tensor.count { model.parameters[tensor.offset + i] = values[i] }
        }
        let inputs = fixture.ints["inputs"]!, targets = fixture.ints["targets"]!
        func forward() -> Float {
            inputs.withUnsafeBufferPointer { i in
                targets.withUnsafeBufferPointer { t in model.forward(inputs: i.baseAddress!, targets: t.baseAddress!) }
            }
        }
        model.zeroGradients()
        let loss = forward()
        XCTAssertEqual(Double(loss), fixture.loss, accuracy: 5e-6 * max(1, abs(fixture.loss)), "\(name): loss")
        let logits = Array(model.logits), reference = fixture.floats["logits"]!
        let scale = max(1, maxAbs(reference))
        XCTAssertLessThan(zip(logits, reference).map { abs($0 - $1) }.max()!, 2e-6 * scale, "\(name): logits")
        if verbose { print("TORCH", name, "logits", zip(logits, reference).map { abs($0 - $1) }.max()! / scale, "loss", abs(Double(loss) - fixture.loss)) }
        model.backward()
        for tensor in model.layout.tensors {
            let reference = fixture.floats["grad." + tensor.name]!
            let gradient = Array(model.gradient(tensor.name))
            let worst = zip(gradient, reference).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-5 * maxAbs(reference) + 1e-12, "\(name): grad.\(tensor.name)")
            if verbose { print("TORCH", name, "grad", tensor.name, worst / max(1e-30, maxAbs(reference))) }
        }
        // Ten AdamW steps on the same batch.
        var losses: [Double] = [Double(loss)]
        for step in 0..<10 {
            if step > 0 {
                model.zeroGradients()
                losses.append(Double(forward()))
            }
            model.backward()
            model.optimizerStep(learningRate: fixture.lr, settings: fixture.settings)
        }
        if verbose { print("TORCH", name, "steps", zip(losses, fixture.stepLosses).map { abs($0 - $1) }.max()!) }
        for (i, (a, b)) in zip(losses, fixture.stepLosses).enumerated() {
            XCTAssertEqual(a, b, accuracy: 5e-6 * max(1, abs(b)), "\(name): loss before step \(i + 1)")
        }
        for tensor in model.layout.tensors {
            let reference = fixture.floats["final." + tensor.name]!
            let worst = zip(Array(model.parameter(tensor.name)), reference).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 5e-5, "\(name): final.\(tensor.name)")
            if verbose { print("TORCH", name, "final", tensor.name, worst) }
        }
    }

    func testToken() throws { try check("token") }
    func testExactTrigramInput() throws { try check("ngram3") }
    func testHierarchicalInput() throws { try check("hier3") }
    func testHierarchicalInputWidth64() throws { try check("hier3-d64") }
    func testHashedOverEncoding() throws { try check("hashed3") }
    func testJointNgramHead() throws { try check("joint") }
    func testMultiTokenPrediction() throws { try check("mtp3") }
    /// The `3gram-mtp` design's model (the paper's weight 0.1 on both extra heads).
    func testMultiTokenPredictionDesign() throws { try check("mtp3-design") }
    func testRotaryPositions() throws { try check("rotary") }
}
