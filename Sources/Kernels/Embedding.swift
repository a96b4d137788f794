/// Table lookups and their gradients.
public enum Embedding {
    /// `output[r, :] (+)= scale * table[ids[r], :]` for `rows` rows of `width` floats.
    public static func gather(output: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>,
                              ids: UnsafePointer<Int32>, rows: Int, width: Int, scale: Float = 1,
                              accumulate: Bool, pool: WorkerPool?) {
        let chunk = 64
        parallel(pool, fixedChunks(rows, size: chunk)) { block in
            for r in (block * chunk)..<min(rows, (block + 1) * chunk) {
                let src = table + Int(ids[r]) * width, dst = output + r * width
                if !accumulate { dst.update(repeating: 0, count: width) }
                axpy(scale, src, dst, width)
            }
        }
    }

    /// `dTable[ids[r], :] += scale * dOutput[r, :]`. Rows with equal ids add up in row order; the work is split
    /// over columns, so the result does not depend on the thread count.
    public static func scatterAdd(dTable: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                                  ids: UnsafePointer<Int32>, rows: Int, width: Int, scale: Float = 1,
                                  pool: WorkerPool?) {
        let columnChunk = 32
        parallel(pool, fixedChunks(width, size: columnChunk)) { block in
            let start = block * columnChunk, end = min(width, start + columnChunk)
            for r in 0..<rows {
                let dst = dTable + Int(ids[r]) * width, src = dOutput + r * width
                for i in start..<end { dst[i] += scale * src[i] }
            }
        }
    }
}
