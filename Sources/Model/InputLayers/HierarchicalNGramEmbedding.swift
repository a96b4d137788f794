import Kernels

/// The sum of the token table and the exact 2..N-gram tables (`wte`, `ngram.2` ... `ngram.N`): the paper's
/// hierarchical n-gram input (its App. B.2 ablation).
public struct HierarchicalNGramEmbedding: InputLayer {
    static let name = "hierarchical"
    public let order: Int

    public init(order: Int) { self.order = order }

    public var specification: InputLayerSpecification {
        InputLayerSpecification(HierarchicalNGramEmbedding.name, [.init("n", order)])
    }

    public func problems(_ shape: InputShape) -> [String] { order < 2 ? ["n-gram order must be at least 2"] : [] }

    public func tables(_ shape: InputShape) -> [TableSize] {
        [TableSize(name: "the token embedding", rows: Double(shape.vocabulary), columns: Double(shape.width), advice: "")]
            + (2...max(2, order)).map { NGramID.exactTable(order: $0, shape) }
    }

    public func tensors(_ shape: InputShape) -> [InputTensor] {
        [InputTensor(name: "wte", shape: [shape.vocabulary, shape.width], isEmbedding: true)]
            + (2...order).map { k in
                InputTensor(name: "ngram.\(k)", shape: [NGramID.exactRows(order: k, vocabulary: shape.vocabulary), shape.width],
                            isEmbedding: true)
            }
    }

    /// The rows' k-gram ids for k = 2...N, kept for the backward pass.
    public func workspace(rows: Int, _ shape: InputShape) -> InputWorkspace.Size {
        InputWorkspace.Size(ints: Array(repeating: rows, count: order - 1))
    }

    public func forward(
        x: UnsafeMutablePointer<Float>, rows: Int, tokens: UnsafePointer<Int32>, sequences: TokenSequences,
        weights: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?) {
        let d = shape.width
        Embedding.gather(output: x, table: weights[0], ids: tokens, rows: rows, width: d, accumulate: false, pool: pool)
        for k in 2...order {
            let ids = workspace.ints[k - 2]
            NGramID.fill(ids, order: k, rows: rows, sequences: sequences, vocabulary: shape.vocabulary)
            Embedding.gather(output: x, table: weights[k - 1], ids: ids, rows: rows, width: d, accumulate: true, pool: pool)
        }
    }

    public func backward(dx: UnsafePointer<Float>, rows: Int, tokens: UnsafePointer<Int32>, weights: [UnsafeMutablePointer<Float>],
                         gradients: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?) {
        let d = shape.width
        Embedding.scatterAdd(dTable: gradients[0], dOutput: dx, ids: tokens, rows: rows, width: d, pool: pool)
        for k in 2...order {
            Embedding.scatterAdd(dTable: gradients[k - 1], dOutput: dx, ids: workspace.ints[k - 2], rows: rows, width: d, pool: pool)
        }
    }
}
