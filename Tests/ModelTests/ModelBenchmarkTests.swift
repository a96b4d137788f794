import Model
import XCTest

final class ModelBenchmarkTests: XCTestCase {
    let config = GPTConfig(vocabulary: 7, layers: 1, width: 16, heads: 2, maxSequence: 16, input: HierarchicalNGramEmbedding(order: 2))

    func assertPositiveAndFinite(_ result: ModelBenchmark.Result, file: StaticString = #filePath, line: UInt = #line) {
        for value in [result.tokensPerSecond, result.millisecondsPerStep, result.gflops] {
            XCTAssertTrue(value > 0 && value.isFinite, "\(result)", file: file, line: line)
        }
    }

    /// Tiny sizes: training and sampling speeds are positive and finite, on one thread and on two.
    func testTrainingAndSamplingSpeedsArePositiveAndFinite() {
        for threads in [1, 2] {
            assertPositiveAndFinite(ModelBenchmark.training(config: config, batch: 2, seq: 8, steps: 2, threads: threads))
            assertPositiveAndFinite(ModelBenchmark.sampling(config: config, sequences: 3, length: 8, steps: 2, threads: threads))
        }
    }

    /// Milliseconds per step and tokens per second describe the same step time.
    func testTheNumbersAgree() {
        let result = ModelBenchmark.training(config: config, batch: 2, seq: 8, steps: 3, threads: 1)
        XCTAssertEqual(result.tokensPerSecond * result.millisecondsPerStep / 1000, 16, accuracy: 1e-6)
    }
}
