import Kernels

/// One row per token (`wte`): the plain 1-gram input of GPT-2.
public struct TokenEmbedding: InputLayer {
    static let name = "token"

    public init() {}

    public var specification: InputLayerSpecification { InputLayerSpecification(TokenEmbedding.name) }

    public func problems(_ shape: InputShape) -> [String] { [] }

    public func tables(_ shape: InputShape) -> [TableSize] {
        [TableSize(name: "the token embedding over \(shape.vocabulary) tokens", rows: Double(shape.vocabulary),
                   columns: Double(shape.width), advice: ": use a smaller n or alphabet")]
    }

    public func tensors(_ shape: InputShape) -> [InputTensor] {
        [InputTensor(name: "wte", shape: [shape.vocabulary, shape.width], isEmbedding: true)]
    }

    public func workspace(rows: Int, _ shape: InputShape) -> InputWorkspace.Size { InputWorkspace.Size() }

    public func forward(
        x: UnsafeMutablePointer<Float>, rows: Int, tokens: UnsafePointer<Int32>, sequences: TokenSequences,
        weights: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?) {
        Embedding.gather(output: x, table: weights[0], ids: tokens, rows: rows, width: shape.width, accumulate: false, pool: pool)
    }

    public func backward(dx: UnsafePointer<Float>, rows: Int, tokens: UnsafePointer<Int32>, weights: [UnsafeMutablePointer<Float>],
                         gradients: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?) {
        Embedding.scatterAdd(dTable: gradients[0], dOutput: dx, ids: tokens, rows: rows, width: shape.width, pool: pool)
    }
}
