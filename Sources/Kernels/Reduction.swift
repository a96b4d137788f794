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
                // Eight accumulators in registers (an array here was allocated per call and kept in memory).
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
                for r in 0..<rows {
                    let row = input + r * columns + start
                    a0 += load8(row); a1 += load8(row + 8); a2 += load8(row + 16); a3 += load8(row + 24)
                    a4 += load8(row + 32); a5 += load8(row + 40); a6 += load8(row + 48); a7 += load8(row + 56)
                }
                let o = output + start
                store8(load8(o) + a0, o); store8(load8(o + 8) + a1, o + 8)
                store8(load8(o + 16) + a2, o + 16); store8(load8(o + 24) + a3, o + 24)
                store8(load8(o + 32) + a4, o + 32); store8(load8(o + 40) + a5, o + 40)
                store8(load8(o + 48) + a6, o + 48); store8(load8(o + 56) + a7, o + 56)
            } else {
                // Narrow outputs (a small model's biases): eight columns at a time, each lane one column summed over
                // the rows in order from 0 (the same additions as the scalar loop for the rest, so the same bits).
                var j = start
                while j + 8 <= end {
                    var a = SIMD8<Float>()
                    for r in 0..<rows { a += load8(input + r * columns + j) }
                    store8(load8(output + j) + a, output + j)
                    j += 8
                }
                for j in j..<end {
                    var sum: Float = 0
                    for r in 0..<rows { sum += input[r * columns + j] }
                    output[j] += sum
                }
            }
        }
    }
}
