import Foundation

/// Causal multi-head self-attention over a packed `qkv` buffer, forward and backward, fused per head.
///
/// `qkv` is `[batch, seq, 3 * width]` (queries, keys, values; head h owns features `h*hd ..< (h+1)*hd` of each),
/// the output `[batch, seq, width]`. Queries are processed in blocks of 64 rows against the keys up to the block's
/// end (so the masked upper triangle is mostly skipped); the attention probabilities live only in per-thread
/// working memory and are recomputed in the backward pass from the saved log-sum-exp of each row (no `seq x seq`
/// matrix is kept between passes). Work is split over (batch, head) pairs; each pair is computed by one thread in a
/// fixed order. The products inside run through `MatrixMultiply.multiplyUnpacked` on the head's keys (and values)
/// transposed once per pair, so nothing is packed per block; each element is still one chain of fused
/// multiply-adds in a fixed order.
public enum Attention {
    static let block = 64

    /// One (batch, head) pair's working memory, in the calling thread's scratch: score and score-gradient blocks
    /// (`block x paddedSeq`) and the head's keys and values transposed (`hd x paddedSeq`, zero past `seq`).
    struct Work {
        let paddedSeq: Int
        let scores, dScores, keysT, valuesT: UnsafeMutablePointer<Float>

        init(seq t: Int, headWidth hd: Int) {
            paddedSeq = (t + MatrixMultiply.nr - 1) / MatrixMultiply.nr * MatrixMultiply.nr
            scores = GemmScratch.current.workBuffer(count: 2 * (block + hd) * paddedSeq)
            dScores = scores + block * paddedSeq
            keysT = dScores + block * paddedSeq
            valuesT = keysT + hd * paddedSeq
        }

        /// dst[p * paddedSeq + s] = src[s * ld + p] for s < t, 0 for t <= s < paddedSeq.
        func transpose(_ src: UnsafePointer<Float>, ld: Int, seq t: Int, headWidth hd: Int,
                       into dst: UnsafeMutablePointer<Float>) {
            let blocked = t / 8 * 8
            var p = 0
            while p + 8 <= hd {
                var s = 0
                while s < blocked {
                    transpose8x8(src + s * ld + p, ld, dst + p * paddedSeq + s, paddedSeq)
                    s += 8
                }
                p += 8
            }
            for p in 0..<hd {
                let row = dst + p * paddedSeq
                for s in (p < hd / 8 * 8 ? blocked : 0)..<t { row[s] = src[s * ld + p] }
                for s in t..<paddedSeq { row[s] = 0 }
            }
        }

        /// Scores of a block of query rows (r0 = keys - rows) against the keys up to the block's end:
        /// scores[i, s] = q[r0 + i] . k[s] for s <= r0 + i; tiles wholly above the causal diagonal are skipped, so
        /// the rest of the row up to `keys` is set by the caller. (With the values' transpose: dY . V^T.)
        func multiplyScores(_ q: UnsafePointer<Float>, ld: Int, rows: Int, keys: Int, headWidth hd: Int,
                            into dst: UnsafeMutablePointer<Float>, transposed keysT: UnsafePointer<Float>) {
            let columns = min(paddedSeq, (keys + MatrixMultiply.nr - 1) / MatrixMultiply.nr * MatrixMultiply.nr)
            MatrixMultiply.multiplyUnpacked(m: rows, n: columns, k: hd, a: q, aRowStride: ld, aDepthStride: 1,
                                            b: keysT, ldb: paddedSeq, c: dst, ldc: paddedSeq, accumulate: false,
                                            triangle: .lowerColumns(offset: keys - rows))
        }
    }

    public static func forward(output: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, batch: Int, seq t: Int, width d: Int, heads h: Int,
                               pool: WorkerPool?) {
        let hd = d / h
        let scale = 1 / Float(hd).squareRoot()
        let ld = 3 * d
        parallel(pool, batch * h) { item in
            let b = item / h, head = item % h
            let q = qkv + b * t * ld + head * hd, k = q + d, v = q + 2 * d
            let y = output + b * t * d + head * hd
            let lse = logSumExp + item * t
            let work = Work(seq: t, headWidth: hd)
            let ldp = work.paddedSeq
            work.transpose(k, ld: ld, seq: t, headWidth: hd, into: work.keysT)
            var r0 = 0
            while r0 < t {
                let rows = min(block, t - r0), keys = r0 + rows
                work.multiplyScores(q + r0 * ld, ld: ld, rows: rows, keys: keys, headWidth: hd, into: work.scores,
                                    transposed: work.keysT)
                for i in 0..<rows {
                    let row = work.scores + i * ldp
                    let valid = r0 + i + 1
                    let maxValue = SIMDMath.maxScaled(row, count: valid, scale: scale)
                    let sum = SIMDMath.expInPlace(row, count: valid, scale: scale, shift: maxValue)
                    let inverse = 1 / sum
                    for s in 0..<valid { row[s] *= inverse }
                    for s in valid..<keys { row[s] = 0 }
                    lse[r0 + i] = maxValue + logf(sum)
                }
                MatrixMultiply.multiplyUnpacked(m: rows, n: hd, k: keys, a: work.scores, aRowStride: ldp,
                                                aDepthStride: 1, b: v, ldb: ld, c: y + r0 * d, ldc: d,
                                                accumulate: false, triangle: .lowerDepth(offset: r0))
                r0 += rows
            }
        }
    }

