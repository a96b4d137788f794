import Kernels

/// Over-Encoding (Huang et al., their Algorithm 1): the token table plus hashed 2..N-gram tables. The k-gram id is
/// reduced modulo `rows + 2i` (a slightly different prime-ish row count per table, so that collisions differ), each
/// order is split into `slices` tables of width d/slices (`oe.K.S.table`) with a projection back to d
/// (`oe.K.S.proj`), and the sum is divided by 1 + slices (N - 1).
public struct HashedNGramEmbedding: InputLayer {
    static let name = "hashed"
    public let order: Int
    /// m: the base row count of the hashed tables.
    public let rows: Int
    public let slices: Int

    public init(order: Int, rows: Int, slices: Int) {
        self.order = order
        self.rows = rows
        self.slices = slices
    }

    public var specification: InputLayerSpecification {
        InputLayerSpecification(HashedNGramEmbedding.name, [.init("n", order), .init("rows", rows), .init("slices", slices)])
    }

    /// Over-Encoding's normalisation: the sum of the token embedding and the (n - 1) x slices hashed ones is
    /// divided by 1 + slices (n - 1).
    var scale: Float { 1 / Float(1 + slices * (order - 1)) }

    /// Rows of the hashed table for order k (2...n) and slice s.
    public func tableRows(order k: Int, slice s: Int) -> Int { rows + 2 * ((k - 2) * slices + s) }

    /// The hashed tables, order by order, slice by slice.
    private var tableCount: Int { (order - 1) * slices }

    public func problems(_ shape: InputShape) -> [String] {
        order < 2 || rows < 1 || slices < 1 || shape.width % slices != 0
            ? ["hashed input needs n >= 2, rows >= 1 and width divisible by slices"] : []
    }

    public func tables(_ shape: InputShape) -> [TableSize] {
        [TableSize(name: "the token embedding", rows: Double(shape.vocabulary), columns: Double(shape.width), advice: ""),
         TableSize(name: "the largest hashed table (m = \(rows))", rows: Double(rows) + 2 * Double(tableCount - 1),
                   columns: Double(shape.width) / Double(slices), advice: ": use a smaller m")]
    }

    public func tensors(_ shape: InputShape) -> [InputTensor] {
        let d = shape.width, w = d / slices
        var tensors = [InputTensor(name: "wte", shape: [shape.vocabulary, d], isEmbedding: true)]
        for k in 2...order {
            for s in 0..<slices {
                tensors.append(InputTensor(name: "oe.\(k).\(s).table", shape: [tableRows(order: k, slice: s), w], isEmbedding: true))
                tensors.append(InputTensor(name: "oe.\(k).\(s).proj", shape: [d, w], isEmbedding: false))
            }
        }
        return tensors
    }

    /// Per hashed table: the rows' ids and their slice embeddings, kept for the backward pass; scratch for one
    /// projection's output (`rows x width`) or its weight gradient (`width x d/slices`).
    public func workspace(rows count: Int, _ shape: InputShape) -> InputWorkspace.Size {
        let d = shape.width, w = d / slices
        return InputWorkspace.Size(ints: Array(repeating: count, count: tableCount),
                                   floats: Array(repeating: count * w, count: tableCount), scratch: max(count * d, d * max(1, w)))
    }

    public func forward(
        x: UnsafeMutablePointer<Float>, rows n: Int, tokens: UnsafePointer<Int32>, sequences: TokenSequences,
        weights: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?) {
        let d = shape.width, w = d / slices, scale = self.scale, scratch = workspace.scratch
        Embedding.gather(output: x, table: weights[0], ids: tokens, rows: n, width: d, scale: scale, accumulate: false, pool: pool)
        var i = 0
        for k in 2...order {
            for s in 0..<slices {
                let ids = workspace.ints[i], slice = workspace.floats[i]
                NGramID.fill(ids, order: k, rows: n, sequences: sequences, vocabulary: shape.vocabulary,
                             modulo: tableRows(order: k, slice: s))
                Embedding.gather(output: slice, table: weights[1 + 2 * i], ids: ids, rows: n, width: w, accumulate: false, pool: pool)
                // x += scale * slice proj^T  (the projection is linear, so the scale goes on its output)
                MatrixMultiply.multiply(m: n, n: d, k: w, a: slice, lda: w, transposeA: false, b: weights[2 + 2 * i], ldb: w,
                                        transposeB: true, c: scratch, ldc: d, accumulate: false, pool: pool)
                for e in 0..<(n * d) { x[e] += scale * scratch[e] }
                i += 1
            }
        }
    }

    public func backward(dx: UnsafePointer<Float>, rows n: Int, tokens: UnsafePointer<Int32>, weights: [UnsafeMutablePointer<Float>],
                         gradients: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?) {
        let d = shape.width, w = d / slices, scale = self.scale, scratch = workspace.scratch
        Embedding.scatterAdd(dTable: gradients[0], dOutput: dx, ids: tokens, rows: n, width: d, scale: scale, pool: pool)
        for i in 0..<tableCount {
            // slice -> x through scale * proj: dProj += scale dx^T slice; dSlice = scale dx proj
            MatrixMultiply.multiply(m: d, n: w, k: n, a: dx, lda: d, transposeA: true, b: workspace.floats[i], ldb: w,
                                    transposeB: false, c: scratch, ldc: w, accumulate: false, pool: pool)
            let dProjection = gradients[2 + 2 * i]
            for e in 0..<(d * w) { dProjection[e] += scale * scratch[e] }
            MatrixMultiply.multiply(m: n, n: w, k: d, a: dx, lda: d, transposeA: false, b: weights[2 + 2 * i], ldb: w,
                                    transposeB: false, c: scratch, ldc: w, accumulate: false, pool: pool)
            Embedding.scatterAdd(dTable: gradients[1 + 2 * i], dOutput: scratch, ids: workspace.ints[i], rows: n, width: w,
                                 scale: scale, pool: pool)
        }
    }
}
