import Foundation
import Model
import Runner
import Tokenizer

/// The model of `bench --input X --output Y`: the input side of one design, the heads of another, set up and
/// checked by the library as a sweep's runs are.
func benchModelConfig(_ arguments: ParsedArguments, batch: Int, seq: Int) throws -> GPTConfig {
    let v = try arguments.value(Options.terminals)
    let input = try arguments.value(benchInput), output = try arguments.value(benchOutput)
    let size = ModelSize(name: "bench", layers: try arguments.value(benchLayers), width: try arguments.value(benchWidth),
                         heads: try arguments.value(benchHeads))
    let memoryLimit = try arguments.value(Options.maxMemory)
    let positions = try arguments.value(Options.positions)
    // A design that changes one side only has 1gram's other side: timing it there would mislabel a 1gram model.
    let oneGram = try VocabularyDesign(parsing: "1gram").definition
    if input.definition.inputLayer.specification == oneGram.inputLayer.specification, input.definition.inputVocabulary(alphabet: v) == oneGram.inputVocabulary(alphabet: v),
       input.description != "1gram" {
        throw UsageError("--input \(input): that design's input side is 1gram's (it changes the heads only); time its heads with --output \(input)")
    }
    if output.definition.classes(alphabet: v) == oneGram.classes(alphabet: v), output.definition.predictionWeights == oneGram.predictionWeights,
       output.description != "1gram" {
        throw UsageError("--output \(output): that design's output side is 1gram's (it changes the input only); time its input side with --input \(output)")
    }
    return try usage {
        try RunExecutor.modelConfig(input: input, output: output, size: size, alphabet: v, window: seq, batch: batch,
                                    positions: positions, memoryLimit: memoryLimit).get()
    }
}

/// `bench` (a model): training or sampling speed (ModelBenchmark), as two lines or one JSON object.
func runModelBench(_ arguments: ParsedArguments) throws -> Int32 {
    let generate = arguments.flag(benchGenerate)
    let batch = try arguments.optional(Options.batch) ?? (generate ? 64 : 16)
    let seq = try arguments.optional(benchSequence) ?? (generate ? 128 : 256)
    let steps = try arguments.optional(Options.steps) ?? 10
    let threads = try arguments.value(Options.threads)
    let config = try benchModelConfig(arguments, batch: generate ? 1 : batch, seq: seq)
    let layout = ParameterLayout(config)
    let label = "L\(config.layers)-d\(config.width)-h\(config.heads) input \(try arguments.value(benchInput)) output \(try arguments.value(benchOutput)), \(layout.count) parameters (\(layout.nonEmbeddingCount) non-embedding), \(threads) thread\(threads == 1 ? "" : "s")"
    if generate {
        let result = ModelBenchmark.sampling(config: config, sequences: batch, length: seq, steps: steps, threads: threads)
        return printModelBench(arguments, label: label + ", sampling \(batch) sequences of \(seq) tokens with a KV cache", result)
    }
    let result = ModelBenchmark.training(config: config, batch: batch, seq: seq, steps: steps, threads: threads)
    return printModelBench(arguments, label: label + ", training batch \(batch) x seq \(seq)", result)
}

func printModelBench(_ arguments: ParsedArguments, label: String, _ result: ModelBenchmark.Result) -> Int32 {
    let numbers: [CVarArg] = [result.tokensPerSecond, result.millisecondsPerStep, result.gflops]
    if arguments.flag(Options.json) {
        print(String(format: "{\"tokens_per_s\": %.1f, \"ms_per_step\": %.3f, \"gflops\": %.2f}", arguments: numbers))
    } else {
        print(label)
        print(String(format: "%.0f tokens/s, %.2f ms per step, %.1f GFLOP/s (median)", arguments: numbers))
    }
    return 0
}
