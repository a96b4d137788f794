import Foundation

/// AdamW (decoupled weight decay, bias-corrected moments) and global gradient-norm clipping.
public enum AdamW {
    /// Sum of squares of `count` floats, reduced over fixed chunks in a fixed order (thread-count independent).
    /// `scratch` needs `ceil(count / 65536)` doubles.
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int, scratch: UnsafeMutablePointer<Double>,
                                    pool: WorkerPool?) -> Double {
        let chunk = 65536
        let chunks = fixedChunks(count, size: chunk)
        parallel(pool, chunks) { block in
            let start = block * chunk, end = min(count, start + chunk)
            var acc = SIMD8<Float>()
            var partial = 0.0
            var i = start
            while i + 8 <= end {
                let v = load8(x + i)
                acc.addProduct(v, v)
                i += 8
                if (i - start) % 1024 == 0 { partial += Double(acc.sum()); acc = SIMD8<Float>() }
            }
            partial += Double(acc.sum())
            while i < end { partial += Double(x[i] * x[i]); i += 1 }
            scratch[block] = partial
        }
        var total = 0.0
        for k in 0..<chunks { total += scratch[k] }
        return total
    }

    /// One AdamW step on `count` parameters: `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`,
    /// `p -= lr * (mhat / (sqrt(vhat) + eps) + decay * p)` with `decay` = `weightDecay` where `decays[i / ...]`.
    /// `gradientScale` multiplies the gradient first (for clipping). `step` counts from 1.
    public static func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                              firstMoment m: UnsafeMutablePointer<Float>, secondMoment v: UnsafeMutablePointer<Float>,
                              count: Int, learningRate lr: Float, beta1: Float, beta2: Float, epsilon: Float,
                              weightDecay: Float, step: Int, gradientScale: Float, pool: WorkerPool?) {
        let correction1 = 1 - powf(beta1, Float(step))
        let correction2 = 1 - powf(beta2, Float(step))
        let chunk = 16384
        // Eight parameters at a time, each lane the same operations in the same order as the scalar loop (products,
        // sums, the quotient and the square root are each correctly rounded), so the vector and the tail agree bit
        // for bit.
        let scale8 = SIMD8<Float>(repeating: gradientScale)
        let beta1x8 = SIMD8<Float>(repeating: beta1), rest1x8 = SIMD8<Float>(repeating: 1 - beta1)
        let beta2x8 = SIMD8<Float>(repeating: beta2), rest2x8 = SIMD8<Float>(repeating: 1 - beta2)
        let correction1x8 = SIMD8<Float>(repeating: correction1), correction2x8 = SIMD8<Float>(repeating: correction2)
        let lr8 = SIMD8<Float>(repeating: lr), epsilon8 = SIMD8<Float>(repeating: epsilon)
        let decay8 = SIMD8<Float>(repeating: weightDecay)
        parallel(pool, fixedChunks(count, size: chunk)) { block in
            let end = min(count, (block + 1) * chunk)
            var i = block * chunk
            while i + 8 <= end {
                let g = load8(gradients + i) * scale8
                let mi = beta1x8 * load8(m + i) + rest1x8 * g
                let vi = beta2x8 * load8(v + i) + rest2x8 * g * g
                store8(mi, m + i)
                store8(vi, v + i)
                let mhat = mi / correction1x8, vhat = vi / correction2x8
                let p = load8(parameters + i)
                store8(p - lr8 * (mhat / (vhat.squareRoot() + epsilon8) + decay8 * p), parameters + i)
                i += 8
            }
            for i in i..<end {
                let g = gradients[i] * gradientScale
                let mi = beta1 * m[i] + (1 - beta1) * g
                let vi = beta2 * v[i] + (1 - beta2) * g * g
                m[i] = mi
                v[i] = vi
                let mhat = mi / correction1, vhat = vi / correction2
                parameters[i] -= lr * (mhat / (vhat.squareRoot() + epsilon) + weightDecay * parameters[i])
            }
        }
    }
}
