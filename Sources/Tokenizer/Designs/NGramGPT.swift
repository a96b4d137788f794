import Model
/// `Ngram-gpt`: the text cut into N-character chunks from its start (the last may be shorter), on both sides. Ids:
/// BOS = 0, EOS = 1, then every chunk of 1...N terminals (`2 + sum_{i=1..N} V^i` in all). The sequence is N times
/// shorter; windows are still measured in characters, so every design sees the same sentences in the same windows.
public struct NGramGPT: Design {
    public static let family = "gpt"
    public static let hasOrder = true
    public let order: Int

    public init(order: Int, settings: [(key: String, value: String)]) throws {
        guard settings.isEmpty else { throw VocabularyDesign.ParseError("Ngram-gpt takes no settings") }
        self.order = order
    }

    public func inputVocabulary(alphabet: Int) -> Double {
        2 + (1...order).reduce(0.0) { $0 + IntegerPower.of(Double(alphabet), $1) }
    }
    public func classes(alphabet: Int) -> Double { inputVocabulary(alphabet: alphabet) }
    public func inputBOS(alphabet: Int) -> Int32 { 0 }
    public func inputPadding(alphabet: Int) -> Int32 { 1 }

    /// Chunks of `length` terminals start after the shorter ones: `2 + sum_{i < length} V^i`.
    private func offset(_ length: Int, _ v: Int) -> Int { 2 + (1..<max(1, length)).reduce(0) { $0 + IntegerPower.of(v, $1) } }

    public func encode(_ sentence: [Int], alphabet v: Int) -> (inputs: [Int32], targets: [Int32], characters: Int) {
        var inputs: [Int32] = [0]
        var start = 0
        while start < sentence.count {
            let chunk = sentence[start..<min(sentence.count, start + order)]
            inputs.append(Int32(offset(chunk.count, v) + BaseIDs.value(chunk, v)))
            start += order
        }
        inputs.append(1)
        var targets = Array(inputs.dropFirst())
        targets.append(-1)
        return (inputs, targets, sentence.count + 1)
    }

    /// The terminals of a chunk token (>= 2).
    func chunk(_ token: Int32, alphabet v: Int) -> [Int] {
        var rest = Int(token) - 2
        for length in 1...order {
            let size = IntegerPower.of(v, length)
            if rest < size { return BaseIDs.digits(rest, v, length) }
            rest -= size
        }
        return []
    }

    public func nextInputToken(forClass c: Int, alphabet: Int) -> Int32 { Int32(c) }
    public func isEnd(_ token: Int32, alphabet: Int) -> Bool { token == 1 }

    public func decode(_ tokens: [Int32], alphabet: Int) -> (sentence: [Int], ended: Bool) {
        var sentence: [Int] = []
        for token in tokens {
            if token == 1 { return (sentence, true) }
            guard token >= 2 else { return (sentence, false) }  // a BOS in the middle: malformed
            sentence.append(contentsOf: chunk(token, alphabet: alphabet))
        }
        return (sentence, false)
    }

    /// A full chunk's terminals; a shorter chunk only ends a sentence, so EOS follows it; class 1 is EOS alone.
    public func characters(ofClass c: Int, alphabet: Int) -> [Int32] {
        if c == 0 { return [] }
        if c == 1 { return [Int32(alphabet + 1)] }
        let terminals = chunk(Int32(c), alphabet: alphabet).map { Int32($0) }
        return terminals.count == order ? terminals : terminals + [Int32(alphabet + 1)]
    }
}
