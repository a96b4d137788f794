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
                    // (A row has room to `paddedSeq`, a multiple of 16, for the padded exp; what it writes past
                    // `valid` is zeroed up to `keys` below, and the products read nothing past `keys`.)
                    let row = work.scores + i * ldp
                    let valid = r0 + i + 1
                    let maxValue = SIMDMath.maxScaled(row, count: valid, scale: scale)
                    let sum = SIMDMath.expInPlacePadded(row, count: valid, scale: scale, shift: maxValue)
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
                    _ = SIMDMath.expInPlacePadded(row, count: valid, scale: scale, shift: rowLSE)
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
    /// Floats of one layer's key cache, or of its value cache, for `decode`: `rows` sequences of up to `capacity`
    /// positions (rounded up to a block of 8) of `width` features.
    public static func decodeCacheCount(rows: Int, capacity: Int, width: Int) -> Int {
        rows * (capacity + 7) / 8 * 8 * width
    }

    /// One decoding step with a key/value cache, for `rows` sequences: stores the key and value at `position`
    /// (from `qkv`, `[rows, 3 * width]`) and the query there attends to positions 0...position. Writes
    /// `[rows, width]` to `output`; `scratch` needs `rows * heads * capacity` floats. Single-threaded: a caller
    /// with threads gives each its own share of the sequences and a cache of its own (as `Generator` does), so
    /// that each thread reads one run of memory; every sequence's numbers are its own, whatever the split.
    ///
    /// The caches (`decodeCacheCount(rows:capacity:width:)` floats each) are in this function's own layout: blocks
    /// of 8 positions outermost, then sequences, so positions 0...position of every sequence are one prefix of the
    /// cache, read as one run. (Decoding reads the whole cache at every step, and the cache is larger than L2: with
    /// a stream per sequence and head, the memory latency of starting each of those short streams cost more than
    /// the bytes.) Within a (block, sequence) chunk of `8 * width` floats: the keys head by head, feature-major
    /// (feature i of the 8 positions adjacent, so 8 scores are 8-lane operations with no horizontal sums); the
    /// values position-major.
    ///
    /// Numerics: each score is `dot(q, k)` (two 8-lane fused multiply-add chains, then their lanes summed left to
    /// right), each output feature one fused multiply-add per position in order (as `axpy`); the same bits as the
    /// plain loop over positions, which the tests check.
    public static func decode(output: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                              keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, rows: Int,
                              position t: Int, capacity: Int, width d: Int, heads h: Int,
                              scratch: UnsafeMutablePointer<Float>) {
        precondition(t < capacity)
        let hd = d / h, length = t + 1, blocks = (length + 7) / 8
        let scale = 1 / Float(hd).squareRoot()
        func chunk(_ cache: UnsafeMutablePointer<Float>, _ block: Int, _ r: Int) -> UnsafeMutablePointer<Float> {
            cache + (block * rows + r) * 8 * d
        }
        func probabilities(_ r: Int, _ head: Int) -> UnsafeMutablePointer<Float> { scratch + (r * h + head) * capacity }
        // Append this position's keys and values.
        for r in 0..<rows {
            let q = qkv + r * 3 * d
            let keyChunk = chunk(keys, t / 8, r) + t % 8
            for i in 0..<d { keyChunk[i * 8] = q[d + i] }   // heads in order, so feature i of any head is at i * 8
            let value = chunk(values, t / 8, r) + (t % 8) * d
            var i = 0
            while i + 8 <= d { store8(load8(q + 2 * d + i), value + i); i += 8 }
            while i < d { value[i] = q[2 * d + i]; i += 1 }
        }
        // Scores, a block of 8 positions of every row at a time.
        for block in 0..<blocks {
            let u = block * 8, valid = min(8, length - u)
            for r in 0..<rows {
                let q = qkv + r * 3 * d, keyChunk = chunk(keys, block, r)
                for head in 0..<h {
                    let s = blockDots(q + head * hd, keyChunk + head * hd * 8, hd)
                    let row = probabilities(r, head) + u
                    if valid == 8 { store8(s, row) } else { for lane in 0..<valid { row[lane] = s[lane] } }
                }
            }
        }
        for r in 0..<rows {
            for head in 0..<h {
                let row = probabilities(r, head)
                let maxValue = SIMDMath.maxScaled(row, count: length, scale: scale)
                let total = SIMDMath.expInPlace(row, count: length, scale: scale, shift: maxValue)
                let normalise = 1 / total
                for u in 0..<length { row[u] *= normalise }
            }
        }
        // Output: y_f = Σ_u p_u v_u,f, block by block; within a block each feature's chain continues from the value
        // stored after the previous block (a stored float reloads exactly), so it is one chain over all positions.
        for block in 0..<blocks {
            let u = block * 8, valid = min(8, length - u)
            for r in 0..<rows {
                let y = output + r * d, valueChunk = chunk(values, block, r)
                if hd % 8 == 0 {
                    // 32 features at a time in four registers (independent chains), 8 when d is not a multiple of 32.
                    var f = 0
                    while f < d {
                        let p0 = probabilities(r, f / hd) + u
                        if f + 32 <= d {
                            let p1 = probabilities(r, (f + 8) / hd) + u, p2 = probabilities(r, (f + 16) / hd) + u
                            let p3 = probabilities(r, (f + 24) / hd) + u
                            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                            if block > 0 { a0 = load8(y + f); a1 = load8(y + f + 8); a2 = load8(y + f + 16); a3 = load8(y + f + 24) }
                            for lane in 0..<valid {
                                let v = valueChunk + lane * d + f
                                a0 = a0.addingProduct(SIMD8(repeating: p0[lane]), load8(v))
                                a1 = a1.addingProduct(SIMD8(repeating: p1[lane]), load8(v + 8))
                                a2 = a2.addingProduct(SIMD8(repeating: p2[lane]), load8(v + 16))
                                a3 = a3.addingProduct(SIMD8(repeating: p3[lane]), load8(v + 24))
                            }
                            store8(a0, y + f); store8(a1, y + f + 8); store8(a2, y + f + 16); store8(a3, y + f + 24)
                            f += 32
                        } else {
                            var a = block > 0 ? load8(y + f) : SIMD8<Float>()
                            for lane in 0..<valid { a = a.addingProduct(SIMD8(repeating: p0[lane]), load8(valueChunk + lane * d + f)) }
                            store8(a, y + f)
                            f += 8
                        }
                    }
                } else {
                    if block == 0 { y.update(repeating: 0, count: d) }
                    for lane in 0..<valid {
                        for head in 0..<h {
                            axpy(probabilities(r, head)[u + lane], valueChunk + lane * d + head * hd, y + head * hd, hd)
                        }
                    }
                }
            }
        }
    }

    /// The 8 scores `dot(q, key)` of one key block (`hd` features x 8 positions), lane p for position p: the
    /// operations of `dot` for each position, with lane j of its accumulators as the vector of step j.
    @inline(__always)
    static func blockDots(_ q: UnsafePointer<Float>, _ block: UnsafePointer<Float>, _ hd: Int) -> SIMD8<Float> {
        let sixteens = hd / 16 * 16, vectorEnd = sixteens + (hd - sixteens >= 8 ? 8 : 0)
        var sum = SIMD8<Float>(repeating: -0.0)
        for j in 0..<8 {
            var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
            var i = 0
            while i < sixteens {
                acc0 = acc0.addingProduct(SIMD8(repeating: q[i + j]), load8(block + (i + j) * 8))
                acc1 = acc1.addingProduct(SIMD8(repeating: q[i + 8 + j]), load8(block + (i + 8 + j) * 8))
                i += 16
            }
            if i < vectorEnd { acc0 = acc0.addingProduct(SIMD8(repeating: q[i + j]), load8(block + (i + j) * 8)) }
            sum += acc0 + acc1
        }
        for i in vectorEnd..<hd { sum += SIMD8(repeating: q[i]) * load8(block + i * 8) }
        return sum
    }
}
