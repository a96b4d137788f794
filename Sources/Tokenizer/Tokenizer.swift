/// Turns sentences of a grammar's terminals into the token ids and training targets of one vocabulary design,
/// and generated tokens back into sentences.
///
/// Base ids: terminals `0..<V`, then BOS = V and EOS = V + 1 (a character-level sequence is
/// `BOS s_0 ... s_{L-1} EOS`). Per design:
/// - `1gram`, `Ngram-in`, `Ngram-hin`: inputs and classes are the base ids (V + 2; BOS is never a target). The
///   n-gram ids of the input side are formed inside the model from the base ids.
/// - `Ngram-gpt`: ids BOS = 0, EOS = 1, then every chunk of 1...N terminals (`2 + sum_{i=1..N} V^i` in all); the
///   sentence is cut into chunks of N from its start (the last may be shorter).
/// - `Ngram-out`: inputs are base ids; the class at position i is the joint gram of the next N characters of
///   `s EOS`: N terminals, or j < N terminals followed by EOS (`V^N + sum_{j=0}^{N-1} V^j` classes).
/// Targets are one per input token, -1 where there is none (at EOS and on padding).
public struct Tokenizer: Sendable {
    public let design: VocabularyDesign
    /// Terminals of the grammar (V).
    public let alphabet: Int

    public init(design: VocabularyDesign, alphabet: Int) {
        self.design = design
        self.alphabet = alphabet
        if design.kind == .output {
            var first: [Int32] = []
            for id in 0..<Tokenizer.jointClassCount(alphabet, design.n) {
                first.append(Tokenizer.jointGram(id, alphabet: alphabet, n: design.n).first ?? Int32(alphabet + 1))
            }
            firstCharacter = first
        } else {
            firstCharacter = []
        }
    }

    /// Base ids of the two markers.
    public var bos: Int32 { Int32(alphabet) }
    public var eos: Int32 { Int32(alphabet + 1) }

    /// Token ids the model reads.
    public var inputVocabulary: Int {
        design.kind == .gpt ? Tokenizer.chunkVocabulary(alphabet, design.n) : alphabet + 2
    }

    /// Classes of the model's softmax head.
    public var classes: Int {
        switch design.kind {
        case .gpt: return Tokenizer.chunkVocabulary(alphabet, design.n)
        case .output: return Tokenizer.jointClassCount(alphabet, design.n)
        default: return alphabet + 2
        }
    }

    /// The id of BOS in the model's input vocabulary.
    public var inputBOS: Int32 { design.kind == .gpt ? 0 : bos }
    /// The id the model's input uses for padding after the last sentence of a window.
    public var inputPadding: Int32 { design.kind == .gpt ? 1 : eos }

    /// The input vocabulary and class count of `design` over `alphabet` terminals, computed in floating point so
    /// that a design too large to build can be refused before any table is sized (the integer counts overflow for
    /// large alphabets: V^n).
    public static func sizes(design: VocabularyDesign, alphabet: Int) -> (inputVocabulary: Double, classes: Double) {
        let v = Double(alphabet), n = design.n
        func power(_ e: Int) -> Double { (0..<e).reduce(1.0) { x, _ in x * v } }
        let chunks = 2 + (1...max(1, n)).reduce(0.0) { $0 + power($1) }
        switch design.kind {
        case .gpt: return (chunks, chunks)
        case .output: return (v + 2, power(n) + (0..<n).reduce(0.0) { $0 + power($1) })
        default: return (v + 2, v + 2)
        }
    }

    public static func chunkVocabulary(_ v: Int, _ n: Int) -> Int { 2 + (1...n).reduce(0) { $0 + power(v, $1) } }
    public static func jointClassCount(_ v: Int, _ n: Int) -> Int { power(v, n) + (0..<n).reduce(0) { $0 + power(v, $1) } }

