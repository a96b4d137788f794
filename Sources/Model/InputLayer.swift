import Kernels

/// Which token is where, for the input layer: training reads whole windows, the sampler one position per sequence.
protocol TokenSequences {
    /// The position of row `r` in its sequence (its n-grams look back from there).
    func position(ofRow r: Int) -> Int
    /// The token at `position` (0...`position(ofRow: r)`) of row `r`'s sequence.
    func token(ofRow r: Int, at position: Int) -> Int32
}

/// Training and evaluation: row r is position r % seq of window r / seq.
struct TokenWindows: TokenSequences {
    let tokens: UnsafePointer<Int32>
    let seq: Int
    @inline(__always) func position(ofRow r: Int) -> Int { r % seq }
    @inline(__always) func token(ofRow r: Int, at position: Int) -> Int32 { tokens[r - r % seq + position] }
}

/// Sampling: row r is sequence r (of `stride` slots in `history`) at `position`.
struct TokenHistory: TokenSequences {
    let history: UnsafePointer<Int32>
    let stride: Int
    let position: Int
    @inline(__always) func position(ofRow r: Int) -> Int { position }
    @inline(__always) func token(ofRow r: Int, at position: Int) -> Int32 { history[r * stride + position] }
}

/// The input layer, for the forward passes of training and sampling alike and the backward pass of training:
/// the token table, the exact n-gram table(s), or hashed Over-Encoding tables with their projections (see
/// `GPTConfig.InputEmbedding`). Every n-gram id is formed here from the base tokens (`NGramID`).
struct InputLayer {
    let config: GPTConfig

    /// Over-Encoding's normalisation (their Algorithm 1): the sum of the token embedding and the (n - 1) x slices
    /// hashed ones is divided by 1 + slices (n - 1).
    static func overEncodingScale(order n: Int, slices: Int) -> Float { 1 / Float(1 + slices * (n - 1)) }

    /// Tables of ids the layer gathers, one per n-gram table (and hashed slice).
    var idTables: Int {
        switch config.input {
        case .token: return 0
        case .ngram: return 1
        case .hierarchical(let n): return n - 1
        case .hashed(let n, _, let slices): return (n - 1) * slices
        }
    }

    /// Writes the embedding of every row to `x` (`[rows, width]`). `tokens` holds each row's current token;
    /// `ids[i]` receives the ids of table i (kept for the backward pass), `slices[i]` hashed slice i's rows (kept
    /// too; one shared buffer will do when nothing is kept); `scratch` holds `rows x width` floats.
    func forward(x: UnsafeMutablePointer<Float>, rows n: Int, tokens: UnsafePointer<Int32>,
                 sequences: some TokenSequences, tables: ModelTensors.InputTables, ids: [UnsafeMutablePointer<Int32>],
                 slices: [UnsafeMutablePointer<Float>], scratch: UnsafeMutablePointer<Float>, pool: WorkerPool?) {
        let d = config.width
        switch config.input {
        case .token:
            Embedding.gather(output: x, table: tables.token!, ids: tokens, rows: n, width: d, accumulate: false, pool: pool)
        case .ngram(let order):
            fillIDs(order: order, rows: n, sequences: sequences, into: ids[0])
            Embedding.gather(output: x, table: tables.ngram[0], ids: ids[0], rows: n, width: d, accumulate: false, pool: pool)
        case .hierarchical(let order):
            Embedding.gather(output: x, table: tables.token!, ids: tokens, rows: n, width: d, accumulate: false, pool: pool)
            for k in 2...order {
                fillIDs(order: k, rows: n, sequences: sequences, into: ids[k - 2])
                Embedding.gather(output: x, table: tables.ngram[k - 2], ids: ids[k - 2], rows: n, width: d,
                                 accumulate: true, pool: pool)
            }
        case .hashed(let order, let base, let sliceCount):
            let scale = InputLayer.overEncodingScale(order: order, slices: sliceCount)
            Embedding.gather(output: x, table: tables.token!, ids: tokens, rows: n, width: d, scale: scale,
                             accumulate: false, pool: pool)
            let w = d / sliceCount
            var i = 0
            for k in 2...order {
                for s in 0..<sliceCount {
                    let m = ParameterLayout.hashedRows(base: base, order: k, slice: s, slices: sliceCount)
                    fillIDs(order: k, rows: n, sequences: sequences, modulo: m, into: ids[i])
                    Embedding.gather(output: slices[i], table: tables.hashed[i].table, ids: ids[i], rows: n, width: w,
                                     accumulate: false, pool: pool)
                    // x += scale * slice proj^T  (the projection is linear, so the scale goes on its output)
                    MatrixMultiply.multiply(m: n, n: d, k: w, a: slices[i], lda: w, transposeA: false,
                                            b: tables.hashed[i].projection, ldb: w, transposeB: true, c: scratch, ldc: d,
                                            accumulate: false, pool: pool)
                    for e in 0..<(n * d) { x[e] += scale * scratch[e] }
                    i += 1
                }
            }
        }
    }

