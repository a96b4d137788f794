/// GELU with the tanh approximation (GPT-2's `gelu_new`, PyTorch's `approximate="tanh"`), vectorised.
public enum GELU {
    static let c = Float((2.0 / Double.pi).squareRoot())

    @inline(__always)
    static func forward8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let cube: SIMD8<Float> = x * x * x
        let u: SIMD8<Float> = c * (x + 0.044715 * cube)
        return 0.5 * x * (1 + SIMDMath.tanh(u))
    }

    @inline(__always)
    static func derivative8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let cube: SIMD8<Float> = x * x * x
        let u: SIMD8<Float> = c * (x + 0.044715 * cube)
        let t = SIMDMath.tanh(u)
        let half = SIMD8<Float>(repeating: 0.5)
        let sech2: SIMD8<Float> = 1 - t * t
        let du: SIMD8<Float> = c * (1 + 0.134145 * x * x)
        let left: SIMD8<Float> = half * (1 + t)
        return left + half * x * sech2 * du
    }

    /// `output[i] = gelu(input[i])` for `count` floats.
    public static func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int,
                               pool: WorkerPool?) {
        let chunk = 8192
        parallel(pool, fixedChunks(count, size: chunk)) { block in
            var i = block * chunk
            let end = min(count, (block + 1) * chunk)
            while i + 8 <= end {
                store8(forward8(load8(input + i)), output + i)
                i += 8
            }
            while i < end {
                output[i] = forward8(SIMD8(repeating: input[i]))[0]
                i += 1
            }
        }
    }

    /// `dInput[i] = gelu'(input[i]) * dOutput[i]` (overwrites `dInput`, which may alias `dOutput`).
    public static func backward(dInput: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                dOutput: UnsafePointer<Float>, count: Int, pool: WorkerPool?) {
        let chunk = 8192
        parallel(pool, fixedChunks(count, size: chunk)) { block in
            var i = block * chunk
            let end = min(count, (block + 1) * chunk)
            while i + 8 <= end {
                store8(derivative8(load8(input + i)) * load8(dOutput + i), dInput + i)
                i += 8
            }
            while i < end {
                dInput[i] = derivative8(SIMD8(repeating: input[i]))[0] * dOutput[i]
                i += 1
            }
        }
    }
}
