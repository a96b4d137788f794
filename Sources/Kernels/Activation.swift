import Foundation

/// GELU with the tanh approximation (GPT-2's `gelu_new`, PyTorch's `approximate="tanh"`).
public enum GELU {
    static let c = Float((2.0 / Double.pi).squareRoot())

    /// `output[i] = gelu(input[i])` for `count` floats.
    public static func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int,
                               pool: WorkerPool?) {
        let chunk = 8192
        parallel(pool, fixedChunks(count, size: chunk)) { block in
            for i in (block * chunk)..<min(count, (block + 1) * chunk) {
                let x = input[i]
                output[i] = 0.5 * x * (1 + tanhf(c * (x + 0.044715 * x * x * x)))
            }
        }
    }

    /// `dInput[i] = gelu'(input[i]) * dOutput[i]` (overwrites `dInput`, which may alias `dOutput`).
    public static func backward(dInput: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                dOutput: UnsafePointer<Float>, count: Int, pool: WorkerPool?) {
        let chunk = 8192
        parallel(pool, fixedChunks(count, size: chunk)) { block in
            for i in (block * chunk)..<min(count, (block + 1) * chunk) {
                let x = input[i]
                let u = c * (x + 0.044715 * x * x * x)
                let t = tanhf(u)
                let sech2 = 1 - t * t
                let local = 0.5 * (1 + t) + 0.5 * x * sech2 * c * (1 + 3 * 0.044715 * x * x)
                dInput[i] = local * dOutput[i]
            }
        }
    }
}
