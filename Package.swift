// swift-tools-version:5.9
import PackageDescription

// One module per concern; dependencies point one way:
//   SeededRandom, Files <- Grammar ------------------------\
//   Kernels <- Model (<- SeededRandom, Files) <- Tokenizer -- Runner <- cfg-run (executable: parses arguments and prints)
//   Files (reading with reasons, atomic writes, locks, output paths) <- Grammar, Model, Runner, cfg-run
// Grammar and the numeric kernels know nothing of each other.
#if arch(x86_64)
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
#else
let kernelFlags: [SwiftSetting] = []
#endif

let package = Package(
    name: "cfg-run",
    // WorkerPool uses the Synchronization module's atomics (macOS 15 and later; any Linux with Swift 6).
    platforms: [.macOS("15.0")],
    products: [
        .executable(name: "cfg-run", targets: ["cfg-run"]),
        .library(name: "Grammar", targets: ["Grammar"]),
    ],
    targets: [
        .target(name: "SeededRandom"),
        // Durable files: atomic replacement, advisory locks, output paths that cannot clobber devices, plain reasons.
        .target(name: "Files"),
        .target(name: "Grammar", dependencies: ["SeededRandom", "Files"]),
        // Numeric kernels (worker pool, GEMM), in portable Swift SIMD types. On x86-64, -march=x86-64-v3 (AVX2+FMA,
        // any x86-64 CPU since ~2013/2015) lets the SIMD `addingProduct` become vfmadd231ps instead of a per-lane fmaf
        // call (see Sources/Kernels/MatrixMultiply.swift); elsewhere (Apple silicon: NEON has fused multiply-add) the
        // compiler's defaults serve. The manifest is compiled for the building machine, so `arch` is its own.
        .target(name: "Kernels", swiftSettings: kernelFlags),
        // The GPT: forward/backward by hand over flat arenas, optimizer, sampling, checkpoints. Uses the kernels.
        .target(name: "Model", dependencies: ["Kernels", "SeededRandom", "Files"]),
        // Vocabulary designs, one type each (Sources/Tokenizer/Designs): encodings of sentences into model tokens and
        // targets, and the input layer and heads each picks from the model's components.
        .target(name: "Tokenizer", dependencies: ["Model"]),
        // The runner: training sweeps over sizes x vocabulary designs x seeds, evaluation, CSV, claims.
        .target(name: "Runner", dependencies: ["Grammar", "Tokenizer", "Model", "Kernels", "SeededRandom", "Files"]),
        .executableTarget(name: "cfg-run", dependencies: ["Grammar", "Runner", "Model", "Tokenizer", "Kernels", "Files"]),
        // libFuzzer target for the .cfg reader and the checker; see tools/fuzz/README.md.
        // Built normally it replays a corpus; with -DFUZZING and -sanitize=fuzzer it is the fuzz entry point.
        .executableTarget(name: "cfg-fuzz", dependencies: ["Grammar"]),
        .testTarget(name: "SeededRandomTests", dependencies: ["SeededRandom"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Kernels", "SeededRandom"], exclude: ["Fixtures"]),
        .testTarget(name: "GrammarTests", dependencies: ["Grammar", "SeededRandom", "Files"], exclude: ["FuzzRegressions"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "Model"]),
        .testTarget(name: "RunnerTests", dependencies: ["Runner", "Grammar", "Tokenizer", "Model", "Kernels", "SeededRandom", "Files"]),
        .testTarget(name: "FilesTests", dependencies: ["Files"]),
        .testTarget(name: "CLITests", dependencies: ["cfg-run"]),
    ]
)
