/// GELU with the tanh approximation (GPT-2's `gelu_new`, PyTorch's `approximate="tanh"`), vectorised.
///
/// Training keeps t = tanh(u) from the forward pass instead of the output: the backward pass then needs no
/// division or exponential (it was a third of GELU's cost), and the output is recomputed from (x, t) with the same
/// operations, so it has the same bits.
public enum GELU {
    static let c = Float((2.0 / Double.pi).squareRoot())

    /// tanh(sqrt(2/pi) (x + 0.044715 x^3))
    @inline(__always)
    static func tanh8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let cube: SIMD8<Float> = x * x * x
        let u: SIMD8<Float> = c * (x + 0.044715 * cube)
        return SIMDMath.tanh(u)
    }

    @inline(__always)
    static func output8(_ x: SIMD8<Float>, tanh t: SIMD8<Float>) -> SIMD8<Float> { 0.5 * x * (1 + t) }

    @inline(__always)
    static func derivative8(_ x: SIMD8<Float>, tanh t: SIMD8<Float>) -> SIMD8<Float> {
        let half = SIMD8<Float>(repeating: 0.5)
        let sech2: SIMD8<Float> = 1 - t * t
        let du: SIMD8<Float> = c * (1 + 0.134145 * x * x)
        let left: SIMD8<Float> = half * (1 + t)
        return left + half * x * sech2 * du
    }

    static let chunk = 8192

    /// `output[i] = gelu(input[i])`, keeping `tanh[i]` = t(input[i]) for `fromTanh` and `backward`.
    public static func forward(output: UnsafeMutablePointer<Float>, tanh: UnsafeMutablePointer<Float>,
                               input: UnsafePointer<Float>, count: Int, pool: WorkerPool?) {
        parallel(pool, fixedChunks(count, size: chunk)) { block in
            var i = block * chunk
            let end = min(count, (block + 1) * chunk)
            while i + 8 <= end {
                let x = load8(input + i), t = tanh8(x)
                store8(t, tanh + i)
                store8(output8(x, tanh: t), output + i)
                i += 8
            }
            while i < end {  // (lane 0 of the same formula, so every element gets the same operations)
                let x = SIMD8(repeating: input[i]), t = tanh8(x)
                tanh[i] = t[0]
                output[i] = output8(x, tanh: t)[0]
                i += 1
            }
        }
    }

    /// `output[i] = gelu(input[i])` again from the kept `tanh` (the same bits as `forward`).
    public static func fromTanh(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                tanh: UnsafePointer<Float>, count: Int, pool: WorkerPool?) {
        parallel(pool, fixedChunks(count, size: chunk)) { block in
            var i = block * chunk
            let end = min(count, (block + 1) * chunk)
            while i + 8 <= end {
                store8(output8(load8(input + i), tanh: load8(tanh + i)), output + i)
                i += 8
            }
            while i < end {
                output[i] = output8(SIMD8(repeating: input[i]), tanh: SIMD8(repeating: tanh[i]))[0]
                i += 1
            }
        }
    }

    /// `dInput[i] = gelu'(input[i]) * dOutput[i]` from the kept `tanh` (overwrites `dInput`, which may alias
    /// `dOutput`).
    public static func backward(dInput: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                tanh: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, count: Int,
                                pool: WorkerPool?) {
        parallel(pool, fixedChunks(count, size: chunk)) { block in
            var i = block * chunk
            let end = min(count, (block + 1) * chunk)
            while i + 8 <= end {
                store8(derivative8(load8(input + i), tanh: load8(tanh + i)) * load8(dOutput + i), dInput + i)
                i += 8
            }
            while i < end {
                let d = derivative8(SIMD8(repeating: input[i]), tanh: SIMD8(repeating: tanh[i]))
                dInput[i] = d[0] * dOutput[i]
                i += 1
            }
        }
    }
}
