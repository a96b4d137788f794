import Model

/// One vocabulary design of the paper's comparison, in one type (one file under `Designs/`): its spelling and
/// settings, how a sentence becomes model inputs and training targets, the input layer and head the model needs,
/// how a sampled class becomes the next input token, and how the head's output is scored per character.
/// Everything else (the tokenizer, the runner, the evaluation, the command line) asks the design; none of it
/// knows which designs exist. To add one: a new file with a type conforming to `Design`, and one entry in
/// `VocabularyDesign`'s list of this module's designs (from another module: `VocabularyDesign.register`). A design
/// with an input layer of its own returns it from `inputLayer` (see `InputLayer` in the Model module).
///
/// Base ids, shared by the character-level designs: terminals `0..<V`, then BOS = V and EOS = V + 1 (a sentence is
/// `BOS s_0 ... s_{L-1} EOS`). A target is -1 where there is none (at EOS and on padding). Sizes are `Double`s so
/// that absurd ones (V^n for large V and n) can be refused before anything is sized.
public protocol Design: Sendable {
    /// The family in the spelling: what follows "Ngram-" ("in", "out", ...), or the whole name of a design
    /// without an order ("1gram").
    static var family: String { get }
    /// Whether the spelling carries an order N (`3gram-in`) or is the family alone (`1gram`).
    static var hasOrder: Bool { get }
    /// What the settings after `@` are, for help texts ("Ngram-hin@m=M,k=K (hashed)"), or nil without settings.
    static var settingsHelp: String? { get }
    /// Makes the design of order `order` (1 without one) from the settings after `@` (`m=97,k=2`: [("m", "97"),
    /// ("k", "2")]); the error says what is wrong.
    init(order: Int, settings: [(key: String, value: String)]) throws

    /// The order N (1 for `1gram`).
    var order: Int { get }
    /// The settings after `@`, canonical ("m=97,k=2"), or nil.
    var settingsSpelling: String? { get }

    /// Token ids the model reads, and classes of its main head, over `alphabet` terminals.
    func inputVocabulary(alphabet: Int) -> Double
    func classes(alphabet: Int) -> Double
    /// The model's input layer.
    var inputLayer: any InputLayer { get }
    /// Loss weights of the heads: one (the main head) unless the design predicts several tokens ahead.
    var predictionWeights: [Float] { get }

    /// One sentence as model inputs and targets (the same length), and its characters (terminals + EOS).
    func encode(_ sentence: [Int], alphabet: Int) -> (inputs: [Int32], targets: [Int32], characters: Int)
    /// The ids of BOS and of the padding after a window's last sentence, in the input vocabulary.
    func inputBOS(alphabet: Int) -> Int32
    func inputPadding(alphabet: Int) -> Int32

    /// The next input token after sampling class `c` of the main head.
    func nextInputToken(forClass c: Int, alphabet: Int) -> Int32
    /// Whether a generated input token ends the sentence.
    func isEnd(_ token: Int32, alphabet: Int) -> Bool
    /// The terminals of generated tokens (everything before the end token), and whether the end token came; a
    /// malformed generation (a BOS in the middle) does not end.
    func decode(_ tokens: [Int32], alphabet: Int) -> (sentence: [Int], ended: Bool)
    /// The characters class `c` predicts next: terminals, then EOS (V + 1) if the class says the sentence ends
    /// there (empty for a class that is never a target, such as BOS).
    func characters(ofClass c: Int, alphabet: Int) -> [Int32]

    /// Natural-log loss summed over the positions with a target, per character: from the main head's logits
    /// (`rows x classes`) and per-position cross-entropy of a forward pass.
    func nats(logits: UnsafeBufferPointer<Float>, positionLosses: UnsafeBufferPointer<Float>, targets: [Int32],
              alphabet: Int) -> Double
}

extension Design {
    public static var settingsHelp: String? { nil }
    public var settingsSpelling: String? { nil }
    public var inputLayer: any InputLayer { TokenEmbedding() }
    public var predictionWeights: [Float] { [1] }

    /// The spelling, as on the command line and in the CSV.
    public var spelling: String {
        (Self.hasOrder ? "\(order)gram-\(Self.family)" : Self.family) + (settingsSpelling.map { "@" + $0 } ?? "")
    }

    /// The cross-entropy of the main head: one character per position.
    public func nats(logits: UnsafeBufferPointer<Float>, positionLosses: UnsafeBufferPointer<Float>, targets: [Int32],
                     alphabet: Int) -> Double {
        var total = 0.0
        for (r, target) in targets.enumerated() where target >= 0 { total += Double(positionLosses[r]) }
        return total
    }
}

/// A design whose model reads and predicts base ids, one character per position (1gram and the n-gram input and
/// multi-token designs): only its input layer or heads differ.
public protocol CharacterLevelDesign: Design {}

extension CharacterLevelDesign {
    public func inputVocabulary(alphabet: Int) -> Double { Double(alphabet + 2) }
    public func classes(alphabet: Int) -> Double { Double(alphabet + 2) }
    public func inputBOS(alphabet: Int) -> Int32 { Int32(alphabet) }
    public func inputPadding(alphabet: Int) -> Int32 { Int32(alphabet + 1) }

    public func encode(_ sentence: [Int], alphabet: Int) -> (inputs: [Int32], targets: [Int32], characters: Int) {
        let inputs = BaseIDs.sentence(sentence, alphabet: alphabet)
        var targets = Array(inputs.dropFirst())
        targets.append(-1)
        return (inputs, targets, sentence.count + 1)
    }

    public func nextInputToken(forClass c: Int, alphabet: Int) -> Int32 { Int32(c) }
    public func isEnd(_ token: Int32, alphabet: Int) -> Bool { token == Int32(alphabet + 1) }
    public func decode(_ tokens: [Int32], alphabet: Int) -> (sentence: [Int], ended: Bool) { BaseIDs.decode(tokens, alphabet: alphabet) }

    public func characters(ofClass c: Int, alphabet: Int) -> [Int32] { c == alphabet ? [] : [Int32(c)] }
}

/// The base ids and the id arithmetic the designs share.
public enum BaseIDs {
    /// `BOS s_0 ... s_{L-1} EOS`.
    public static func sentence(_ sentence: [Int], alphabet: Int) -> [Int32] {
        var ids: [Int32] = [Int32(alphabet)]
        ids.append(contentsOf: sentence.map { Int32($0) })
        ids.append(Int32(alphabet + 1))
        return ids
    }

    /// The terminals of generated base ids before EOS, and whether EOS came (a BOS in the middle: malformed).
    public static func decode(_ tokens: [Int32], alphabet: Int) -> (sentence: [Int], ended: Bool) {
        var sentence: [Int] = []
        for token in tokens {
            if token == Int32(alphabet + 1) { return (sentence, true) }
            guard token < Int32(alphabet) else { return (sentence, false) }
            sentence.append(Int(token))
        }
        return (sentence, false)
    }

    /// The base-V number of `symbols`, first symbol most significant.
    static func value(_ symbols: ArraySlice<Int>, _ v: Int) -> Int { symbols.reduce(0) { $0 * v + $1 } }

    /// The `length` base-V digits of `value`, most significant first.
    static func digits(_ value: Int, _ v: Int, _ length: Int) -> [Int] {
        var out = [Int](repeating: 0, count: length)
        var rest = value
        for i in stride(from: length - 1, through: 0, by: -1) {
            out[i] = rest % v
            rest /= v
        }
        return out
    }
}
