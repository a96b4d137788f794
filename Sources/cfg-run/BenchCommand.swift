import Foundation
import Grammar
import Kernels
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
    return try runGrammarBench(arguments, path: path)
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