    /// Accumulates the tables' gradients from `dx` (`[rows, width]`), with the ids and slices the forward pass kept.
    func backward(dx: UnsafePointer<Float>, rows n: Int, tokens: UnsafePointer<Int32>,
                  tables: ModelTensors.InputTables, gradients: ModelTensors.InputTables, ids: [UnsafeMutablePointer<Int32>],
                  slices: [UnsafeMutablePointer<Float>], scratch: UnsafeMutablePointer<Float>, pool: WorkerPool?) {
        let d = config.width
        switch config.input {
        case .token:
            Embedding.scatterAdd(dTable: gradients.token!, dOutput: dx, ids: tokens, rows: n, width: d, pool: pool)
        case .ngram:
            Embedding.scatterAdd(dTable: gradients.ngram[0], dOutput: dx, ids: ids[0], rows: n, width: d, pool: pool)
        case .hierarchical(let order):
            Embedding.scatterAdd(dTable: gradients.token!, dOutput: dx, ids: tokens, rows: n, width: d, pool: pool)
            for k in 2...order {
                Embedding.scatterAdd(dTable: gradients.ngram[k - 2], dOutput: dx, ids: ids[k - 2], rows: n, width: d,
                                     pool: pool)
            }
        case .hashed(let order, _, let sliceCount):
            let scale = InputLayer.overEncodingScale(order: order, slices: sliceCount)
            Embedding.scatterAdd(dTable: gradients.token!, dOutput: dx, ids: tokens, rows: n, width: d, scale: scale,
                                 pool: pool)
            let w = d / sliceCount
            for i in 0..<idTables {
                // slice -> x through scale * proj: dProj += scale dx^T slice; dSlice = scale dx proj
                MatrixMultiply.multiply(m: d, n: w, k: n, a: dx, lda: d, transposeA: true, b: slices[i], ldb: w,
                                        transposeB: false, c: scratch, ldc: w, accumulate: false, pool: pool)
                let dProjection = gradients.hashed[i].projection
                for e in 0..<(d * w) { dProjection[e] += scale * scratch[e] }
                MatrixMultiply.multiply(m: n, n: w, k: d, a: dx, lda: d, transposeA: false, b: tables.hashed[i].projection,
                                        ldb: w, transposeB: false, c: scratch, ldc: w, accumulate: false, pool: pool)
                Embedding.scatterAdd(dTable: gradients.hashed[i].table, dOutput: scratch, ids: ids[i], rows: n, width: w,
                                     scale: scale, pool: pool)
            }
        }
    }

    /// The padded n-gram id of order k at every row (see `NGramID`).
    private func fillIDs(order k: Int, rows n: Int, sequences: some TokenSequences, modulo: Int? = nil,
                         into ids: UnsafeMutablePointer<Int32>) {
        let v = config.vocabulary
        for r in 0..<n {
            ids[r] = NGramID.id(order: k, position: sequences.position(ofRow: r), vocabulary: v, modulo: modulo) {
                sequences.token(ofRow: r, at: $0)
            }
        }
    }
}
