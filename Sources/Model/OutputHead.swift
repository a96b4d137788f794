import Kernels

/// The output head: final LayerNorm, then the untied linear head to class logits (for training and sampling).
enum OutputHead {
    static func logits(_ logits: UnsafeMutablePointer<Float>, normed: UnsafeMutablePointer<Float>,
                       mean: UnsafeMutablePointer<Float>, reciprocalStd: UnsafeMutablePointer<Float>,
                       input: UnsafePointer<Float>, normWeight: UnsafePointer<Float>, normBias: UnsafePointer<Float>,
                       head: LinearWeight, rows n: Int, config: GPTConfig, pool: WorkerPool?) {
        LayerNorm.forward(output: normed, mean: mean, reciprocalStd: reciprocalStd, input: input, weight: normWeight,
                          bias: normBias, rows: n, columns: config.width, pool: pool)
        Linear.forward(logits, normed, rows: n, inputs: config.width, outputs: config.classes, weight: head, bias: nil,
                       pool: pool)
    }
}
