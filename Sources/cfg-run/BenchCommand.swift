import Foundation
import Grammar
import Kernels
import Model
import Runner
import SeededRandom
import Tokenizer

let benchLayers = Options.integer("--layers", value: "L", help: "model: layers (default 4)", default: 4, range: 1...1000)
let benchWidth = Options.integer("--d", value: "D", help: "model: width (default 128)", default: 128, range: 1...100_000)
let benchHeads = Options.integer("--heads", value: "H", help: "model: attention heads (default 4)", default: 4, range: 1...1000)
let benchSequence = Options.integer("--seq", value: "T", help: "model: window length (default 256; 128 with --generate)", range: 2...100_000)
let benchInput = Option<VocabularyDesign>("--input", value: "DESIGN", help: "the input side (vocabulary and input layer) of a vocabulary design (default 3gram-hin)",
                                          default: try! VocabularyDesign(parsing: "3gram-hin")) { text throws(UsageError) in
    do { return try VocabularyDesign(parsing: text) } catch { throw UsageError("--input: \(error)") }
}
let benchOutput = Option<VocabularyDesign>("--output", value: "DESIGN", help: "the heads of a vocabulary design (default 1gram); designs: \(VocabularyDesign.spellings)",
                                           default: try! VocabularyDesign(parsing: "1gram")) { text throws(UsageError) in
    do { return try VocabularyDesign(parsing: text) } catch { throw UsageError("--output: \(error)") }
}
let benchGenerate = Option(flag: "--generate", help: "time KV-cached sampling (tokens/s over batch x seq) instead of training")
let benchGEMM = Option(flag: "--gemm", help: "time the matrix multiply on the shapes of bench/gemm.sh")
let benchGrammar = Options.text("--grammar", value: "G.cfg", help: "time sampling and exact parsing of a grammar on one core")
let benchStrings = Options.integer("--strings", help: "strings per parsing measurement (default 1000)", default: 1000, range: 1...Int.max)

let benchSpec = CommandSpec(
    name: "bench", summary: "measure training, sampling, matrix-multiply or grammar-engine speed",
    positionals: [],
    options: [benchLayers.spec, benchWidth.spec, benchHeads.spec,
              Options.batch.with(help: "model: windows per step, or sequences sampled at once with --generate (default 16; 64 with --generate)").spec,
              benchSequence.spec,
              Options.steps.with(help: "model: timed steps after 2 warm-up steps (default 10)").spec,
              Options.threads.with(help: "worker threads (default: all cores)").spec,
              benchInput.spec, benchOutput.spec, Options.terminals.spec, Options.positions.spec, Options.maxMemory.spec,
              benchGenerate.spec, benchGEMM.spec, benchGrammar.spec, benchStrings.spec, Options.repeats.spec,
              Options.seed.with(help: "seed of the sampled strings (default 1)").spec, Options.json.spec],
    details: """
    Model (default): trains a GPT on random tokens and prints tokens/s, ms per step and achieved GFLOP/s
    (6 x non-embedding parameters + attention + head, per token; medians over the steps); --json prints one object
    with tokens_per_s, ms_per_step and gflops. --generate times batched KV-cached sampling instead.
    Grammar (--grammar): single-threaded sampling throughput in terminals per second (at least 5 million terminals per repeat);
    membership plus inside probability (what 'cfg-run check' does per string), and the full next-symbol
    distribution after every prefix, in strings per second. Medians over the repeats, with min and max. A grammar
    whose expected string length is over \(Int(GrammarSampler.maximumExpectedLength)) terminals is refused, as by 'cfg-run sample'.
    """)

/// The options each kind of benchmark reads; any other given with it would be ignored, so it is refused.
private let benchOptions: [(kind: String, options: Set<String>)] = [
    ("--gemm", ["--gemm", "--threads", "--repeats", "--json"]),
    ("--grammar", ["--grammar", "--strings", "--repeats", "--seed", "--json"]),
    ("a model (the default)", ["--layers", "--d", "--heads", "--batch", "--seq", "--steps", "--threads", "--input", "--output",
                               "--terminals", "--positions", "--max-memory", "--generate", "--json"]),
]

