import Foundation
import Kernels
import XCTest

/// The kernels other than the matrix multiply, each against a plain double-precision reference.
final class ElementwiseKernelTests: XCTestCase {
    var state: UInt64 = 0x1234_5678
    func random() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Double(state >> 11) / Double(1 << 53)) * 2 - 1
    }
    func randomArray(_ n: Int) -> [Float] { (0..<n).map { _ in random() } }

    func assertClose(_ a: [Float], _ b: [Double], tolerance: Double, _ message: String, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, line: line)
        var worst = 0.0
        for (x, y) in zip(a, b) { worst = max(worst, abs(Double(x) - y) / max(1, abs(y))) }
        XCTAssertLessThan(worst, tolerance, message, line: line)
    }

    let pools: [WorkerPool?] = [nil, WorkerPool(threads: 2), WorkerPool(threads: 3)]

    func testLayerNormForwardAndBackward() {
        // 37 rows: groups of 8 and a last group of 5; 20 columns: 8-column blocks and a tail of 4.
        for c in [48, 20] { checkLayerNorm(rows: 37, c: c) }
    }

    func checkLayerNorm(rows: Int, c: Int) {
        let x = randomArray(rows * c), w = randomArray(c), b = randomArray(c), dy = randomArray(rows * c)
        // Reference.
        var out = [Double](repeating: 0, count: rows * c), dx = out, dw = [Double](repeating: 0, count: c), db = dw
        for r in 0..<rows {
            let row = (0..<c).map { Double(x[r * c + $0]) }
            let m = row.reduce(0, +) / Double(c)
            let v = row.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(c)
            let rs = 1 / (v + 1e-5).squareRoot()
            let norm = row.map { ($0 - m) * rs }
            let dnorm = (0..<c).map { Double(dy[r * c + $0]) * Double(w[$0]) }
            let meanD = dnorm.reduce(0, +) / Double(c)
            let meanDN = zip(dnorm, norm).reduce(0) { $0 + $1.0 * $1.1 } / Double(c)
            for i in 0..<c {
                out[r * c + i] = norm[i] * Double(w[i]) + Double(b[i])
                dx[r * c + i] = rs * (dnorm[i] - meanD - norm[i] * meanDN)
                dw[i] += Double(dy[r * c + i]) * norm[i]
                db[i] += Double(dy[r * c + i])
            }
        }
        var results: [[Float]] = []
        for pool in pools {
            var o = [Float](repeating: 0, count: rows * c), mean = [Float](repeating: 0, count: rows), rstd = mean
            var gx = [Float](repeating: 0, count: rows * c), gw = [Float](repeating: 0, count: c), gb = gw
            var scratch = [Float](repeating: 0, count: LayerNorm.scratchCount(rows: rows, columns: c))
            LayerNorm.forward(output: &o, mean: &mean, reciprocalStd: &rstd, input: x, weight: w, bias: b, rows: rows,
                              columns: c, pool: pool)
            LayerNorm.backward(dInput: &gx, dWeight: &gw, dBias: &gb, dOutput: dy, input: x, weight: w, mean: mean,
                               reciprocalStd: rstd, rows: rows, columns: c, scratch: &scratch, pool: pool)
            assertClose(o, out, tolerance: 1e-5, "forward")
            assertClose(gx, dx, tolerance: 1e-4, "dx")
            assertClose(gw, dw, tolerance: 1e-4, "dw")
            assertClose(gb, db, tolerance: 1e-4, "db")
            results.append(o + gx + gw + gb)
        }
        XCTAssertEqual(results[0], results[1], "thread count changed the result")
        XCTAssertEqual(results[0], results[2], "thread count changed the result")
    }

    func testGELUMatchesTheTanhFormulaAndItsDerivative() {
        let n = 1000
        let x = randomArray(n).map { $0 * 5 }, dy = randomArray(n)
        var y = [Float](repeating: 0, count: n), dx = y, t = y, again = y, single = y, tSingle = y
        GELU.forward(output: &y, tanh: &t, input: x, count: n, pool: WorkerPool(threads: 2))
        GELU.forward(output: &single, tanh: &tSingle, input: x, count: n, pool: nil)
        GELU.fromTanh(output: &again, input: x, tanh: t, count: n, pool: WorkerPool(threads: 2))
        XCTAssertEqual(y.map(\.bitPattern), single.map(\.bitPattern), "thread count changed the output")
        XCTAssertEqual(y.map(\.bitPattern), again.map(\.bitPattern), "the output from the kept tanh differs")
        GELU.backward(dInput: &dx, input: x, tanh: t, dOutput: dy, count: n, pool: nil)
        func gelu(_ v: Double) -> Double { 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))) }
        assertClose(y, x.map { gelu(Double($0)) }, tolerance: 1e-6, "gelu")
        let numeric = zip(x, dy).map { (v, g) in (gelu(Double(v) + 1e-6) - gelu(Double(v) - 1e-6)) / 2e-6 * Double(g) }
        assertClose(dx, numeric, tolerance: 1e-5, "gelu'")
    }

    func testCrossEntropyAndItsGradient() {
        let rows = 20, classes = 41
        let z = randomArray(rows * classes).map { $0 * 4 }
        var targets = (0..<rows).map { Int32($0 * 7 % classes) }
        targets[5] = -1
        var losses = [Float](repeating: 0, count: rows), d = [Float](repeating: 0, count: rows * classes)
        CrossEntropy.forwardBackward(logits: z, targets: targets, rows: rows, classes: classes, losses: &losses,
                                     dLogits: &d, scale: 0.5, pool: WorkerPool(threads: 2))
        var refLoss = [Double](repeating: 0, count: rows), refD = [Double](repeating: 0, count: rows * classes)
        for r in 0..<rows where targets[r] >= 0 {
            let row = (0..<classes).map { Double(z[r * classes + $0]) }
            let m = row.max()!
            let lse = log(row.reduce(0) { $0 + exp($1 - m) }) + m
            refLoss[r] = lse - row[Int(targets[r])]
            for i in 0..<classes { refD[r * classes + i] = 0.5 * (exp(row[i] - lse) - (i == Int(targets[r]) ? 1 : 0)) }
        }
        assertClose(losses, refLoss, tolerance: 1e-5, "loss")
        assertClose(d, refD, tolerance: 1e-6, "dlogits")
    }

    func testEmbeddingGatherAndScatterAdd() {
        let rows = 50, width = 37, tableRows = 6
        let table = randomArray(tableRows * width), dy = randomArray(rows * width)
        let ids = (0..<rows).map { Int32($0 * 5 % tableRows) }
        var results: [[Float]] = []
        for pool in pools {
            var out = [Float](repeating: 1, count: rows * width)
            Embedding.gather(output: &out, table: table, ids: ids, rows: rows, width: width, scale: 2,
                             accumulate: true, pool: pool)
            var dTable = [Float](repeating: 0, count: tableRows * width)
            Embedding.scatterAdd(dTable: &dTable, dOutput: dy, ids: ids, rows: rows, width: width, scale: 0.5,
                                 pool: pool)
            var refOut = [Double](), refD = [Double](repeating: 0, count: tableRows * width)
            for r in 0..<rows {
                for i in 0..<width {
                    refOut.append(1 + 2 * Double(table[Int(ids[r]) * width + i]))
                    refD[Int(ids[r]) * width + i] += 0.5 * Double(dy[r * width + i])
                }
            }
            assertClose(out, refOut, tolerance: 1e-6, "gather")
            assertClose(dTable, refD, tolerance: 1e-5, "scatter")
            results.append(dTable)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }

    func testColumnSum() {
        let rows = 77, columns = 150
        let x = randomArray(rows * columns)
        var out = [Float](repeating: 1, count: columns)
        ColumnSum.accumulate(&out, input: x, rows: rows, columns: columns, pool: WorkerPool(threads: 2))
        let reference = (0..<columns).map { j in 1 + (0..<rows).reduce(0.0) { $0 + Double(x[$1 * columns + j]) } }
        assertClose(out, reference, tolerance: 1e-5, "column sums")
        // Every width, the narrow ones of small models included, sums each column from 0 over the rows in order and
        // then adds it to the output: the same bits as that plain loop in float.
        for columns in [1, 5, 8, 13, 16, 24, 32, 40, 64, 72, 200] {
            let x = randomArray(rows * columns)
            var out = randomArray(columns), plain = out
            ColumnSum.accumulate(&out, input: x, rows: rows, columns: columns, pool: nil)
            for j in 0..<columns {
                var sum: Float = 0
                for r in 0..<rows { sum += x[r * columns + j] }
                plain[j] += sum
            }
            XCTAssertEqual(out, plain, "\(columns) columns")
        }
    }

    /// Attention against a direct double-precision computation of softmax(q k^T / sqrt(hd) + mask) v and its
    /// gradient, with a sequence longer than one 64-row query block.
    func testCausalAttentionForwardAndBackward() {
        let batch = 2, seq = 70, d = 24, heads = 3, hd = d / heads
        let qkv = randomArray(batch * seq * 3 * d), dy = randomArray(batch * seq * d)
        var results: [[Float]] = []
        for pool in [nil, WorkerPool(threads: 2)] {
            var y = [Float](repeating: 0, count: batch * seq * d), lse = [Float](repeating: 0, count: batch * heads * seq)
            var dqkv = [Float](repeating: 0, count: qkv.count)
            Attention.forward(output: &y, logSumExp: &lse, qkv: qkv, batch: batch, seq: seq, width: d, heads: heads,
                              pool: pool)
            Attention.backward(dQKV: &dqkv, dOutput: dy, qkv: qkv, output: y, logSumExp: lse, batch: batch, seq: seq,
                               width: d, heads: heads, pool: pool)
            var refY = [Double](repeating: 0, count: y.count), refD = [Double](repeating: 0, count: qkv.count)
            let scale = 1 / Double(hd).squareRoot()
            func at(_ b: Int, _ t: Int, _ part: Int, _ h: Int, _ i: Int) -> Int { (b * seq + t) * 3 * d + part * d + h * hd + i }
            for b in 0..<batch {
                for h in 0..<heads {
                    for t in 0..<seq {
                        var s = (0...t).map { u in (0..<hd).reduce(0.0) { $0 + Double(qkv[at(b, t, 0, h, $1)]) * Double(qkv[at(b, u, 1, h, $1)]) } * scale }
                        let m = s.max()!
                        let z = s.reduce(0) { $0 + exp($1 - m) }
                        s = s.map { exp($0 - m) / z }
                        var dP = [Double](repeating: 0, count: t + 1)
                        for i in 0..<hd {
                            let g = Double(dy[(b * seq + t) * d + h * hd + i])
                            for u in 0...t {
                                refY[(b * seq + t) * d + h * hd + i] += s[u] * Double(qkv[at(b, u, 2, h, i)])
                                dP[u] += g * Double(qkv[at(b, u, 2, h, i)])
                                refD[at(b, u, 2, h, i)] += s[u] * g
                            }
                        }
                        let dot = zip(s, dP).reduce(0) { $0 + $1.0 * $1.1 }
                        for u in 0...t {
                            let dS = s[u] * (dP[u] - dot) * scale
                            for i in 0..<hd {
                                refD[at(b, t, 0, h, i)] += dS * Double(qkv[at(b, u, 1, h, i)])
                                refD[at(b, u, 1, h, i)] += dS * Double(qkv[at(b, t, 0, h, i)])
                            }
                        }
                    }
                }
            }
            assertClose(y, refY, tolerance: 1e-5, "attention output")
            assertClose(dqkv, refD, tolerance: 1e-4, "attention gradient")
            results.append(y + dqkv)
        }
        XCTAssertEqual(results[0], results[1], "thread count changed the result")
    }

    /// KV-cached decoding, one position at a time into its own cache: the same bits as the plain loop over
    /// positions (per head, a dot product with two SIMD8 lane accumulators summed left to right; softmax; y += p v
    /// one position at a time, as `axpy`), whatever the head width, cache capacity (full blocks of 8 or not) and
    /// split of the rows between caches; and close to a double-precision softmax(q k^T / sqrt(hd)) v.
    func testDecodingAttentionIsThePlainLoopBitForBit() {
        func dot(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
            let a = Array(a), b = Array(b), n = a.count
            var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), i = 0
            while i + 16 <= n {
                acc0.addProduct(SIMD8(a[i..<(i + 8)]), SIMD8(b[i..<(i + 8)]))
                acc1.addProduct(SIMD8(a[(i + 8)..<(i + 16)]), SIMD8(b[(i + 8)..<(i + 16)]))
                i += 16
            }
            if i + 8 <= n {
                acc0.addProduct(SIMD8(a[i..<(i + 8)]), SIMD8(b[i..<(i + 8)]))
                i += 8
            }
            var sum = (acc0 + acc1).sum()
            while i < n {
                sum += a[i] * b[i]
                i += 1
            }
            return sum
        }
        for (d, heads, capacity) in [(32, 4, 21), (48, 2, 24), (128, 4, 19), (64, 1, 21), (12, 2, 21), (40, 2, 9)] {
            let rows = 3, hd = d / heads
            // qkv of every position: [length][rows, 3d]; the last position's output is checked.
            let steps = (0..<capacity).map { _ in randomArray(rows * 3 * d).map { $0 * 3 } }
            // All rows in one cache, and rows 0..<1 and 1..<3 each in a cache of their own (as threads' shares).
            var outputs: [[Float]] = []
            for splits in [[0..<rows], [0..<1, 1..<rows]] {
                var y = [Float](repeating: .nan, count: rows * d)
                for range in splits {
                    let n = range.count, r0 = range.lowerBound
                    var keys = [Float](repeating: .nan, count: Attention.decodeCacheCount(rows: n, capacity: capacity, width: d))
                    var values = keys, out = [Float](repeating: .nan, count: n * d)
                    var scratch = [Float](repeating: .nan, count: n * heads * capacity)
                    for t in 0..<capacity {
                        Attention.decode(output: &out, qkv: Array(steps[t][(r0 * 3 * d)..<((r0 + n) * 3 * d)]), keys: &keys,
                                         values: &values, rows: n, position: t, capacity: capacity, width: d, heads: heads,
                                         scratch: &scratch)
                    }
                    y.replaceSubrange((r0 * d)..<((r0 + n) * d), with: out)
                }
                outputs.append(y)
            }
            XCTAssertEqual(outputs[0].map(\.bitPattern), outputs[1].map(\.bitPattern), "d=\(d): rows split between caches")
            // The plain loop, with the kernels' exp (SIMDMath) and normalisation.
            var plain = [Float](repeating: 0, count: rows * d), exact = [Double](repeating: 0, count: rows * d)
            let scale = 1 / Float(hd).squareRoot(), length = capacity, vectorEnd = hd / 8 * 8
            for r in 0..<rows {
                for head in 0..<heads {
                    func key(_ u: Int) -> ArraySlice<Float> { steps[u][(r * 3 * d + d + head * hd)...].prefix(hd) }
                    func value(_ u: Int, _ i: Int) -> Float { steps[u][r * 3 * d + 2 * d + head * hd + i] }
                    let q = steps[length - 1][(r * 3 * d + head * hd)...].prefix(hd)
                    var p = (0..<length).map { u in dot(q, key(u)) }
                    let maxValue = p.map { $0 * scale }.max()!
                    var total: Float = 0
                    p.withUnsafeMutableBufferPointer { total = SIMDMath.expInPlace($0.baseAddress!, count: length, scale: scale, shift: maxValue) }
                    p = p.map { $0 * (1 / total) }
                    var exactP = (0..<length).map { u in
                        zip(q, key(u)).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } * Double(scale)
                    }
                    let m = exactP.max()!
                    exactP = exactP.map { Foundation.exp($0 - m) }
                    let z = exactP.reduce(0, +)
                    for i in 0..<hd {
                        var acc: Float = 0
                        for u in 0..<length {
                            // axpy: fused in its 8-lane part, a product then a sum in its scalar tail.
                            if i < vectorEnd { acc = acc.addingProduct(p[u], value(u, i)) } else { acc += p[u] * value(u, i) }
                        }
                        plain[r * d + head * hd + i] = acc
                        exact[r * d + head * hd + i] = (0..<length).reduce(0.0) { $0 + exactP[$1] / z * Double(value($1, i)) }
                    }
                }
            }
            XCTAssertEqual(outputs[0].map(\.bitPattern), plain.map(\.bitPattern), "d=\(d) heads=\(heads): not the plain loop's bits")
            assertClose(outputs[0], exact, tolerance: 1e-5, "d=\(d) heads=\(heads)")
        }
    }

    /// Large arenas start on a 2 MiB boundary (huge pages), small ones on a 64-byte one; all of it is usable.
    func testArenaMemoryAlignmentAndUse() {
        for (count, alignment) in [(10, 64), (1 << 20, 1 << 21), (3 << 20, 1 << 21)] {
            let p = ArenaMemory.allocate(floats: count)
            XCTAssertEqual(Int(bitPattern: p) % alignment, 0, "\(count) floats")
            p.initialize(repeating: 1, count: count)
            p[count - 1] = 2
            XCTAssertEqual(p[0] + p[count - 1], 3)
            ArenaMemory.deallocate(p)
        }
    }

    func testRotaryIsARotationAndItsInverse() {
        let rows = 12, d = 16, heads = 2
        let original = randomArray(rows * 3 * d)
        var x = original
        Rotary.apply(&x, rows: rows, seq: 6, width: d, heads: heads, inverse: false, pool: nil)
        // Norms of each (i, i + half) pair are kept; values (third part) untouched; position 0 unrotated.
        for r in 0..<rows { for i in (2 * d)..<(3 * d) { XCTAssertEqual(x[r * 3 * d + i], original[r * 3 * d + i]) } }
        for i in 0..<(2 * d) { XCTAssertEqual(x[i], original[i], accuracy: 1e-6) }
        XCTAssertNotEqual(x[3 * d + 1], original[3 * d + 1])
        Rotary.apply(&x, rows: rows, seq: 6, width: d, heads: heads, inverse: true, pool: nil)
        assertClose(x, original.map(Double.init), tolerance: 1e-6, "inverse")
    }

    func testAdamWMatchesTheTextbookUpdate() {
        let n = 100
        var p = randomArray(n), m = [Float](repeating: 0, count: n), v = m
        let g = randomArray(n)
        var refP = p.map(Double.init)
        var refM = [Double](repeating: 0, count: n), refV = refM
        for step in 1...3 {
            AdamW.update(parameters: &p, gradients: g, firstMoment: &m, secondMoment: &v, count: n, learningRate: 0.01,
                         beta1: 0.9, beta2: 0.98, epsilon: 1e-8, weightDecay: 0.1, step: step, gradientScale: 0.5,
                         pool: nil)
            for i in 0..<n {
                let gi = 0.5 * Double(g[i])
                refP[i] *= 1 - 0.01 * 0.1
                refM[i] = 0.9 * refM[i] + 0.1 * gi
                refV[i] = 0.98 * refV[i] + 0.02 * gi * gi
                let mhat = refM[i] / (1 - pow(0.9, Double(step))), vhat = refV[i] / (1 - pow(0.98, Double(step)))
                refP[i] -= 0.01 * mhat / (vhat.squareRoot() + 1e-8)
            }
        }
        assertClose(p, refP, tolerance: 1e-6, "adamw")
        // Eight at a time, the same bits as the scalar update of each element (the operations in the same order).
        var q = randomArray(n), qm = randomArray(n).map { $0 * 0.1 }, qv = randomArray(n).map { $0 * $0 * 0.01 }
        var sp = q, sm = qm, sv = qv
        for step in 1...3 {
            AdamW.update(parameters: &q, gradients: g, firstMoment: &qm, secondMoment: &qv, count: n, learningRate: 0.01,
                         beta1: 0.9, beta2: 0.98, epsilon: 1e-8, weightDecay: 0.1, step: step, gradientScale: 0.5,
                         pool: nil)
            let c1 = 1 - powf(0.9, Float(step)), c2 = 1 - powf(0.98, Float(step))
            for i in 0..<n {
                let gi = g[i] * Float(0.5)
                let mi = Float(0.9) * sm[i] + (1 - Float(0.9)) * gi
                let vi = Float(0.98) * sv[i] + (1 - Float(0.98)) * gi * gi
                sm[i] = mi
                sv[i] = vi
                let mhat = mi / c1, vhat = vi / c2
                sp[i] -= Float(0.01) * (mhat / (vhat.squareRoot() + Float(1e-8)) + Float(0.1) * sp[i])
            }
        }
        for (got, want) in [(q, sp), (qm, sm), (qv, sv)] {
            XCTAssert(got.elementsEqual(want) { $0.bitPattern == $1.bitPattern }, "AdamW's vector and scalar updates differ")
        }
        var scratch = [Double](repeating: 0, count: 4)
        let sq = AdamW.sumOfSquares(g, count: n, scratch: &scratch, pool: nil)
        XCTAssertEqual(sq, g.reduce(0.0) { $0 + Double($1) * Double($1) }, accuracy: 1e-6)
    }

    /// The padded exp (a tail of 1-7 floats as one vector) gives the bits and the sum of the plain one.
    func testPaddedExpIsThePlainExpBitForBit() {
        for count in 0...41 {
            let values = randomArray(max(count, 1)).map { $0 * 9 }
            var plain = values, padded = values + [Float](repeating: .nan, count: 8)
            let scale: Float = 0.35, shift: Float = 1.25
            let a = plain.withUnsafeMutableBufferPointer {
                SIMDMath.expInPlace($0.baseAddress!, count: count, scale: scale, shift: shift)
            }
            let b = padded.withUnsafeMutableBufferPointer {
                SIMDMath.expInPlacePadded($0.baseAddress!, count: count, scale: scale, shift: shift)
            }
            XCTAssertEqual(a.bitPattern, b.bitPattern, "sum, count \(count)")
            XCTAssert(plain.prefix(count).elementsEqual(padded.prefix(count)) { $0.bitPattern == $1.bitPattern },
                      "values, count \(count)")
        }
    }
}
