import Foundation
import Model
import SeededRandom
import XCTest

/// Finite-difference checks of the hand-written backward pass, for every input embedding and head variant.
///
/// For each parameter tensor, the analytic gradient's projection on a random direction u (supported on that
/// tensor) is compared with the central difference (L(p + eps u) - L(p - eps u)) / (2 eps) of the float32 loss.
/// With eps = 1e-2 and |u| = 1 the float32 rounding of the loss (~1e-7 relative) contributes ~1e-5 and the
/// truncation error O(eps^2); the tolerance is 3e-5 + 2% of the larger magnitude.
final class GradientCheckTests: XCTestCase {
    static let variants: [(String, GPTConfig)] = [
        ("token", GPTConfig(vocabulary: 5, layers: 2, width: 16, heads: 2, maxSequence: 8)),
        ("ngram3", GPTConfig(vocabulary: 5, layers: 2, width: 16, heads: 2, maxSequence: 8, input: NGramEmbedding(order: 3))),
        ("hier3", GPTConfig(vocabulary: 5, layers: 2, width: 16, heads: 2, maxSequence: 8, input: HierarchicalNGramEmbedding(order: 3))),
        ("hashed3", GPTConfig(vocabulary: 5, layers: 2, width: 16, heads: 2, maxSequence: 8,
                              input: HashedNGramEmbedding(order: 3, rows: 7, slices: 2))),
        ("joint", GPTConfig(vocabulary: 5, classes: 31, layers: 2, width: 16, heads: 2, maxSequence: 8)),
        ("mtp3", GPTConfig(vocabulary: 5, layers: 2, width: 16, heads: 2, maxSequence: 8, predictionDepth: 3,
                           predictionWeights: [1, 0.5, 0.25])),
        // The `3gram-mtp` design's model: the paper's weight 0.1 on both extra heads.
        ("mtp3-design", GPTConfig(vocabulary: 5, layers: 2, width: 16, heads: 2, maxSequence: 8, predictionDepth: 3,
                                  predictionWeights: [1, 0.1, 0.1])),
        ("rotary", GPTConfig(vocabulary: 5, layers: 2, width: 16, heads: 2, maxSequence: 8, positions: .rotary)),
    ]

    func testGradientsMatchFiniteDifferences() throws {
        for (name, config) in Self.variants {
            let model = GPT(config: config, batch: 2, seq: 8, threads: 1, seed: 1)
            var generator = SeededGenerator(seed: 2)
            // Move away from the near-trivial initialisation so that every path carries gradient.
            for i in 0..<model.layout.count { model.parameters[i] += 0.1 * Float(generator.nextDouble() * 2 - 1) }
            let inputs = (0..<16).map { _ in Int32(generator.nextInt(below: config.vocabulary)) }
            var targets = (0..<16).map { _ in Int32(generator.nextInt(below: config.classes)) }
            targets[3] = -1
            func loss() -> Float {
                inputs.withUnsafeBufferPointer { i in
                    targets.withUnsafeBufferPointer { t in model.forward(inputs: i.baseAddress!, targets: t.baseAddress!) }
                }
            }
            model.zeroGradients()
            _ = loss()
            model.backward()
            for tensor in model.layout.tensors {
                var direction = (0..<tensor.count).map { _ in Float(generator.nextDouble() * 2 - 1) }
                let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
                direction = direction.map { $0 / norm }
                var analytic: Float = 0
                for i in 0..<tensor.count { analytic += model.gradients[tensor.offset + i] * direction[i] }
                let eps: Float = 1e-2
                for i in 0..<tensor.count { model.parameters[tensor.offset + i] += eps * direction[i] }
                let plus = loss()
                for i in 0..<tensor.count { model.parameters[tensor.offset + i] -= 2 * eps * direction[i] }
                let minus = loss()
                for i in 0..<tensor.count { model.parameters[tensor.offset + i] += eps * direction[i] }
                let numeric = (plus - minus) / (2 * eps)
                let tolerance = 3e-5 + 0.02 * max(abs(analytic), abs(numeric))
                XCTAssertEqual(analytic, numeric, accuracy: tolerance, "\(name): \(tensor.name)")
                if ProcessInfo.processInfo.environment["GRADCHECK_VERBOSE"] != nil { print(name, tensor.name, analytic, numeric) }
            }
        }
    }
}
