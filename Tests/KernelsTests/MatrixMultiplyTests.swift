import Dispatch
import Kernels
import XCTest

/// Tests of `MatrixMultiply` and `WorkerPool` (public API only).
///
/// Tolerance against `MatrixMultiply.reference` (Double accumulation): for each element,
///   |C - Cref| <= 1e-5 · sqrt(k + 1) · (Σ_p |op(A)[i,p]|·|op(B)[p,j]| + |C₀[i,j]| if accumulating) + 1e-30.
/// A float32 dot product with sequential fused multiply-adds has a typical error of about 6e-8 · sqrt(k) times that
/// magnitude, so the bound has a wide margin while still catching any wrong or missing term.
final class MatrixMultiplyTests: XCTestCase {
    typealias Layout = (transposeA: Bool, transposeB: Bool)
    static let layouts: [Layout] = [(false, true), (false, false), (true, false), (true, true)]

    /// Deterministic values in [-1, 1).
    struct Values {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
    }

    /// The operands of one product with given leading dimensions; padding is NaN (A, B: must never be read) or a
    /// sentinel (C: must never be written).
    struct Problem {
        let m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool
        let lda: Int, ldb: Int, ldc: Int
        var a: [Float], b: [Float], c0: [Float]
        static let sentinel: Float = -12345.5

        init(m: Int, n: Int, k: Int, _ layout: Layout, padA: Int = 0, padB: Int = 0, padC: Int = 0, seed: UInt64 = 1) {
            self.m = m; self.n = n; self.k = k
            transposeA = layout.transposeA; transposeB = layout.transposeB
            let (aRows, aCols) = transposeA ? (k, m) : (m, k)
            let (bRows, bCols) = transposeB ? (n, k) : (k, n)
            lda = aCols + padA; ldb = bCols + padB; ldc = n + padC
            var values = Values(state: seed &* 0x9E37_79B9_7F4A_7C15 &+ 7)
            a = [Float](repeating: .nan, count: max(1, aRows * lda))
            b = [Float](repeating: .nan, count: max(1, bRows * ldb))
            c0 = [Float](repeating: Problem.sentinel, count: max(1, m * ldc))
            for r in 0..<aRows { for s in 0..<aCols { a[r * lda + s] = values.next() } }
            for r in 0..<bRows { for s in 0..<bCols { b[r * ldb + s] = values.next() } }
            for i in 0..<m { for j in 0..<n { c0[i * ldc + j] = values.next() } }
        }

