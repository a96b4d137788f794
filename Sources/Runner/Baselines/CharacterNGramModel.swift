import Foundation
import Grammar
import SeededRandom

/// Count-based character k-gram models with interpolated Witten-Bell smoothing, fitted on the sentences a run of a
/// sweep trains on: the regime calibration of the results tables (what a model that only learns local character
/// statistics reaches with the same characters). Exact and reproducible: the sentences come from the run's own
/// seeded stream (the same ones, in the same order, that `RunExecutor` packs), counts are integers, and the
/// evaluation is on the sweep's validation set against its exact entropy.
///
/// Symbols: terminals `0..<V` and EOS = V are predicted; a context holds the previous k - 1 symbols of the sentence,
/// padded with BOS (= V) before its start. P(w | h) = (c(h, w) + T(h) P(w | h')) / (c(h) + T(h)), with T(h) the
/// number of distinct symbols seen after h and h' the context one symbol shorter; below the empty context, uniform.
public struct CharacterNGramModel {
    public let maximumOrder: Int
    public let alphabet: Int
    /// Per context length j (0 ..< maximumOrder): context id -> counts of each of the V + 1 symbols after it.
    private var counts: [[UInt64: [Int32]]]
    /// Characters (terminals + EOS) counted.
    public private(set) var characters = 0

    public struct Problem: Error, CustomStringConvertible { public let description: String }

    public init(maximumOrder: Int, alphabet: Int) throws(Problem) {
        guard maximumOrder >= 1 else { throw Problem(description: "the order must be at least 1") }
        // A context id is a base-(V + 1) number of up to k - 1 digits: it must fit 63 bits.
        guard pow(Double(alphabet + 1), Double(maximumOrder - 1)) < 9e18 else {
            throw Problem(description: "contexts of \(maximumOrder - 1) symbols over \(alphabet) terminals do not fit 64-bit ids; use a smaller order")
        }
        self.maximumOrder = maximumOrder
        self.alphabet = alphabet
        counts = Array(repeating: [:], count: maximumOrder)
    }

    /// Counts one sentence (terminal ids).
    public mutating func add(_ sentence: [Int]) {
        let base = UInt64(alphabet + 1)
        let zeros = [Int32](repeating: 0, count: alphabet + 1)
        var history = [Int](repeating: alphabet, count: maximumOrder - 1)   // BOS padding
        for position in 0...sentence.count {
            let symbol = position < sentence.count ? sentence[position] : alphabet  // EOS
            var id: UInt64 = 0
            for j in 0..<maximumOrder {
                // Context of length j: the j symbols before this position, most recent last.
                if j > 0 { id = id * base + UInt64(history[history.count - j]) }
                // (the digits are read most recent first: id of length j extends id of length j - 1)
                counts[j][id, default: zeros][symbol] += 1
            }
            CharacterNGramModel.shift(&history, symbol)
            characters += 1
        }
    }

    /// Appends `symbol` to a context of fixed length (none for order 1), dropping its oldest symbol.
    private static func shift(_ history: inout [Int], _ symbol: Int) {
        guard !history.isEmpty else { return }
        history.removeFirst()
        history.append(symbol)
    }

    /// -log P(sentence's symbols, EOS included) under the order-k model (k <= maximumOrder), in nats.
    public func nats(_ sentence: [Int], order k: Int) -> Double {
        precondition(k >= 1 && k <= maximumOrder)
        var history = [Int](repeating: alphabet, count: maximumOrder - 1)
        var total = 0.0
        for position in 0...sentence.count {
            let symbol = position < sentence.count ? sentence[position] : alphabet
            total -= log(probability(of: symbol, after: history, order: k))
            CharacterNGramModel.shift(&history, symbol)
        }
        return total
    }

    /// P(symbol | the last k - 1 symbols of `history`) under the order-k model: Witten-Bell interpolation from the
    /// empty context up (an unseen context leaves the shorter one's estimate standing).
    private func probability(of symbol: Int, after history: [Int], order k: Int) -> Double {
        let base = UInt64(alphabet + 1)
        var p = 1.0 / Double(alphabet + 1)
        var id: UInt64 = 0
        for j in 0..<k {
            if j > 0 { id = id * base + UInt64(history[history.count - j]) }
            guard let row = counts[j][id] else { break }
            var seen = 0.0, types = 0.0
            for c in row where c > 0 { seen += Double(c); types += 1 }
            p = (Double(row[symbol]) + types * p) / (seen + types)
        }
        return p
    }

