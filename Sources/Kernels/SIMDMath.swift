/// Vectorised exp and tanh for the kernels' elementwise loops (libm's scalar `expf`/`tanhf` took a third of a
/// training step). Cephes-style: exp by range reduction to [-ln2/2, ln2/2] and a degree-6 polynomial, about 2 ulp
/// relative error over the float range; tanh from exp with absolute error below 1e-7.
public enum SIMDMath {
    @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // min(max(x, lo), hi) lane by lane (NaN stays NaN), as compares and blends: a per-lane loop here compiled
        // to scalar code through the stack.
        let low = SIMD8<Float>(repeating: -87.33654), high = SIMD8<Float>(repeating: 88.0)
        var clamped = x.replacing(with: low, where: x .< low)
        clamped.replace(with: high, where: clamped .> high)
        // n = round(x / ln 2) with the 1.5 * 2^23 trick (pure vector arithmetic; generic float-to-int conversion
        // and rounding are per-lane calls in Swift).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped.addingProduct(n, SIMD8(repeating: -0.693_359_375))
        r = r.addingProduct(n, SIMD8(repeating: 2.121_944_4e-4))
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let result = (p * r * r + r) + 1
        // Scale by 2^n through the exponent bits.
        let ni = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let scale = unsafeBitCast((ni &+ 127) &<< 23, to: SIMD8<Float>.self)
        return result * scale
    }

    @inline(__always)
    public static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // tanh(x) = 1 - 2 / (exp(2x) + 1), odd-symmetric; large |x| saturates through exp's clamp.
        let e = exp(2 * x)
        return 1 - 2 / (e + 1)
    }

    /// max over i < count of scale * x[i] (-infinity when count is 0). The maximum is exact, so the lane order
    /// does not matter.
    @inline(__always)
    public static func maxScaled(_ x: UnsafePointer<Float>, count: Int, scale: Float) -> Float {
        var lanes = SIMD8<Float>(repeating: -.infinity)
        let s = SIMD8<Float>(repeating: scale)
        var i = 0
        while i + 8 <= count {
            let v = load8(x + i) * s
            lanes.replace(with: v, where: v .> lanes)  // (pointwiseMax is a generic call, not inlined)
            i += 8
        }
        var result = lanes.max()
        while i < count {
            result = Swift.max(result, x[i] * scale)
            i += 1
        }
        return result
    }

    /// Replaces `x[i]` by `exp(scale * x[i] - shift)` for `count` floats and returns their sum (in a fixed order).
    @inline(__always)
    public static func expInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, scale: Float, shift: Float) -> Float {
        expInPlace(x, count: count, scale: scale, shift: shift, padded: false)
    }

    /// `expInPlace` for a buffer with room past `count`: `x` must be readable and writable up to `count` rounded up
    /// to 8, and the floats between `count` and there are overwritten with unspecified values. The last 1-7 floats
    /// are then one vector (lane by lane the same operations, so the same bits as `expInPlace`) instead of a vector
    /// exp each through lane 0, and are added to the sum one by one in order, as there. (Attention's score rows,
    /// padded to 16 columns, spent half their exps on such tails.)
    @inline(__always)
    public static func expInPlacePadded(_ x: UnsafeMutablePointer<Float>, count: Int, scale: Float,
                                        shift: Float) -> Float {
        expInPlace(x, count: count, scale: scale, shift: shift, padded: true)
    }

    @inline(__always)
    static func expInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, scale: Float, shift: Float,
                           padded: Bool) -> Float {
        var sum = SIMD8<Float>()
        var i = 0
        let s = SIMD8<Float>(repeating: scale), b = SIMD8<Float>(repeating: shift)
        while i + 8 <= count {
            let e = exp(load8(x + i) * s - b)
            store8(e, x + i)
            sum += e
            i += 8
        }
        var total = sum.sum()
        if padded && i < count {
            let e = exp(load8(x + i) * s - b)
            store8(e, x + i)
            for lane in 0..<(count - i) { total += e[lane] }
            return total
        }
        while i < count {
            x[i] = exp(x[i] * scale - shift)
            total += x[i]
            i += 1
        }
        return total
    }

    /// The same functions on one float (through lane 0), for loop tails, so that every element of an array is
    /// computed by the same formula.
    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(SIMD8(repeating: x))[0] }

    @inline(__always)
    public static func tanh(_ x: Float) -> Float { tanh(SIMD8(repeating: x))[0] }
}