        func run(accumulate: Bool, pool: WorkerPool?, reference: Bool = false) -> [Float] {
            var c = c0
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        if reference {
                            MatrixMultiply.reference(m: m, n: n, k: k, a: a.baseAddress!, lda: lda, transposeA: transposeA,
                                                     b: b.baseAddress!, ldb: ldb, transposeB: transposeB,
                                                     c: c.baseAddress!, ldc: ldc, accumulate: accumulate, pool: pool)
                        } else {
                            MatrixMultiply.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: lda, transposeA: transposeA,
                                                    b: b.baseAddress!, ldb: ldb, transposeB: transposeB,
                                                    c: c.baseAddress!, ldc: ldc, accumulate: accumulate, pool: pool)
                        }
                    }
                }
            }
            return c
        }

        /// Σ_p |op(A)[i,p] · op(B)[p,j]| (+ |C₀|).
        func magnitude(_ i: Int, _ j: Int, accumulate: Bool) -> Double {
            var sum = accumulate ? Double(abs(c0[i * ldc + j])) : 0
            for p in 0..<k {
                let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                sum += Double(abs(x)) * Double(abs(y))
            }
            return sum
        }

        func check(accumulate: Bool, pool: WorkerPool?, file: StaticString = #filePath, line: UInt = #line) {
            let got = run(accumulate: accumulate, pool: pool)
            let want = run(accumulate: accumulate, pool: nil, reference: true)
            let label = "\(m)x\(n)x\(k) tA=\(transposeA) tB=\(transposeB) acc=\(accumulate) ld=\(lda),\(ldb),\(ldc)"
            var failures = 0
            for i in 0..<m {
                for j in 0..<ldc {
                    let index = i * ldc + j
                    if j >= n {
                        if got[index] != Problem.sentinel {
                            XCTFail("\(label): wrote padding C[\(i),\(j)]", file: file, line: line)
                            return
                        }
                        continue
                    }
                    let error = abs(Double(got[index]) - Double(want[index]))
                    let scale = 1e-5 * (Double(k) + 1).squareRoot()
                    // |reference| <= magnitude, so the first test is a cheap sufficient condition.
                    if error <= scale * abs(Double(want[index])) { continue }
                    if !(error <= scale * magnitude(i, j, accumulate: accumulate) + 1e-30) {
                        failures += 1
                        if failures <= 3 {
                            XCTFail("\(label): C[\(i),\(j)] = \(got[index]), reference \(want[index])", file: file, line: line)
                        }
                    }
                }
            }
        }
    }

    func testAgainstReferenceAllLayouts() {
        let pool = WorkerPool(threads: 2)
        let shapes: [(Int, Int, Int)] = [
            (1, 1, 1), (1, 1, 7), (2, 3, 1), (7, 13, 29), (6, 16, 256), (5, 17, 257), (13, 1, 300),
            (1, 40, 9), (33, 65, 129), (64, 48, 520), (300, 520, 270),
            (3, 300, 20000),  // many k steps
            (20, 700, 1100),  // k steps of two slices (the packed op(B) budget), column groups with threads
            // The training shapes at reduced size (M×N×K): qkv, MLP up, MLP down, and their gradients.
            (128, 96, 32), (128, 256, 64), (128, 64, 256), (96, 32, 128), (256, 64, 128), (64, 256, 128),
        ]
        for (m, n, k) in shapes {
            for layout in MatrixMultiplyTests.layouts {
                let problem = Problem(m: m, n: n, k: k, layout, seed: UInt64(m * 1000 + n * 10 + k))
                for accumulate in [false, true] {
                    problem.check(accumulate: accumulate, pool: m * n > 1000 ? pool : nil)
                }
            }
        }
    }

    func testStridedOperands() {
        let pool = WorkerPool(threads: 3)
        for (m, n, k) in [(7, 13, 29), (37, 70, 600), (200, 33, 300)] {
            for layout in MatrixMultiplyTests.layouts {
                let problem = Problem(m: m, n: n, k: k, layout, padA: 3, padB: 5, padC: 7)
                problem.check(accumulate: false, pool: pool)
                problem.check(accumulate: true, pool: nil)
            }
        }
    }

    func testEmptyDimensions() {
        for layout in MatrixMultiplyTests.layouts {
            // k == 0: C = 0 (overwrite) or unchanged (accumulate); padding untouched.
            let problem = Problem(m: 5, n: 9, k: 0, layout, padC: 2)
            let zeroed = problem.run(accumulate: false, pool: nil)
            let kept = problem.run(accumulate: true, pool: nil)
            for i in 0..<5 {
                for j in 0..<11 {
                    XCTAssertEqual(zeroed[i * 11 + j], j < 9 ? 0 : Problem.sentinel)
                    XCTAssertEqual(kept[i * 11 + j], problem.c0[i * 11 + j])
                }
            }
            // k == 0 with a bias: C = bias (overwrite) or C + bias.
            let bias = (0..<9).map { Float($0) - 4.5 }
            for accumulate in [false, true] {
                var c = problem.c0
                MatrixMultiply.multiply(m: 5, n: 9, k: 0, a: problem.a, lda: problem.lda, transposeA: layout.transposeA,
                                        b: problem.b, ldb: problem.ldb, transposeB: layout.transposeB, c: &c, ldc: 11,
                                        accumulate: accumulate, bias: bias, pool: nil)
                for i in 0..<5 {
                    for j in 0..<11 {
                        let want = j >= 9 ? Problem.sentinel : (accumulate ? problem.c0[i * 11 + j] : 0) + bias[j]
                        XCTAssertEqual(c[i * 11 + j], want)
                    }
                }
            }
            // m == 0 or n == 0: nothing is touched.
            for (m, n) in [(0, 4), (4, 0)] {
                let empty = Problem(m: m, n: n, k: 3, layout)
                XCTAssertEqual(empty.run(accumulate: false, pool: nil), empty.c0)
            }
        }
    }

    /// Every element is computed by one thread in a fixed order: results do not depend on the pool. (Every shape here
    /// is above the size below which a product runs on the calling thread only, about 10^6 multiply-adds.)
    func testBitIdenticalAcrossThreadCounts() {
        let pools = [WorkerPool(threads: 1), WorkerPool(threads: 2), WorkerPool(threads: 3)]
        let shapes: [(Int, Int, Int)] = [
            (300, 520, 270), (384, 128, 700), (50, 4113, 20), (1000, 40, 64), (19, 23, 3001), (4, 300, 20000),
            (200, 1000, 1100),
        ]
        for (m, n, k) in shapes {
            for layout in MatrixMultiplyTests.layouts {
                let problem = Problem(m: m, n: n, k: k, layout, padC: 1, seed: 3)
                for accumulate in [false, true] {
                    let base = problem.run(accumulate: accumulate, pool: nil)
                    for pool in pools {
                        let other = problem.run(accumulate: accumulate, pool: pool)
                        XCTAssert(base.elementsEqual(other) { $0.bitPattern == $1.bitPattern },
                                  "\(m)x\(n)x\(k) \(layout) acc=\(accumulate): differs with \(pool.threadCount) threads")
                    }
                }
            }
        }
    }

    /// The numerical definition both products share: every element of C is one chain of fused multiply-adds in
    /// increasing p, from 0 or from C. `multiply` (any layout, any pool) and `multiplyUnpacked` (A row-major or
    /// transposed, read in place) must equal that chain bit for bit, and must not touch C's padding.
    func testBothProductsAreOneFusedMultiplyAddChainPerElement() {
        let pool = WorkerPool(threads: 2)
        let shapes: [(Int, Int, Int)] = [(1, 1, 1), (6, 16, 32), (7, 17, 5), (64, 48, 33), (13, 40, 300), (70, 16, 64),
                                         (200, 33, 100), (64, 384, 130), (3, 4200, 5),
                                         (32, 40, 70), (9, 16, 20),  // edges of 2 and 3 rows (the 3-row kernel)
                                         // 8-column panels (the 8-column kernels), whole and at the edges
                                         (1024, 8, 8), (30, 24, 64), (6, 8, 3), (4, 8, 9), (2, 8, 5), (8, 5, 300), (13, 40, 7)]
        for (m, n, k) in shapes {
            for layout in MatrixMultiplyTests.layouts {
                let problem = Problem(m: m, n: n, k: k, layout, padA: 2, padB: 3, padC: 1, seed: 11)
                for accumulate in [false, true] {
                    var chain = problem.c0
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum: Float = accumulate ? problem.c0[i * problem.ldc + j] : 0
                            for p in 0..<k {
                                let x = problem.transposeA ? problem.a[p * problem.lda + i] : problem.a[i * problem.lda + p]
                                let y = problem.transposeB ? problem.b[j * problem.ldb + p] : problem.b[p * problem.ldb + j]
                                sum = sum.addingProduct(x, y)
                            }
                            chain[i * problem.ldc + j] = sum
                        }
                    }
                    let label = "\(m)x\(n)x\(k) \(layout) acc=\(accumulate)"
                    func same(_ got: [Float]) -> Bool { got.elementsEqual(chain) { $0.bitPattern == $1.bitPattern } }
                    XCTAssert(same(problem.run(accumulate: accumulate, pool: pool)), "multiply \(label)")
                    // op(B) packed once, then multiplied (as sampling does with the weights).
                    var packed = [Float](repeating: .nan, count: MatrixMultiply.packedCount(k: k, n: n))
                    var prepacked = problem.c0
                    problem.b.withUnsafeBufferPointer { b in
                        MatrixMultiply.pack(k: k, n: n, b: b.baseAddress!, ldb: problem.ldb,
                                            transposeB: problem.transposeB, into: &packed)
                    }
                    problem.a.withUnsafeBufferPointer { a in
                        MatrixMultiply.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: problem.lda,
                                                transposeA: problem.transposeA, prepackedB: packed, c: &prepacked,
                                                ldc: problem.ldc, accumulate: accumulate, pool: pool)
                    }
                    XCTAssert(same(prepacked), "multiply(prepackedB:) \(label)")
                    // With a bias: the chain, then + bias[j] (the finished product plus the bias), added by the tiles.
                    let bias = (0..<n).map { Float($0 % 7) * 0.375 - 1.1 }
                    var biased = chain, gotBiased = problem.c0, gotPrepackedBiased = problem.c0
                    for i in 0..<m { for j in 0..<n { biased[i * problem.ldc + j] = chain[i * problem.ldc + j] + bias[j] } }
                    problem.a.withUnsafeBufferPointer { a in
                        problem.b.withUnsafeBufferPointer { b in
                            MatrixMultiply.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: problem.lda,
                                                    transposeA: problem.transposeA, b: b.baseAddress!, ldb: problem.ldb,
                                                    transposeB: problem.transposeB, c: &gotBiased, ldc: problem.ldc,
                                                    accumulate: accumulate, bias: bias, pool: pool)
                        }
                        MatrixMultiply.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: problem.lda,
                                                transposeA: problem.transposeA, prepackedB: packed, c: &gotPrepackedBiased,
                                                ldc: problem.ldc, accumulate: accumulate, bias: bias, pool: nil)
                    }
                    func sameBiased(_ got: [Float]) -> Bool { got.elementsEqual(biased) { $0.bitPattern == $1.bitPattern } }
                    XCTAssert(sameBiased(gotBiased), "multiply(bias:) \(label)")
                    XCTAssert(sameBiased(gotPrepackedBiased), "multiply(prepackedB:bias:) \(label)")
                    if !problem.transposeB {
                        var c = problem.c0
                        problem.a.withUnsafeBufferPointer { a in
                            problem.b.withUnsafeBufferPointer { b in
                                c.withUnsafeMutableBufferPointer { c in
                                    MatrixMultiply.multiplyUnpacked(
                                        m: m, n: n, k: k, a: a.baseAddress!,
                                        aRowStride: problem.transposeA ? 1 : problem.lda,
                                        aDepthStride: problem.transposeA ? problem.lda : 1,
                                        b: b.baseAddress!, ldb: problem.ldb, c: c.baseAddress!, ldc: problem.ldc,
                                        accumulate: accumulate)
                                }
                            }
                        }
                        XCTAssert(same(c), "multiplyUnpacked \(label)")
                    }
                }
            }
        }
    }

    /// The causal shortcuts of `multiplyUnpacked` skip only exact zero terms (or tiles the caller does not read):
    /// the elements they compute have the same bits as the full product.
    func testTriangularShortcutsKeepTheBits() {
        var values = Values(state: 77)
        for (m, n, k, offset) in [(64, 32, 64, 0), (64, 48, 128, 64), (13, 17, 40, 27), (70, 16, 70, 0)] {
            let b = (0..<(k * n)).map { _ in values.next() }
            func run(_ a: [Float], rowStride: Int, depthStride: Int, m: Int, k: Int, n: Int,
                     _ triangle: MatrixMultiply.Triangle, accumulate: Bool = false) -> [Float] {
                var c = [Float](repeating: 0.25, count: m * n)
                MatrixMultiply.multiplyUnpacked(m: m, n: n, k: k, a: a, aRowStride: rowStride, aDepthStride: depthStride,
                                                b: b, ldb: n, c: &c, ldc: n, accumulate: accumulate, triangle: triangle)
                return c
            }
            // Lower depth: A[i, p] = 0 for p > offset + i.
            var a = (0..<(m * k)).map { _ in values.next() }
            for i in 0..<m { for p in 0..<k where p > offset + i { a[i * k + p] = 0 } }
            XCTAssertEqual(run(a, rowStride: k, depthStride: 1, m: m, k: k, n: n, .lowerDepth(offset: offset)).map(\.bitPattern),
                           run(a, rowStride: k, depthStride: 1, m: m, k: k, n: n, .none).map(\.bitPattern), "lowerDepth")
            // Upper depth (square): A[i, p] = 0 for p < i, read transposed as attention does; with and without C.
            let s = min(m, k)
            var u = (0..<(s * s)).map { _ in values.next() }
            for i in 0..<s { for p in 0..<i { u[p * s + i] = 0 } }
            for accumulate in [false, true] {
                XCTAssertEqual(run(u, rowStride: 1, depthStride: s, m: s, k: s, n: n, .upperDepth, accumulate: accumulate).map(\.bitPattern),
                               run(u, rowStride: 1, depthStride: s, m: s, k: s, n: n, .none, accumulate: accumulate).map(\.bitPattern),
                               "upperDepth")
            }
            // Lower columns: only C[i, j] with j <= offset + i is compared.
            let full = run(a, rowStride: k, depthStride: 1, m: m, k: k, n: n, .none)
            let lower = run(a, rowStride: k, depthStride: 1, m: m, k: k, n: n, .lowerColumns(offset: offset))
            for i in 0..<m {
                for j in 0..<n where j <= offset + i {
                    XCTAssertEqual(lower[i * n + j].bitPattern, full[i * n + j].bitPattern, "lowerColumns C[\(i),\(j)]")
                }
            }
        }
    }

    /// Repeated calls give the same bits (no state leaks between calls through the scratch buffers).
    func testRepeatable() {
        let pool = WorkerPool(threads: 2)
        let big = Problem(m: 100, n: 300, k: 600, (false, true), seed: 9)
        let small = Problem(m: 3, n: 5, k: 2, (true, false), seed: 10)
        let first = big.run(accumulate: true, pool: pool)
        _ = small.run(accumulate: false, pool: pool)
        XCTAssertEqual(big.run(accumulate: true, pool: pool), first)
    }
}