    /// A sentence sampled from the order-k model from its start (temperature 1): terminals until EOS, and whether
    /// EOS came within `maximumLength` terminals (a sampled sentence longer than that has failed, as a sampled
    /// sentence that does not end within a run's window fails).
    public func sample(order k: Int, maximumLength: Int, using generator: inout SeededGenerator) -> (sentence: [Int], ended: Bool) {
        precondition(k >= 1 && k <= maximumOrder)
        var history = [Int](repeating: alphabet, count: maximumOrder - 1)
        var sentence: [Int] = []
        while sentence.count <= maximumLength {
            let u = generator.nextDouble()
            var cumulative = 0.0, symbol = alphabet
            for candidate in 0..<alphabet {
                cumulative += probability(of: candidate, after: history, order: k)
                if u < cumulative { symbol = candidate; break }
            }
            if symbol == alphabet { return (sentence, true) }  // EOS (the rest of the mass)
            sentence.append(symbol)
            CharacterNGramModel.shift(&history, symbol)
        }
        return (sentence, false)
    }
}

/// The calibration of a sweep's tables: k-gram models fitted on the characters a run saw.
public enum CharacterNGramCalibration {
    public struct Row {
        public let order: Int
        public let characters: Int
        public let seed: UInt64
        public let lossPerCharacter: Double
        public let excessPerCharacter: Double
        /// Sentences sampled from the model that end and that the grammar accepts, of `generationSamples`.
        public let generationSuccesses: Int
        public let generationSamples: Int

        public var generationAccuracy: Double { generationSamples > 0 ? Double(generationSuccesses) / Double(generationSamples) : .nan }
    }

    /// Fits models of orders `orders` on the first `characters` characters (at least; whole sentences) of the
    /// training stream of seed `seed` (sentences that fit the sweep's window, as a run packs them), at each of the
    /// checkpoints in `characters` (ascending), and scores each on the sweep's validation set, and by generation
    /// accuracy: `generationSamples` sentences sampled from the model (with the sweep's generation seed, as the runs'
    /// samples are drawn), each checked with the exact parser; a sentence must end within the window.
    public static func rows(data: SweepData, orders: ClosedRange<Int>, characters: [Int], seed: UInt64,
                            generationSamples: Int = 0, progress: (String) -> Void = { _ in }) throws -> [Row] {
        var model: CharacterNGramModel
        do { model = try CharacterNGramModel(maximumOrder: orders.upperBound, alphabet: data.grammar.terminals.count) }
        catch { throw SweepError(error.description) }
        var generator = SeededGenerator(seed: seed, stream: 1)
        var rows: [Row] = []
        var lastReport = Date()
        for target in characters.sorted() {
            while model.characters < target {
                let sentence = data.sampler.sample(using: &generator)
                guard sentence.count + 2 <= data.window else { continue }
                model.add(sentence)
                if Date().timeIntervalSince(lastReport) >= 5 {
                    lastReport = Date()
                    progress("counted \(model.characters) of \(target) characters")
                }
            }
            for k in orders {
                let nats = data.validation.reduce(0.0) { $0 + model.nats($1, order: k) }
                let perCharacter = nats / Double(data.validationCharacters)
                var sampling = SeededGenerator(seed: data.settings.dataSeed, stream: 3)
                var successes = 0
                for _ in 0..<generationSamples {
                    let (sentence, ended) = model.sample(order: k, maximumLength: data.window - 2, using: &sampling)
                    if ended, !sentence.isEmpty, (try? data.parser.accepts(sentence)) == true { successes += 1 }
                }
                rows.append(Row(order: k, characters: model.characters, seed: seed, lossPerCharacter: perCharacter,
                                excessPerCharacter: perCharacter - data.trueEntropyPerCharacter,
                                generationSuccesses: successes, generationSamples: generationSamples))
            }
        }
        return rows
    }
}
