/// Column sums (bias gradients) with a thread-count independent order.
public enum ColumnSum {
    /// `output[j] += sum over r of input[r * columns + j]`, rows summed in order; split over column chunks.
    public static func accumulate(_ output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int,
                                  columns: Int, pool: WorkerPool?) {
        let chunk = 64
        parallel(pool, fixedChunks(columns, size: chunk)) { block in
            let start = block * chunk, end = min(columns, start + chunk)
            let width = end - start
            if width == chunk {
                var acc = [SIMD8<Float>](repeating: SIMD8<Float>(), count: chunk / 8)
                acc.withUnsafeMutableBufferPointer { acc in
                    for r in 0..<rows {
                        let row = input + r * columns + start
                        for k in 0..<(chunk / 8) { acc[k] += load8(row + 8 * k) }
                    }
                    for k in 0..<(chunk / 8) { store8(load8(output + start + 8 * k) + acc[k], output + start + 8 * k) }
                }
            } else {
                for j in start..<end {
                    var sum: Float = 0
                    for r in 0..<rows { sum += input[r * columns + j] }
                    output[j] += sum
                }
            }
        }
    }
}

/// Row-wise bias addition: `x[r, :] += bias` for `rows` rows of `columns`.
public enum Bias {
    public static func add(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, columns: Int,
                           pool: WorkerPool?) {
        let chunk = 64
        parallel(pool, fixedChunks(rows, size: chunk)) { block in
            for r in (block * chunk)..<min(rows, (block + 1) * chunk) { axpy(1, bias, x + r * columns, columns) }
        }
    }
}
