import Foundation

/// Softmax cross-entropy over rows of logits, fused with its gradient.
public enum CrossEntropy {
    /// For each of `rows` rows of `classes` logits with target `targets[r]` (negative = ignored): writes the loss
    /// (natural log) to `losses[r]` (0 for ignored rows) and, if `dLogits` is given, overwrites that row with
    /// `scale * (softmax - onehot)` (zeros for ignored rows). `dLogits` may alias `logits`.
    public static func forwardBackward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, rows: Int,
                                       classes: Int, losses: UnsafeMutablePointer<Float>,
                                       dLogits: UnsafeMutablePointer<Float>?, scale: Float, pool: WorkerPool?) {
        let chunk = 8
        parallel(pool, fixedChunks(rows, size: chunk)) { block in
            for r in (block * chunk)..<min(rows, (block + 1) * chunk) {
                let z = logits + r * classes
                let target = Int(targets[r])
                guard target >= 0 else {
                    losses[r] = 0
                    if let d = dLogits { (d + r * classes).update(repeating: 0, count: classes) }
                    continue
                }
                var maxValue = -Float.infinity
                for i in 0..<classes { maxValue = max(maxValue, z[i]) }
                var sum: Float = 0
                for i in 0..<classes { sum += expf(z[i] - maxValue) }
                let logSum = logf(sum) + maxValue
                losses[r] = logSum - z[target]
                if let d = dLogits {
                    let dr = d + r * classes
                    for i in 0..<classes { dr[i] = expf(z[i] - logSum) * scale }
                    dr[target] -= scale
                }
            }
        }
    }
}