func runBench(_ arguments: ParsedArguments) throws -> Int32 {
    let kind = arguments.flag(benchGEMM) ? 0 : arguments.given(benchGrammar) ? 1 : 2
    if let stray = arguments.givenNames.subtracting(benchOptions[kind].options).sorted().first {
        throw UsageError("\(stray) does not apply to the benchmark of \(benchOptions[kind].kind)\(kind == 2 ? "" : " (given by \(benchOptions[kind].kind))"), so it would be ignored: leave it out, or run that benchmark separately")
    }
    if kind == 0 { return try runGEMMBench(arguments) }
    guard let path = try arguments.optional(benchGrammar) else { return try runModelBench(arguments) }
    let strings = try arguments.value(benchStrings)
    let repeats = try arguments.value(Options.repeats)
    let seed = try arguments.value(Options.seed)
    let grammar = try loadGrammar(path)
    do { try GrammarSampler.checkExpectedLength(of: grammar) } catch { throw UsageError(error.description) }
    let sampler = GrammarSampler(grammar: grammar)
    let parser = try ChartParser(grammar: grammar)

    func measure(_ body: () throws -> Double) rethrows -> [Double] {
        try (0..<repeats).map { _ in try body() }
    }

    // Sampling: terminals per second.
    let sampling = measure { () -> Double in
        var generator = SeededGenerator(seed: seed)
        var out: [Int32] = []
        var stack: [Int32] = []
        out.reserveCapacity(1 << 16)
        var terminals = 0
        let start = DispatchTime.now().uptimeNanoseconds
        while terminals < 5_000_000 {
            out.removeAll(keepingCapacity: true)
            sampler.sample(into: &out, stack: &stack, using: &generator)
            terminals += out.count
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(terminals) / seconds
    }

    // The parsing corpus, drawn one string at a time (the strings of `sample(count:)`) so that a string too long
    // for exact parsing stops the benchmark before the corpus fills memory.
    var generator = SeededGenerator(seed: seed)
    var corpus: [[Int]] = []
    for _ in 0..<strings {
        let string = sampler.sample(using: &generator)
        if string.count > parser.maximumLength {
            throw UsageError("\(path): a sampled string of \(string.count) terminals is longer than exact parsing allows for this grammar (\(parser.maximumLength)); bench --grammar needs a grammar with shorter strings")
        }
        corpus.append(string)
    }
    let meanLength = Double(corpus.reduce(0) { $0 + $1.count }) / Double(strings)
    let checking = try measure { () -> Double in
        let start = DispatchTime.now().uptimeNanoseconds
        for string in corpus {
            guard try parser.accepts(string) else { throw UsageError("internal error: a sampled string was rejected") }
        }
        return Double(strings) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let nextSymbols = try measure { () -> Double in
        let start = DispatchTime.now().uptimeNanoseconds
        for string in corpus { _ = try parser.analyze(string, nextSymbols: true) }
        return Double(strings) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    if arguments.flag(Options.json) {
        func stats(_ values: [Double]) -> String {
            "{\"median\": \(median(values)), \"min\": \(values.min()!), \"max\": \(values.max()!)}"
        }
        print("{\"grammar\": \(jsonString(path)), \"threads\": 1, \"repeats\": \(repeats), \"strings\": \(strings), \"mean_length\": \(meanLength), \"sample_terminals_per_s\": \(stats(sampling)), \"check_strings_per_s\": \(stats(checking)), \"next_symbol_strings_per_s\": \(stats(nextSymbols))}")
        return 0
    }
    func row(_ label: String, _ values: [Double], _ unit: String) -> String {
        label.padding(toLength: 34, withPad: " ", startingAt: 0)
            + String(format: "%14.0f %@   (min %.0f, max %.0f)", median(values), unit, values.min()!, values.max()!)
    }
    print("grammar \(path): \(strings) strings of mean length \(String(format: "%.1f", meanLength)), median of \(repeats) repeats, 1 thread")
    print(row("sample", sampling, "terminals/s"))
    print(row("check (membership + inside)", checking, "strings/s"))
    print(row("next-symbol distributions", nextSymbols, "strings/s"))
    return 0
}

/// `text` as a JSON string literal, quotes and control characters escaped.
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            out += scalar.value < 0x20 ? String(format: "\\u%04x", scalar.value) : String(scalar)
        }
    }
    return out + "\""
}

/// The median of measurements (the mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

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

