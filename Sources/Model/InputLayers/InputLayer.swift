import Foundation
import Kernels

/// How a position's input vector is built from the token window: the first layer of the model, before positions
/// and blocks. Each kind is one type in one file of this folder (the token table, exact n-gram tables, hierarchical
/// n-gram tables, hashed Over-Encoding tables), and the model knows them only through this protocol: it asks a layer
/// for its tensors, the buffers it keeps between its passes and its size limits, and calls its forward pass (in
/// training, evaluation and KV-cached sampling alike) and its backward pass. A new kind is a new conforming type,
/// registered under its name with ``InputLayers/register(_:_:)`` (from any module, a test included).
///
/// Layers are values: their settings, nothing else. The vocabulary and width come with every call (`InputShape`).
public protocol InputLayer: Sendable {
    /// The layer as configurations and checkpoints write it: its registered name and integer settings.
    var specification: InputLayerSpecification { get }

    /// What makes the layer unusable for `shape` (its settings), checked before anything is sized.
    func problems(_ shape: InputShape) -> [String]
    /// Its tables as (rows, columns), counted in floating point so that no vocabulary, however absurd, can overflow
    /// before it is refused: each is checked against ``GPTConfig/maximumTableParameters``.
    func tables(_ shape: InputShape) -> [TableSize]
    /// Its parameter tensors in arena order (checkpoints and `tools/torch_reference.py` share the names and the
    /// order; the initialisation draws follow it). Asked only once ``problems(_:)`` and ``tables(_:)`` pass.
    func tensors(_ shape: InputShape) -> [InputTensor]
    /// The buffers its forward pass fills for its backward pass, and its scratch, for `rows` rows.
    func workspace(rows: Int, _ shape: InputShape) -> InputWorkspace.Size

    /// Writes the input vector of every row to `x` (`[rows, width]`). `tokens` holds each row's current token,
    /// `sequences` where every row's earlier tokens are (for n-grams); `weights` are its tensors, in
    /// ``tensors(_:)``'s order.
    func forward(
        x: UnsafeMutablePointer<Float>, rows: Int, tokens: UnsafePointer<Int32>, sequences: TokenSequences,
        weights: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?)
    /// Accumulates the gradients of its tensors from `dx` (`[rows, width]`), after a forward pass over the same
    /// rows with the same workspace.
    func backward(dx: UnsafePointer<Float>, rows: Int, tokens: UnsafePointer<Int32>, weights: [UnsafeMutablePointer<Float>],
                  gradients: [UnsafeMutablePointer<Float>], workspace: InputWorkspace, shape: InputShape, pool: WorkerPool?)
}

/// What an input layer's sizes depend on besides its settings.
public struct InputShape: Equatable, Sendable {
    /// Token ids the model reads (0..<vocabulary).
    public let vocabulary: Int
    /// The model's width.
    public let width: Int

    public init(vocabulary: Int, width: Int) {
        self.vocabulary = vocabulary
        self.width = width
    }
}

/// One parameter tensor of an input layer.
public struct InputTensor: Sendable {
    public let name: String
    public let shape: [Int]
    /// GPT-2 initialisation: N(0, std).
    public let initStd: Float
    /// Whether it is an embedding table (not counted among the paper's non-embedding parameters); a projection
    /// is not one.
    public let isEmbedding: Bool

    public init(name: String, shape: [Int], initStd: Float = 0.02, isEmbedding: Bool) {
        self.name = name
        self.shape = shape
        self.initStd = initStd
        self.isEmbedding = isEmbedding
    }
}

/// A table's size, for the engine's limit on one table (in floating point; `advice` ends the refusal).
public struct TableSize: Sendable {
    public let name: String
    public let rows: Double
    public let columns: Double
    public let advice: String

    public init(name: String, rows: Double, columns: Double, advice: String) {
        self.name = name
        self.rows = rows
        self.columns = columns
        self.advice = advice
    }
}

/// The buffers an input layer keeps from its forward pass to its backward pass (ids of the rows' n-grams, say),
/// and its scratch: carved from the model's activation arena (training) or the sampler's (sampling).
public struct InputWorkspace {
    /// How many of each: `ints[i]` and `floats[i]` are the lengths of the i-th buffers.
    public struct Size: Equatable, Sendable {
        public var ints: [Int]
        public var floats: [Int]
        public var scratch: Int

        public init(ints: [Int] = [], floats: [Int] = [], scratch: Int = 0) {
            self.ints = ints
            self.floats = floats
            self.scratch = scratch
        }
    }

    public let ints: [UnsafeMutablePointer<Int32>]
    public let floats: [UnsafeMutablePointer<Float>]
    public let scratch: UnsafeMutablePointer<Float>

    /// Carves a workspace of `size` with the arena's allocators (called in this order: ints, floats, scratch).
    init(_ size: Size, floats take: (Int) -> UnsafeMutablePointer<Float>, ints takeInts: (Int) -> UnsafeMutablePointer<Int32>) {
        ints = size.ints.map(takeInts)
        floats = size.floats.map(take)
        scratch = take(size.scratch)
    }
}

