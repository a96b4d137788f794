// Fuzz target for the .cfg reader and the chart parser (see tools/fuzz/README.md).
//
// Built with `-DFUZZING -sanitize=fuzzer` (tools/fuzz/run.sh) this is a libFuzzer entry point; a violated
// invariant traps, so libFuzzer saves the input. Built normally it replays inputs: `cfg-fuzz FILE...` prints the
// violations for each file and exits 1 if there are any.
import Grammar

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let violations = EngineSelfCheck.run(Array(UnsafeBufferPointer(start: data, count: size)))
    if !violations.isEmpty {
        fatalError("engine invariant violated:\n" + violations.joined(separator: "\n"))
    }
    return 0
}

// SwiftPM links an executable's entry point under the name `<target>_main`; here it hands over to libFuzzer's
// driver (libFuzzer's own `main` is then not linked).
@_cdecl("cfg_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32
#else
import Foundation

@main
enum Replay {
    static func main() {
        var failed = false
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): cannot read")
                failed = true
                continue
            }
            let violations = EngineSelfCheck.run(Array(data))
            print("\(path): \(violations.isEmpty ? "ok" : violations.joined(separator: "\n  "))")
            failed = failed || !violations.isEmpty
        }
        exit(failed ? 1 : 0)
    }
}
#endif