    /// One sentence as model inputs and targets (same length), and its characters (terminals + EOS).
    public func encode(_ sentence: [Int]) -> (inputs: [Int32], targets: [Int32], characters: Int) {
        let v = alphabet
        switch design.kind {
        case .gpt:
            var inputs: [Int32] = [0]
            var start = 0
            while start < sentence.count {
                let chunk = Array(sentence[start..<min(sentence.count, start + design.n)])
                inputs.append(Int32(2 + Tokenizer.chunkOffset(v, chunk.count) + Tokenizer.value(chunk, v)))
                start += design.n
            }
            inputs.append(1)
            var targets = Array(inputs.dropFirst())
            targets.append(-1)
            return (inputs, targets, sentence.count + 1)
        case .output:
            var inputs: [Int32] = [bos]
            inputs.append(contentsOf: sentence.map { Int32($0) })
            inputs.append(eos)
            var targets: [Int32] = []
            for i in 0...sentence.count {
                let gram = Array(sentence[i..<min(sentence.count, i + design.n)])
                targets.append(Int32(Tokenizer.jointID(gram, alphabet: v, n: design.n)))
            }
            targets.append(-1)
            return (inputs, targets, sentence.count + 1)
        default:
            var inputs: [Int32] = [bos]
            inputs.append(contentsOf: sentence.map { Int32($0) })
            inputs.append(eos)
            var targets = Array(inputs.dropFirst())
            targets.append(-1)
            return (inputs, targets, sentence.count + 1)
        }
    }

    /// The next input token after sampling class `c` (for `Ngram-out`, the first character of the sampled gram).
    public func nextInputToken(forClass c: Int) -> Int32 {
        design.kind == .output ? firstCharacter[c] : Int32(c)
    }

    /// Whether a generated input token ends the sentence.
    public func isEnd(_ token: Int32) -> Bool { design.kind == .gpt ? token == 1 : token == eos }

    /// The terminals of generated tokens (everything before the end token), and whether the end token came.
    public func decode(_ tokens: [Int32]) -> (sentence: [Int], ended: Bool) {
        var sentence: [Int] = []
        for token in tokens {
            if isEnd(token) { return (sentence, true) }
            switch design.kind {
            case .gpt:
                guard token >= 2 else { return (sentence, false) }  // a BOS in the middle: malformed
                sentence.append(contentsOf: Tokenizer.chunk(Int(token) - 2, alphabet: alphabet, n: design.n))
            default:
                guard token < Int32(alphabet) else { return (sentence, false) }
                sentence.append(Int(token))
            }
        }
        return (sentence, false)
    }

    /// For `Ngram-out`: the first character (base id; EOS for a gram that starts with it) of each class.
    public let firstCharacter: [Int32]

    // MARK: Id arithmetic

    static func power(_ base: Int, _ exponent: Int) -> Int {
        var result = 1
        for _ in 0..<exponent { result *= base }
        return result
    }

    static func value(_ symbols: [Int], _ v: Int) -> Int { symbols.reduce(0) { $0 * v + $1 } }

    static func chunkOffset(_ v: Int, _ length: Int) -> Int { (1..<max(1, length)).reduce(0) { $0 + power(v, $1) } }

    static func chunk(_ id: Int, alphabet v: Int, n: Int) -> [Int] {
        var rest = id
        for length in 1...n {
            let size = power(v, length)
            if rest < size { return digits(rest, v, length) }
            rest -= size
        }
        return []
    }

    static func digits(_ value: Int, _ v: Int, _ length: Int) -> [Int] {
        var out = [Int](repeating: 0, count: length)
        var rest = value
        for i in stride(from: length - 1, through: 0, by: -1) {
            out[i] = rest % v
            rest /= v
        }
        return out
    }

    /// The class of a gram of up to n terminals: n terminals, or fewer followed by EOS.
    static func jointID(_ gram: [Int], alphabet v: Int, n: Int) -> Int {
        if gram.count == n { return value(gram, v) }
        return power(v, n) + (0..<gram.count).reduce(0) { $0 + power(v, $1) } + value(gram, v)
    }

    /// The characters of a joint class (terminals, then EOS = V + 1 if it ends the sentence).
    public static func jointGram(_ id: Int, alphabet v: Int, n: Int) -> [Int32] {
        if id < power(v, n) { return digits(id, v, n).map { Int32($0) } }
        var rest = id - power(v, n)
        for length in 0..<n {
            let size = power(v, length)
            if rest < size { return digits(rest, v, length).map { Int32($0) } + [Int32(v + 1)] }
            rest -= size
        }
        return []
    }
}
