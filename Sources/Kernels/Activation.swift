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

    /// Runs `body(i, width)` over `count` floats in fixed chunks on the pool: width 8 for full SIMD steps, then 1
    /// for the tail (the tail goes through lane 0 of the same SIMD formula, so every element gets the same
    /// operations).
    @inline(__always)
    static func chunked(_ count: Int, _ pool: WorkerPool?, _ body: (Int, Int) -> Void) {
        let chunk = 8192
        parallel(pool, fixedChunks(count, size: chunk)) { block in
            var i = block * chunk
            let end = min(count, (block + 1) * chunk)
            while i + 8 <= end {
                body(i, 8)
                i += 8
            }
            while i < end {
                body(i, 1)
                i += 1
            }
        }
    }

    @inline(__always)
    static func read(_ p: UnsafePointer<Float>, _ i: Int, _ width: Int) -> SIMD8<Float> {
        width == 8 ? load8(p + i) : SIMD8(repeating: p[i])
    }

    @inline(__always)
    static func write(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int, _ width: Int) {
        if width == 8 { store8(v, p + i) } else { p[i] = v[0] }
    }

    /// `output[i] = gelu(input[i])` for `count` floats.
    public static func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int,
                               pool: WorkerPool?) {
        chunked(count, pool) { i, w in
            let x = read(input, i, w)
            write(output8(x, tanh: tanh8(x)), output, i, w)
        }
    }

    /// `output[i] = gelu(input[i])`, keeping `tanh[i]` = t(input[i]) for `fromTanh` and `backward`.
    public static func forward(output: UnsafeMutablePointer<Float>, tanh: UnsafeMutablePointer<Float>,
                               input: UnsafePointer<Float>, count: Int, pool: WorkerPool?) {
        chunked(count, pool) { i, w in
            let x = read(input, i, w), t = tanh8(x)
            write(t, tanh, i, w)
            write(output8(x, tanh: t), output, i, w)
        }
    }

    /// `output[i] = gelu(input[i])` again from the kept `tanh` (the same bits as `forward`).
    public static func fromTanh(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                tanh: UnsafePointer<Float>, count: Int, pool: WorkerPool?) {
        chunked(count, pool) { i, w in
            write(output8(read(input, i, w), tanh: read(tanh, i, w)), output, i, w)
        }
    }

    /// `dInput[i] = gelu'(input[i]) * dOutput[i]` from the kept `tanh` (overwrites `dInput`, which may alias
    /// `dOutput`).
    public static func backward(dInput: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                tanh: UnsafePointer<Float>, dOutput: UnsafePointer<Float>, count: Int,
                                pool: WorkerPool?) {
        chunked(count, pool) { i, w in
            let x = read(input, i, w)
            write(derivative8(x, tanh: read(tanh, i, w)) * read(dOutput, i, w), dInput, i, w)
        }
    }
}
