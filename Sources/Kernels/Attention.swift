import Foundation

/// Causal multi-head self-attention over a packed `qkv` buffer, forward and backward, fused per head.
///
/// `qkv` is `[batch, seq, 3 * width]` (queries, keys, values; head h owns features `h*hd ..< (h+1)*hd` of each),
/// the output `[batch, seq, width]`. Queries are processed in blocks of 64 rows against the keys up to the block's
/// end (so the masked upper triangle is mostly skipped); the attention probabilities live only in per-head scratch
/// and are recomputed in the backward pass from the saved log-sum-exp of each row (no `seq x seq` matrix is kept
/// between passes). Work is split over (batch, head) pairs; each pair is computed by one thread in a fixed order.
public enum Attention {
    static let block = 64

    /// Scratch floats the forward and backward passes need.
    public static func scratchCount(batch: Int, heads: Int, seq: Int) -> Int {
        batch * heads * 2 * block * seq
    }

    public static func forward(output: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>,
                               qkv: UnsafePointer<Float>, batch: Int, seq t: Int, width d: Int, heads h: Int,
                               scratch: UnsafeMutablePointer<Float>, pool: WorkerPool?) {
        let hd = d / h
        let scale = 1 / Float(hd).squareRoot()
        let ld = 3 * d
        parallel(pool, batch * h) { item in
            let b = item / h, head = item % h
            let q = qkv + b * t * ld + head * hd, k = q + d, v = q + 2 * d
            let y = output + b * t * d + head * hd
            let lse = logSumExp + item * t
            let p = scratch + item * 2 * block * t
            var r0 = 0
            while r0 < t {
                let rows = min(block, t - r0), keys = r0 + rows
                MatrixMultiply.multiply(m: rows, n: keys, k: hd, a: q + r0 * ld, lda: ld, transposeA: false,
                                        b: k, ldb: ld, transposeB: true, c: p, ldc: keys, accumulate: false, pool: nil)
                for i in 0..<rows {
                    let row = p + i * keys
                    let valid = r0 + i + 1
                    var maxValue = -Float.infinity
                    for s in 0..<valid { maxValue = max(maxValue, row[s] * scale) }
                    let sum = SIMDMath.expInPlace(row, count: valid, scale: scale, shift: maxValue)
                    let inverse = 1 / sum
                    for s in 0..<valid { row[s] *= inverse }
                    for s in valid..<keys { row[s] = 0 }
                    lse[r0 + i] = maxValue + logf(sum)
                }
                MatrixMultiply.multiply(m: rows, n: hd, k: keys, a: p, lda: keys, transposeA: false,
                                        b: v, ldb: ld, transposeB: false, c: y + r0 * d, ldc: d, accumulate: false,
                                        pool: nil)
                r0 += rows
            }
        }
    }

    /// Overwrites `dQKV` with the gradient of the loss with respect to `qkv`, given `dOutput` and the forward
    /// pass's `output` and `logSumExp`.
    public static func backward(dQKV: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                                qkv: UnsafePointer<Float>, output: UnsafePointer<Float>,
                                logSumExp: UnsafePointer<Float>, batch: Int, seq t: Int, width d: Int, heads h: Int,
                                scratch: UnsafeMutablePointer<Float>, pool: WorkerPool?) {
        let hd = d / h
        let scale = 1 / Float(hd).squareRoot()
        let ld = 3 * d
        parallel(pool, batch * h) { item in
            let b = item / h, head = item % h
            let q = qkv + b * t * ld + head * hd, k = q + d, v = q + 2 * d
            let dq = dQKV + b * t * ld + head * hd, dk = dq + d, dv = dq + 2 * d
            let y = output + b * t * d + head * hd, dy = dOutput + b * t * d + head * hd
            let lse = logSumExp + item * t
            let p = scratch + item * 2 * block * t
            let dp = p + block * t
            for s in 0..<t {
                (dq + s * ld).update(repeating: 0, count: hd)
                (dk + s * ld).update(repeating: 0, count: hd)
                (dv + s * ld).update(repeating: 0, count: hd)
            }
            var r0 = 0
            while r0 < t {
                let rows = min(block, t - r0), keys = r0 + rows
                MatrixMultiply.multiply(m: rows, n: keys, k: hd, a: q + r0 * ld, lda: ld, transposeA: false,
                                        b: k, ldb: ld, transposeB: true, c: p, ldc: keys, accumulate: false, pool: nil)
                MatrixMultiply.multiply(m: rows, n: keys, k: hd, a: dy + r0 * d, lda: d, transposeA: false,
                                        b: v, ldb: ld, transposeB: true, c: dp, ldc: keys, accumulate: false, pool: nil)
                for i in 0..<rows {
                    let row = p + i * keys, drow = dp + i * keys
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
                // dV += P^T dY, dQ = dS K, dK += dS^T Q
                MatrixMultiply.multiply(m: keys, n: hd, k: rows, a: p, lda: keys, transposeA: true,
                                        b: dy + r0 * d, ldb: d, transposeB: false, c: dv, ldc: ld, accumulate: true,
                                        pool: nil)
                MatrixMultiply.multiply(m: rows, n: hd, k: keys, a: dp, lda: keys, transposeA: false,
                                        b: k, ldb: ld, transposeB: false, c: dq + r0 * ld, ldc: ld, accumulate: false,
                                        pool: nil)
                MatrixMultiply.multiply(m: keys, n: hd, k: rows, a: dp, lda: keys, transposeA: true,
                                        b: q + r0 * ld, ldb: ld, transposeB: false, c: dk, ldc: ld, accumulate: true,
                                        pool: nil)
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
    /// `rows * heads * capacity` floats. Each cached key and value row is read once for all heads. Split over
    /// rows; each row computed by one thread in a fixed order.
    public static func decode(output: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                              keys: UnsafePointer<Float>, values: UnsafePointer<Float>, rows: Int, length: Int,
                              capacity: Int, width d: Int, heads h: Int, scratch: UnsafeMutablePointer<Float>,
                              pool: WorkerPool?) {
        let hd = d / h
        let scale = 1 / Float(hd).squareRoot()
        parallel(pool, rows) { r in
            let scores = scratch + r * h * capacity
            let q = qkv + r * 3 * d
            for u in 0..<length {
                let k = keys + (r * capacity + u) * d
                for head in 0..<h { scores[head * capacity + u] = dot(q + head * hd, k + head * hd, hd) }
            }
            let y = output + r * d
            y.update(repeating: 0, count: d)
            for head in 0..<h {
                let row = scores + head * capacity
                var maxValue = -Float.infinity
                for u in 0..<length { maxValue = max(maxValue, row[u] * scale) }
                let total = SIMDMath.expInPlace(row, count: length, scale: scale, shift: maxValue)
                let normalise = 1 / total
                for u in 0..<length { row[u] *= normalise }
            }
            for u in 0..<length {
                let v = values + (r * capacity + u) * d
                for head in 0..<h { axpy(scores[head * capacity + u], v + head * hd, y + head * hd, hd) }
            }
        }
    }
}