func runModelBench(_ arguments: ParsedArguments) throws -> Int32 {
    let generate = arguments.flag(benchGenerate)
    let batch = try arguments.optional(Options.batch) ?? (generate ? 64 : 16)
    let seq = try arguments.optional(benchSequence) ?? (generate ? 128 : 256)
    let steps = try arguments.optional(Options.steps) ?? 10
    let threads = try arguments.value(Options.threads)
    let config = try benchModelConfig(arguments, batch: generate ? 1 : batch, seq: seq)
    let model = GPT(config: config, batch: generate ? 1 : batch, seq: generate ? 2 : seq, threads: threads, seed: 1)
    var generator = SeededGenerator(seed: 7)
    let label = "L\(config.layers)-d\(config.width)-h\(config.heads) input \(try arguments.value(benchInput)) output \(try arguments.value(benchOutput)), \(model.layout.count) parameters (\(model.layout.nonEmbeddingCount) non-embedding), \(threads) thread\(threads == 1 ? "" : "s")"
    if generate {
        let sampler = Generator(model: model, batch: batch)
        let prompts = [[Int32]](repeating: [0], count: batch)
        var times: [Double] = []
        for step in 0..<(steps + 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = sampler.generate(prompts: prompts, maxLength: seq, using: &generator, isEnd: { _ in false })
            if step > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        let seconds = median(times)
        let tokens = Double(batch * (seq - 1))
        return printModelBench(arguments, label: label + ", sampling \(batch) sequences of \(seq) tokens with a KV cache",
                               tokensPerSecond: tokens / seconds, msPerStep: seconds * 1000,
                               gflops: tokens * config.samplingFLOPsPerToken(length: seq) / seconds / 1e9)
    }
    let inputs = (0..<(batch * seq)).map { _ in Int32(generator.nextInt(below: config.vocabulary)) }
    let targets = (0..<(batch * seq)).map { _ in Int32(generator.nextInt(below: config.classes)) }
    var times: [Double] = []
    for step in 0..<(steps + 2) {
        let start = DispatchTime.now().uptimeNanoseconds
        model.zeroGradients()
        inputs.withUnsafeBufferPointer { i in
            targets.withUnsafeBufferPointer { t in _ = model.forward(inputs: i.baseAddress!, targets: t.baseAddress!) }
        }
        model.backward()
        model.optimizerStep(learningRate: 1e-4)
        if step >= 2 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
    }
    let seconds = median(times)
    let tokens = Double(batch * seq)
    return printModelBench(arguments, label: label + ", training batch \(batch) x seq \(seq)",
                           tokensPerSecond: tokens / seconds, msPerStep: seconds * 1000,
                           gflops: tokens * config.trainingFLOPsPerToken(seq: seq) / seconds / 1e9)
}

func printModelBench(_ arguments: ParsedArguments, label: String, tokensPerSecond: Double, msPerStep: Double,
                     gflops: Double) -> Int32 {
    if arguments.flag(Options.json) {
        print(String(format: "{\"tokens_per_s\": %.1f, \"ms_per_step\": %.3f, \"gflops\": %.2f}", tokensPerSecond, msPerStep, gflops))
    } else {
        print(label)
        print(String(format: "%.0f tokens/s, %.2f ms per step, %.1f GFLOP/s (median)", tokensPerSecond, msPerStep, gflops))
    }
    return 0
}

func runGEMMBench(_ arguments: ParsedArguments) throws -> Int32 {
    let threads = try arguments.value(Options.threads)
    let repeats = try arguments.value(Options.repeats)
    let results = MatrixMultiplyBenchmark.run(shapes: MatrixMultiplyBenchmark.trainingShapes, threads: threads, repeats: repeats)
    for r in results {
        let layout = r.transposeA ? "A^T B" : r.transposeB ? "A B^T" : "A B"
        if arguments.flag(Options.json) {
            print(String(format: "{\"m\": %d, \"n\": %d, \"k\": %d, \"layout\": \"%@\", \"threads\": %d, \"gflops\": %.1f}",
                         r.m, r.n, r.k, layout, r.threads, r.gflopsMedian))
        } else {
            print(String(format: "%5d x %5d x %5d  %-6@ %d thread%@  %6.1f GFLOP/s (min %.1f, max %.1f)", r.m, r.n, r.k,
                         layout, r.threads, r.threads == 1 ? " " : "s", r.gflopsMedian, r.gflopsMin, r.gflopsMax))
        }
    }
    return 0
}
