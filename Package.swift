// swift-tools-version:5.9
import PackageDescription

// One module per concern; dependencies point one way:
//   SeededRandom  <-  Grammar  <-  cfg-run (executable: parses arguments and prints)
// The tokenizer, numeric-kernel, model and runner modules of later issues slot in beside Grammar.
let package = Package(
    name: "cfg-run",
    products: [
        .executable(name: "cfg-run", targets: ["cfg-run"]),
        .library(name: "Grammar", targets: ["Grammar"]),
    ],
    targets: [
        .target(name: "SeededRandom"),
        .target(name: "Grammar", dependencies: ["SeededRandom"]),
        .executableTarget(name: "cfg-run", dependencies: ["Grammar"]),
        // libFuzzer target for the .cfg reader and the checker; see tools/fuzz/README.md.
        // Built normally it replays a corpus; with -DFUZZING and -sanitize=fuzzer it is the fuzz entry point.
        .executableTarget(name: "cfg-fuzz", dependencies: ["Grammar"]),
        .testTarget(name: "SeededRandomTests", dependencies: ["SeededRandom"]),
        .testTarget(name: "GrammarTests", dependencies: ["Grammar", "SeededRandom"], exclude: ["FuzzRegressions"]),
        .testTarget(name: "CLITests", dependencies: ["cfg-run"]),
    ]
)
