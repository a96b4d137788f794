import Dispatch
import Kernels
import SeededRandom

/// Speed of a GPT (for `cfg-run bench`): training steps, or batched KV-cached sampling, on random tokens.
///
/// Method: a model of the given configuration (initialised from seed 1; tokens drawn from seed 7) runs warm-up
/// steps, untimed, then `steps` timed ones; the median step time gives tokens per second, milliseconds per step
/// and achieved GFLOP/s (``GPTConfig/trainingFLOPsPerToken(seq:)``, ``GPTConfig/samplingFLOPsPerToken(length:)``).
public enum ModelBenchmark {
    public struct Result: Sendable {
        public let tokensPerSecond: Double
        public let millisecondsPerStep: Double
        public let gflops: Double
    }

    /// Untimed steps before the timed ones: training's first steps allocate and touch memory for the first time.
    public static let trainingWarmUpSteps = 2
    public static let samplingWarmUpSteps = 1

    /// Training: a step is a forward pass, a backward pass and an AdamW step on `batch` windows of `seq` random
    /// tokens (random classes as targets), on `threads` threads.
    public static func training(config: GPTConfig, batch: Int, seq: Int, steps: Int, threads: Int) -> Result {
        precondition(steps > 0, "a benchmark needs at least one timed step")
        let model = GPT(config: config, batch: batch, seq: seq, threads: threads, seed: 1)
        var generator = SeededGenerator(seed: 7)
        let inputs = (0..<(batch * seq)).map { _ in Int32(generator.nextInt(below: config.vocabulary)) }
        let targets = (0..<(batch * seq)).map { _ in Int32(generator.nextInt(below: config.classes)) }
        var times: [Double] = []
        for step in 0..<(trainingWarmUpSteps + steps) {
            let start = DispatchTime.now().uptimeNanoseconds
            model.zeroGradients()
            inputs.withUnsafeBufferPointer { i in
                targets.withUnsafeBufferPointer { t in _ = model.forward(inputs: i.baseAddress!, targets: t.baseAddress!) }
            }
            model.backward()
            model.optimizerStep(learningRate: 1e-4)
            if step >= trainingWarmUpSteps { times.append(seconds(since: start)) }
        }
        return result(tokens: Double(batch * seq), seconds: median(times), flopsPerToken: config.trainingFLOPsPerToken(seq: seq))
    }

    /// Sampling: a step samples `sequences` sequences of `length` tokens from a one-token prompt with a key/value
    /// cache (``Generator``), on `threads` threads; `length` is at most the configuration's `maxSequence`.
    public static func sampling(config: GPTConfig, sequences: Int, length: Int, steps: Int, threads: Int) -> Result {
        precondition(steps > 0, "a benchmark needs at least one timed step")
        // The model's own activations are not used for sampling: the smallest that a model allows.
        let model = GPT(config: config, batch: 1, seq: 2, threads: threads, seed: 1)
        let sampler = Generator(model: model, batch: sequences)
        var generator = SeededGenerator(seed: 7)
        let prompts = [[Int32]](repeating: [0], count: sequences)
        var times: [Double] = []
        for step in 0..<(samplingWarmUpSteps + steps) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = sampler.generate(prompts: prompts, maxLength: length, using: &generator, isEnd: { _ in false })
            if step >= samplingWarmUpSteps { times.append(seconds(since: start)) }
        }
        return result(tokens: Double(sequences * (length - 1)), seconds: median(times),
                      flopsPerToken: config.samplingFLOPsPerToken(length: length))
    }

    private static func result(tokens: Double, seconds: Double, flopsPerToken: Double) -> Result {
        Result(tokensPerSecond: tokens / seconds, millisecondsPerStep: seconds * 1000,
               gflops: tokens * flopsPerToken / seconds / 1e9)
    }

    /// The median of measurements (the mean of the middle two for an even count).
    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    private static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
