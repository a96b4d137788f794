#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Throughput of `MatrixMultiply.multiply` on given shapes (for `cfg-run bench --gemm` and bench/gemm.sh).
///
/// Method (the same as bench/gemm.py on the numpy side): operands filled with values in [-1, 1), one untimed
/// warm-up call, then `repeats` timed measurements; each measurement runs the product back to back until at
/// least `minimumSeconds` have passed and reports 2·m·n·k·calls / seconds. `accumulate` is false (numpy's
/// `matmul(out=)` overwrites too). The median, min and max over the repeats are reported.
public enum MatrixMultiplyBenchmark {
    public typealias Shape = (m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool)

    public struct Result: Sendable {
        public let m: Int, n: Int, k: Int
        public let transposeA: Bool, transposeB: Bool
        public let threads: Int
        /// GFLOP/s (2·m·n·k per product) over the repeats.
        public let gflopsMedian: Double, gflopsMin: Double, gflopsMax: Double
    }

    /// The training shapes (M×N×K, op(A), op(B)) for a model width of 128 (qkv, MLP up, MLP down), in the three
    /// layouts training uses: forward y = x·Wᵀ (false, true), input gradient dx = dy·W (false, false) and weight
    /// gradient dW = dyᵀ·x (true, false).
    public static let trainingShapes: [Shape] = [
        (4096, 384, 128, false, true), (4096, 1024, 256, false, true), (4096, 256, 1024, false, true),
        (4096, 128, 384, false, false), (4096, 256, 1024, false, false), (4096, 1024, 256, false, false),
        (384, 128, 4096, true, false), (1024, 256, 4096, true, false), (256, 1024, 4096, true, false),
    ]

    public static func run(shapes: [Shape], threads: Int, repeats: Int, minimumSeconds: Double = 0.05) -> [Result] {
        let pool = threads > 1 ? WorkerPool(threads: threads) : nil
        var results: [Result] = []
        for shape in shapes {
            let (m, n, k) = (shape.m, shape.n, shape.k)
            let aCount = m * k, bCount = k * n
            // Allocated as the model allocates its arenas (and as numpy allocates large arrays: on huge pages).
            let a = ArenaMemory.allocate(floats: aCount), b = ArenaMemory.allocate(floats: bCount)
            let c = ArenaMemory.allocate(floats: m * n)
            defer { ArenaMemory.deallocate(a); ArenaMemory.deallocate(b); ArenaMemory.deallocate(c) }
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            func next() -> Float {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
            }
            for i in 0..<aCount { a[i] = next() }
            for i in 0..<bCount { b[i] = next() }
            let lda = shape.transposeA ? m : k, ldb = shape.transposeB ? k : n
            func call() {
                MatrixMultiply.multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: shape.transposeA,
                                        b: b, ldb: ldb, transposeB: shape.transposeB, c: c, ldc: n,
                                        accumulate: false, pool: pool)
            }
            call()
            let flops = 2 * Double(m) * Double(n) * Double(k)
            var rates: [Double] = []
            for _ in 0..<max(1, repeats) {
                let start = seconds()
                var calls = 0
                var elapsed = 0.0
                repeat {
                    call()
                    calls += 1
                    elapsed = seconds() - start
                } while elapsed < minimumSeconds
                rates.append(flops * Double(calls) / elapsed / 1e9)
            }
            rates.sort()
            let median = rates.count % 2 == 1 ? rates[rates.count / 2]
                : (rates[rates.count / 2 - 1] + rates[rates.count / 2]) / 2
            results.append(Result(m: m, n: n, k: k, transposeA: shape.transposeA, transposeB: shape.transposeB,
                                  threads: threads, gflopsMedian: median, gflopsMin: rates.first!,
                                  gflopsMax: rates.last!))
        }
        return results
    }

    private static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