/// Which token is where, for an input layer: training reads whole windows (row r is position r % seq of window
/// r / seq), the sampler one position of every sequence (row r is sequence r at the current position). One concrete
/// type, so that an input layer's loops over rows inline these lookups.
public struct TokenSequences {
    private let tokens: UnsafePointer<Int32>
    /// Windows: the window length; sampling: the slots per sequence in the history.
    private let stride: Int
    /// Sampling: the position of every row; nil for windows.
    private let fixedPosition: Int?

    /// Training and evaluation: `tokens` holds windows of `seq` tokens.
    static func windows(_ tokens: UnsafePointer<Int32>, seq: Int) -> TokenSequences {
        TokenSequences(tokens: tokens, stride: seq, fixedPosition: nil)
    }

    /// Sampling: `history` holds each sequence's tokens in `stride` slots; every row is at `position`.
    static func history(_ history: UnsafePointer<Int32>, stride: Int, position: Int) -> TokenSequences {
        TokenSequences(tokens: history, stride: stride, fixedPosition: position)
    }

    /// The position of row `r` in its sequence (its n-grams look back from there).
    @inline(__always) public func position(ofRow r: Int) -> Int { fixedPosition ?? r % stride }

    /// The token at `position` (0...`position(ofRow: r)`) of row `r`'s sequence.
    @inline(__always) public func token(ofRow r: Int, at position: Int) -> Int32 {
        fixedPosition == nil ? tokens[r - r % stride + position] : tokens[r * stride + position]
    }
}

/// An input layer as configurations and checkpoints write it: `{"NAME":{"SETTING":VALUE,...}}`, its integer
/// settings in the layer's own order (the form the checkpoints of earlier versions hold, e.g. `{"token":{}}`,
/// `{"ngram":{"n":3}}`, `{"hashed":{"n":3,"rows":97,"slices":2}}`).
public struct InputLayerSpecification: Codable, Equatable, Sendable, CustomStringConvertible {
    public let name: String
    public let settings: [Setting]

    public struct Setting: Equatable, Sendable {
        public let key: String
        public let value: Int
        public init(_ key: String, _ value: Int) {
            self.key = key
            self.value = value
        }
    }

    public init(_ name: String, _ settings: [Setting] = []) {
        self.name = name
        self.settings = settings
    }

    /// The value of setting `key`.
    public subscript(key: String) -> Int? { settings.first { $0.key == key }?.value }

    public var description: String {
        settings.isEmpty ? name : "\(name)(\(settings.map { "\($0.key): \($0.value)" }.joined(separator: ", ")))"
    }

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let outer = try decoder.container(keyedBy: Key.self)
        guard outer.allKeys.count == 1, let key = outer.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "an input layer is written {\"NAME\":{...}}"))
        }
        let inner = try outer.nestedContainer(keyedBy: Key.self, forKey: key)
        // JSON objects have no order: the settings are read in the order of their keys, sorted.
        name = key.stringValue
        settings = try inner.allKeys.map(\.stringValue).sorted().map { Setting($0, try inner.decode(Int.self, forKey: Key(stringValue: $0))) }
    }

    public func encode(to encoder: Encoder) throws {
        var outer = encoder.container(keyedBy: Key.self)
        var inner = outer.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: name))
        for setting in settings { try inner.encode(setting.value, forKey: Key(stringValue: setting.key)) }
    }

    /// Equal when the name and every setting agree, in any order.
    public static func == (a: InputLayerSpecification, b: InputLayerSpecification) -> Bool {
        a.name == b.name && a.settings.sorted { $0.key < $1.key } == b.settings.sorted { $0.key < $1.key }
    }
}

/// The registry of input layers by name, for reading configurations and checkpoints. The kinds of this module are
/// registered from the start; another module adds its own with ``register(_:_:)``.
public enum InputLayers {
    public typealias Maker = @Sendable (InputLayerSpecification) throws -> any InputLayer

    public struct UnknownLayer: Error, CustomStringConvertible {
        public let description: String
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var makers: [String: Maker] = [
        TokenEmbedding.name: { _ in TokenEmbedding() },
        NGramEmbedding.name: { try NGramEmbedding(order: setting($0, "n")) },
        HierarchicalNGramEmbedding.name: { try HierarchicalNGramEmbedding(order: setting($0, "n")) },
        HashedNGramEmbedding.name: {
            try HashedNGramEmbedding(order: setting($0, "n"), rows: setting($0, "rows"), slices: setting($0, "slices"))
        },
    ]

    /// Registers (or replaces) the maker of the input layer named `name`.
    public static func register(_ name: String, _ make: @escaping Maker) {
        lock.lock()
        defer { lock.unlock() }
        makers[name] = make
    }

    /// The layer a specification names.
    public static func make(_ specification: InputLayerSpecification) throws -> any InputLayer {
        lock.lock()
        let maker = makers[specification.name]
        let known = makers.keys.sorted()
        lock.unlock()
        guard let maker else {
            throw UnknownLayer(description: "unknown input layer '\(specification.name)' (known: \(known.joined(separator: ", ")))")
        }
        return try maker(specification)
    }

    /// A setting a layer needs.
    public static func setting(_ specification: InputLayerSpecification, _ key: String) throws -> Int {
        guard let value = specification[key] else {
            throw UnknownLayer(description: "the input layer '\(specification.name)' needs the setting '\(key)'")
        }
        return value
    }
}