    /// Overwrites `dQKV` with the gradient of the loss with respect to `qkv`, given `dOutput` and the forward
    /// pass's `output` and `logSumExp`.
    public static func backward(dQKV: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                                qkv: UnsafePointer<Float>, output: UnsafePointer<Float>,
                                logSumExp: UnsafePointer<Float>, batch: Int, seq t: Int, width d: Int, heads h: Int,
                                pool: WorkerPool?) {
        let hd = d / h
        let scale = 1 / Float(hd).squareRoot()
        let ld = 3 * d
        parallel(pool, batch * h) { item in
            let b = item / h, head = item % h
            let q = qkv + b * t * ld + head * hd, k = q + d, v = q + 2 * d
            let dq = dQKV + b * t * ld + head * hd, dk = dq + d, dv = dq + 2 * d
            let y = output + b * t * d + head * hd, dy = dOutput + b * t * d + head * hd
            let lse = logSumExp + item * t
            let work = Work(seq: t, headWidth: hd)
            let ldp = work.paddedSeq, p = work.scores, dp = work.dScores
            work.transpose(k, ld: ld, seq: t, headWidth: hd, into: work.keysT)
            work.transpose(v, ld: ld, seq: t, headWidth: hd, into: work.valuesT)
            var r0 = 0
            while r0 < t {
                let rows = min(block, t - r0), keys = r0 + rows
                work.multiplyScores(q + r0 * ld, ld: ld, rows: rows, keys: keys, headWidth: hd, into: p,
                                    transposed: work.keysT)
                work.multiplyScores(dy + r0 * d, ld: d, rows: rows, keys: keys, headWidth: hd, into: dp,
                                    transposed: work.valuesT)
                for i in 0..<rows {
                    let row = p + i * ldp, drow = dp + i * ldp
                    let valid = r0 + i + 1
                    let rowLSE = lse[r0 + i]
                    let sumDYY = dot(dy + (r0 + i) * d, y + (r0 + i) * d, hd)
                    _ = SIMDMath.expInPlace(row, count: valid, scale: scale, shift: rowLSE)
                    for s in 0..<valid { drow[s] = row[s] * (drow[s] - sumDYY) * scale }
                    for s in valid..<keys {
                        row[s] = 0
                        drow[s] = 0
                    }
                }
                // dV += P^T dY, dQ = dS K, dK += dS^T Q. Keys before the block accumulate onto the earlier blocks'
                // sums; the block's own keys are reached for the first time, so they start from zero (no memset).
                func keysProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int,
                                 into c: UnsafeMutablePointer<Float>) {
                    MatrixMultiply.multiplyUnpacked(m: r0, n: hd, k: rows, a: a, aRowStride: 1, aDepthStride: ldp,
                                                    b: b, ldb: ldb, c: c, ldc: ld, accumulate: true)
                    MatrixMultiply.multiplyUnpacked(m: rows, n: hd, k: rows, a: a + r0, aRowStride: 1,
                                                    aDepthStride: ldp, b: b, ldb: ldb, c: c + r0 * ld, ldc: ld,
                                                    accumulate: false, triangle: .upperDepth)
                }
                keysProduct(p, dy + r0 * d, ldb: d, into: dv)
                MatrixMultiply.multiplyUnpacked(m: rows, n: hd, k: keys, a: dp, aRowStride: ldp, aDepthStride: 1,
                                                b: k, ldb: ld, c: dq + r0 * ld, ldc: ld, accumulate: false,
                                                triangle: .lowerDepth(offset: r0))
                keysProduct(dp, q + r0 * ld, ldb: ld, into: dk)
                r0 += rows
            }
        }
    }
}

