import Kernels

/// The exact n-gram table alone (`ngram.N`): position t embeds the N tokens ending at t (`NGramID`), with one row
/// per possible n-gram, padding included. The paper's n-gram input.
public struct NGramEmbedding: InputLayer {
    static let name = "ngram"
    public let order: Int

    public init(order: Int) { self.order = order }

    public var specification: InputLayerSpecification { InputLayerSpecification(NGramEmbedding.name, [.init("n", order)]) }

    public func problems(_ shape: InputShape) -> [String] { order < 2 ? ["n-gram order must be at least 2"] : [] }

    public func tables(_ shape: InputShape) -> [TableSize] {
        [NGramID.exactTable(order: order, shape)]
    }

    public func tensors(_ shape: InputShape) -> [InputTensor] {
        [InputTensor(name: "ngram.\(order)", shape: [NGramID.exactRows(order: order, vocabulary: shape.vocabulary), shape.width],
                     isEmbedding: true)]
    }

    /// The rows' n-gram ids, kept for the backward pass.
    public func workspace(rows: Int, _ shape: InputShape) -> InputWorkspace.Size { InputWorkspace.Size(ints: [rows]) }

    public func forward(
        x: UnsafeMutablePointer<Float>, rows: Int, tokens: UnsafePointer<Int32>, sequences: TokenSequences,
        weights: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?) {
        NGramID.fill(workspace.ints[0], order: order, rows: rows, sequences: sequences, vocabulary: shape.vocabulary)
        Embedding.gather(output: x, table: weights[0], ids: workspace.ints[0], rows: rows, width: shape.width,
                         accumulate: false, pool: pool)
    }

    public func backward(dx: UnsafePointer<Float>, rows: Int, tokens: UnsafePointer<Int32>, weights: [UnsafeMutablePointer<Float>],
                         gradients: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?) {
        Embedding.scatterAdd(dTable: gradients[0], dOutput: dx, ids: workspace.ints[0], rows: rows, width: shape.width, pool: pool)
    }
}
