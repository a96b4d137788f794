/// A vocabulary design over a grammar's alphabet: what the window packer, the evaluation and the sampler use to
/// turn sentences into model tokens and targets and generated tokens back into sentences. Every answer comes from
/// the design (`Design`); this type only binds it to the alphabet.
public struct Tokenizer: Sendable {
    public let design: VocabularyDesign
    /// Terminals of the grammar (V).
    public let alphabet: Int

    public init(design: VocabularyDesign, alphabet: Int) {
        self.design = design
        self.alphabet = alphabet
    }

    /// Token ids the model reads, and classes of its main head.
    public var inputVocabulary: Int { Int(design.definition.inputVocabulary(alphabet: alphabet)) }
    public var classes: Int { Int(design.definition.classes(alphabet: alphabet)) }

    /// The ids of BOS and of the padding after a window's last sentence, in the model's input vocabulary.
    public var inputBOS: Int32 { design.definition.inputBOS(alphabet: alphabet) }
    public var inputPadding: Int32 { design.definition.inputPadding(alphabet: alphabet) }

    /// One sentence as model inputs and targets (same length), and its characters (terminals + EOS).
    public func encode(_ sentence: [Int]) -> (inputs: [Int32], targets: [Int32], characters: Int) {
        design.definition.encode(sentence, alphabet: alphabet)
    }

    /// The next input token after sampling class `c`.
    public func nextInputToken(forClass c: Int) -> Int32 { design.definition.nextInputToken(forClass: c, alphabet: alphabet) }

    /// Whether a generated input token ends the sentence.
    public func isEnd(_ token: Int32) -> Bool { design.definition.isEnd(token, alphabet: alphabet) }

    /// The terminals of generated tokens, and whether the end token came.
    public func decode(_ tokens: [Int32]) -> (sentence: [Int], ended: Bool) { design.definition.decode(tokens, alphabet: alphabet) }

    /// The characters class `c` predicts next (terminals, then EOS = V + 1 if the sentence ends there).
    public func characters(ofClass c: Int) -> [Int32] { design.definition.characters(ofClass: c, alphabet: alphabet) }

    /// Nats summed over the positions with a target (see `Design.nats`).
    public func nats(logits: UnsafeBufferPointer<Float>, positionLosses: UnsafeBufferPointer<Float>, targets: [Int32]) -> Double {
        design.definition.nats(logits: logits, positionLosses: positionLosses, targets: targets, alphabet: alphabet)
    }
}
