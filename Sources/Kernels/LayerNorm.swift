/// Layer normalisation over the last dimension: `out = (x - mean) / sqrt(var + eps) * weight + bias`.
public enum LayerNorm {
    public static let epsilon: Float = 1e-5

    /// Normalises `rows` rows of `columns` floats; keeps each row's mean and reciprocal standard deviation for the
    /// backward pass.
    public static func forward(output: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               reciprocalStd: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               rows: Int, columns c: Int, pool: WorkerPool?) {
        let chunk = 16
        parallel(pool, fixedChunks(rows, size: chunk)) { block in
            for r in (block * chunk)..<min(rows, (block + 1) * chunk) {
                let x = input + r * c
                var sum = SIMD8<Float>()
                var i = 0
                while i + 8 <= c { sum += load8(x + i); i += 8 }
                var s = sum.sum()
                while i < c { s += x[i]; i += 1 }
                let m = s / Float(c)
                var sq = SIMD8<Float>()
                let mv = SIMD8<Float>(repeating: m)
                i = 0
                while i + 8 <= c { let d = load8(x + i) - mv; sq.addProduct(d, d); i += 8 }
                var v = sq.sum()
                while i < c { let d = x[i] - m; v += d * d; i += 1 }
                let rs = 1 / (v / Float(c) + epsilon).squareRoot()
                mean[r] = m
                reciprocalStd[r] = rs
                let o = output + r * c
                let rsv = SIMD8<Float>(repeating: rs)
                i = 0
                while i + 8 <= c {
                    store8((load8(x + i) - mv) * rsv * load8(weight + i) + load8(bias + i), o + i)
                    i += 8
                }
                while i < c { o[i] = (x[i] - m) * rs * weight[i] + bias[i]; i += 1 }
            }
        }
    }

    /// Accumulates the gradients: `dInput += ...`, `dWeight += ...`, `dBias += ...`. The weight and bias gradients
    /// are reduced over fixed row chunks in a fixed order, so the result does not depend on the thread count.
    /// `scratch` must hold `2 * columns * ceil(rows / 64)` floats.
    public static func backward(dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
                                dBias: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, reciprocalStd: UnsafePointer<Float>,
                                rows: Int, columns c: Int, scratch: UnsafeMutablePointer<Float>, pool: WorkerPool?) {
        let chunk = 64
        let chunks = fixedChunks(rows, size: chunk)
        parallel(pool, chunks) { block in
            let pw = scratch + block * 2 * c
            let pb = pw + c
            pw.initialize(repeating: 0, count: 2 * c)
            // Per group of 8 rows: dnorm and dnorm * norm, turned transposed ([i][row]), so that the two row sums
            // — sequential over i, as a scalar loop would add them — run 8 rows at a time in SIMD lanes. The rows
            // are written as they are computed and transposed 8 x 8 at a time (a lane at a time cost as much as the
            // rest of the pass).
            let terms = GemmScratch.current.workBuffer(count: 32 * c)
            let dnormT = terms, productT = terms + 8 * c, dnormRows = terms + 16 * c, productRows = terms + 24 * c
            let vectorColumns = c / 8 * 8
            let end = min(rows, (block + 1) * chunk)
            var r0 = block * chunk
            while r0 < end {
                let group = min(8, end - r0)
                for j in 0..<group {
                    let r = r0 + j
                    let x = input + r * c, dout = dOutput + r * c
                    let m = mean[r], rs = reciprocalStd[r]
                    let mv = SIMD8<Float>(repeating: m), rsv = SIMD8<Float>(repeating: rs)
                    var i = 0
                    while i + 8 <= c {
                        let d = load8(dout + i)
                        let norm = (load8(x + i) - mv) * rsv
                        let dnorm = d * load8(weight + i)
                        let product = dnorm * norm
                        store8(load8(pb + i) + d, pb + i)
                        store8(load8(pw + i) + d * norm, pw + i)
                        store8(dnorm, dnormRows + j * c + i)
                        store8(product, productRows + j * c + i)
                        i += 8
                    }
                    while i < c {
                        let norm = (x[i] - m) * rs
                        let dnorm = dout[i] * weight[i]
                        pb[i] += dout[i]
                        pw[i] += dout[i] * norm
                        dnormT[i * 8 + j] = dnorm
                        productT[i * 8 + j] = dnorm * norm
                        i += 1
                    }
                }
                // (Lanes past `group` hold whatever the buffers held; they are never read out.)
                var i = 0
                while i < vectorColumns {
                    transpose8x8(dnormRows + i, c, dnormT + i * 8, 8)
                    transpose8x8(productRows + i, c, productT + i * 8, 8)
                    i += 8
                }
                // dnorm = dout * weight; dx = rs * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))
                var sumD = SIMD8<Float>(), sumDN = SIMD8<Float>()
                for i in 0..<c {
                    sumD += load8(dnormT + i * 8)
                    sumDN += load8(productT + i * 8)
                }
                let meanD = sumD / Float(c), meanDN = sumDN / Float(c)
                for j in 0..<group {
                    let r = r0 + j
                    let x = input + r * c, dout = dOutput + r * c, dx = dInput + r * c
                    let m = mean[r], rs = reciprocalStd[r]
                    let md = meanD[j], mdn = meanDN[j]
                    let mv = SIMD8<Float>(repeating: m), rsv = SIMD8<Float>(repeating: rs)
                    let mdv = SIMD8<Float>(repeating: md), mdnv = SIMD8<Float>(repeating: mdn)
                    var i = 0
                    while i + 8 <= c {
                        let norm = (load8(x + i) - mv) * rsv
                        let update = rsv * (load8(dout + i) * load8(weight + i) - mdv - norm * mdnv)
                        store8(load8(dx + i) + update, dx + i)
                        i += 8
                    }
                    while i < c {
                        let norm = (x[i] - m) * rs
                        dx[i] += rs * (dout[i] * weight[i] - md - norm * mdn)
                        i += 1
                    }
                }
                r0 += group
            }
        }
        // Reduce the chunk partials in chunk order, parallel over columns.
        let columnChunk = 64
        parallel(pool, fixedChunks(c, size: columnChunk)) { block in
            for i in (block * columnChunk)..<min(c, (block + 1) * columnChunk) {
                var w: Float = 0, b: Float = 0
                for k in 0..<chunks {
                    w += scratch[k * 2 * c + i]
                    b += scratch[k * 2 * c + c + i]
                }
                dWeight[i] += w
                dBias[i] += b
            }
        }
    }

    /// Scratch floats that ``backward`` needs.
    public static func scratchCount(rows: Int, columns: Int) -> Int { 2 * columns * fixedChunks(rows, size: 64) }
}

/// Runs `body(0..<count)` on the pool, or inline without one.
@inline(__always)
func parallel(_ pool: WorkerPool?, _ count: Int, _ body: (Int) -> Void) {
    if let pool, count > 1 {
        pool.parallelFor(count, body)
    } else {
        for i in 0..<count { body(i) }
    }
}
