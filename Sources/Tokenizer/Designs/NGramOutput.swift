import Model
import Foundation

/// `Ngram-out`: character input; the class at position i is the joint gram of the next N characters of
/// `s EOS`: N terminals, or j < N terminals followed by EOS (`V^N + sum_{j<N} V^j` classes). Sampling keeps the
/// first character of the sampled gram; the loss per character is the marginal of the joint over the grams that
/// start with the actual next character.
public struct NGramOutput: Design {
    public static let family = "out"
    public static let hasOrder = true
    public let order: Int

    public init(order: Int, settings: [(key: String, value: String)]) throws {
        guard settings.isEmpty else { throw VocabularyDesign.ParseError("Ngram-out takes no settings") }
        self.order = order
    }

    public func inputVocabulary(alphabet: Int) -> Double { Double(alphabet + 2) }
    public func classes(alphabet: Int) -> Double {
        IntegerPower.of(Double(alphabet), order) + (0..<order).reduce(0.0) { $0 + IntegerPower.of(Double(alphabet), $1) }
    }
    public func inputBOS(alphabet: Int) -> Int32 { Int32(alphabet) }
    public func inputPadding(alphabet: Int) -> Int32 { Int32(alphabet + 1) }

    public func encode(_ sentence: [Int], alphabet v: Int) -> (inputs: [Int32], targets: [Int32], characters: Int) {
        let inputs = BaseIDs.sentence(sentence, alphabet: v)
        var targets: [Int32] = []
        for i in 0...sentence.count {
            let gram = sentence[i..<min(sentence.count, i + order)]
            targets.append(Int32(classOf(gram, alphabet: v)))
        }
        targets.append(-1)
        return (inputs, targets, sentence.count + 1)
    }

    /// The class of a gram of up to N terminals: N terminals, or fewer followed by EOS.
    func classOf(_ gram: ArraySlice<Int>, alphabet v: Int) -> Int {
        if gram.count == order { return BaseIDs.value(gram, v) }
        return IntegerPower.of(v, order) + (0..<gram.count).reduce(0) { $0 + IntegerPower.of(v, $1) } + BaseIDs.value(gram, v)
    }

    /// The characters of a class: terminals, then EOS (V + 1) if it ends the sentence.
    public func characters(ofClass c: Int, alphabet v: Int) -> [Int32] {
        if c < IntegerPower.of(v, order) { return BaseIDs.digits(c, v, order).map { Int32($0) } }
        var rest = c - IntegerPower.of(v, order)
        for length in 0..<order {
            let size = IntegerPower.of(v, length)
            if rest < size { return BaseIDs.digits(rest, v, length).map { Int32($0) } + [Int32(v + 1)] }
            rest -= size
        }
        return []
    }

    /// The first character of a class (EOS for a gram that starts with it).
    func firstCharacter(ofClass c: Int, alphabet v: Int) -> Int32 {
        c < IntegerPower.of(v, order) ? Int32(c / IntegerPower.of(v, order - 1)) : characters(ofClass: c, alphabet: v)[0]
    }

    public func nextInputToken(forClass c: Int, alphabet: Int) -> Int32 { firstCharacter(ofClass: c, alphabet: alphabet) }
    public func isEnd(_ token: Int32, alphabet: Int) -> Bool { token == Int32(alphabet + 1) }
    public func decode(_ tokens: [Int32], alphabet: Int) -> (sentence: [Int], ended: Bool) { BaseIDs.decode(tokens, alphabet: alphabet) }

    /// -log of the marginal of the joint over the grams that start with the actual next character.
    public func nats(logits: UnsafeBufferPointer<Float>, positionLosses: UnsafeBufferPointer<Float>, targets: [Int32],
                     alphabet: Int) -> Double {
        let classes = Int(self.classes(alphabet: alphabet))
        let first = (0..<classes).map { firstCharacter(ofClass: $0, alphabet: alphabet) }
        var total = 0.0
        for (r, target) in targets.enumerated() where target >= 0 {
            let row = logits.baseAddress! + r * classes
            let wanted = first[Int(target)]
            var maxValue = -Float.infinity
            for c in 0..<classes { maxValue = max(maxValue, row[c]) }
            var all = 0.0, matching = 0.0
            for c in 0..<classes {
                let e = exp(Double(row[c] - maxValue))
                all += e
                if first[c] == wanted { matching += e }
            }
            total += log(all) - log(matching)
        }
        return total
    }
}