/// Rotary position embedding ("rotate half" form) applied in place to the queries and keys of a `qkv` buffer.
public enum Rotary {
    /// Rotates q and k of every head by the angle of their position; `inverse` applies the transpose rotation
    /// (the backward pass of the forward rotation). `positionOffset` is the position of row 0 (for KV-cached
    /// decoding).
    public static func apply(_ qkv: UnsafeMutablePointer<Float>, rows: Int, seq: Int, width d: Int, heads h: Int,
                             positionOffset: Int = 0, inverse: Bool, pool: WorkerPool?) {
        let hd = d / h, half = hd / 2
        let ld = 3 * d
        let chunk = 32
        parallel(pool, fixedChunks(rows, size: chunk)) { block in
            for r in (block * chunk)..<min(rows, (block + 1) * chunk) {
                let position = Double(r % seq + positionOffset)
                for i in 0..<half {
                    let angle = position * pow(10000.0, -2.0 * Double(i) / Double(hd))
                    let c = Float(cos(angle)), s = inverse ? -Float(sin(angle)) : Float(sin(angle))
                    for part in 0..<2 {
                        for head in 0..<h {
                            let x = qkv + r * ld + part * d + head * hd
                            let a = x[i], b = x[i + half]
                            x[i] = a * c - b * s
                            x[i + half] = b * c + a * s
                        }
                    }
                }
            }
        }
    }
}

extension Attention {
    /// One decoding step with a key/value cache: for each of `rows` sequences, the query at the newest position
    /// (row r of `qkv`, `[rows, 3 * width]`) attends to the `length` cached keys and values of that sequence
    /// (`keys` and `values` are `[rows, capacity, width]`). Writes `[rows, width]` to `output`. `scratch` needs
    /// `rows * heads * capacity` floats. Each cached key and value row is read once for all heads, in position
    /// order (one stream each, which the hardware prefetches: the cache is larger than L2). Split over rows; each
    /// row computed by one thread in a fixed order.
    public static func decode(output: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                              keys: UnsafePointer<Float>, values: UnsafePointer<Float>, rows: Int, length: Int,
                              capacity: Int, width d: Int, heads h: Int, scratch: UnsafeMutablePointer<Float>,
                              pool: WorkerPool?) {
        let hd = d / h
        let scale = 1 / Float(hd).squareRoot()
        parallel(pool, rows) { r in
            let scores = scratch + r * h * capacity
            let q = qkv + r * 3 * d
            let v = values + r * capacity * d
            let y = output + r * d
            for u in 0..<length {
                let k = keys + (r * capacity + u) * d
                for head in 0..<h { scores[head * capacity + u] = dot(q + head * hd, k + head * hd, hd) }
            }
            for head in 0..<h {
                let row = scores + head * capacity
                let maxValue = SIMDMath.maxScaled(row, count: length, scale: scale)
                let total = SIMDMath.expInPlace(row, count: length, scale: scale, shift: maxValue)
                let normalise = 1 / total
                for u in 0..<length { row[u] *= normalise }
            }
            // Output: y_f = Σ_u p_u(head of f) v_u,f, one fused multiply-add per position in order (as `axpy`),
            // 32 features at a time in four registers (independent chains, so the loop is not latency-bound).
            var f = 0
            if hd % 8 == 0 {
                while f < d {
                    let chunks = min(4, (d - f) / 8)
                    let p0 = scores + (f / hd) * capacity, p1 = scores + ((f + 8) / hd) * capacity
                    let p2 = scores + ((f + 16) / hd) * capacity, p3 = scores + ((f + 24) / hd) * capacity
                    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                    let vf = v + f
                    if chunks == 4 {
                        for u in 0..<length {
                            let vu = vf + u * d
                            a0 = a0.addingProduct(SIMD8(repeating: p0[u]), load8(vu))
                            a1 = a1.addingProduct(SIMD8(repeating: p1[u]), load8(vu + 8))
                            a2 = a2.addingProduct(SIMD8(repeating: p2[u]), load8(vu + 16))
                            a3 = a3.addingProduct(SIMD8(repeating: p3[u]), load8(vu + 24))
                        }
                        store8(a0, y + f); store8(a1, y + f + 8); store8(a2, y + f + 16); store8(a3, y + f + 24)
                    } else {
                        for u in 0..<length { a0 = a0.addingProduct(SIMD8(repeating: p0[u]), load8(vf + u * d)) }
                        store8(a0, y + f)
                    }
                    f += chunks == 4 ? 32 : 8
                }
            } else {
                // The same operations as `axpy` per head, position by position.
                y.update(repeating: 0, count: d)
                for u in 0..<length {
                    for head in 0..<h { axpy(scores[head * capacity + u], v + u * d + head * hd, y + head * hd, hd) }
                }
            }
        }
    }
}
