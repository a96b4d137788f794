import SeededRandom

/// The statistics of `cfg-run stats`: exact counts and lengths from the rules, and estimates over samples of the
/// entropy per character and of ambiguity.
public struct GrammarStatistics: Sendable {
    public let terminals: Int
    public let nonterminals: Int
    public let rules: Int
    /// Symbols of the chart parser's normal form (nonterminals, preterminals, binarisation intermediates);
    /// nil when the grammar is beyond the parser's limits.
    public let normalFormSymbols: Int?
    /// Exact shortest, longest (`+infinity` if unbounded) and expected string length of the start symbol.
    public let minLength: Double
    public let maxLength: Double
    public let expectedLength: Double
    /// Number of strings requested for the estimates below, and the seed they are drawn with.
    public let samples: Int
    public let seed: UInt64
    /// Mean length of the sampled strings (a check on `expectedLength`); nil when no strings were sampled
    /// (`samples` is 0, or the expected length is over ``GrammarSampler/maximumExpectedLength``).
    public let sampledMeanLength: Double?
    /// True entropy in nats per character (the end of string counts as one character), with its standard error;
    /// nil when the samples could not be parsed exactly (see `estimateFailure`).
    public let entropy: EntropyEstimate?
    /// Mean number of parse trees per sampled string, with its standard error (`+infinity` with unit cycles).
    public let meanParses: Double?
    public let meanParsesStandardError: Double?
    /// Why the sample-based estimates are missing: a grammar or string beyond the chart parser's limits, or a
    /// grammar whose strings are too long to sample (then nothing is sampled; see
    /// ``GrammarSampler/checkExpectedLength(of:limit:)``).
    public let estimateFailure: String?

    /// Computes the statistics; the estimates use `samples` strings drawn with `seed`, one at a time (memory holds
    /// one string, however many are drawn). No string is drawn when the grammar's expected length is over
    /// ``GrammarSampler/maximumExpectedLength``: the exact values are still computed, `estimateFailure` says why the
    /// others are missing.
    public init(grammar: Grammar, samples: Int, seed: UInt64) {
        terminals = grammar.terminals.count
        nonterminals = grammar.nonterminals.count
        rules = grammar.rules.count
        let parser = Result { () throws(ChartParser.Failure) in try ChartParser(grammar: grammar) }
        normalFormSymbols = try? parser.get().normalForm.symbolCount
        minLength = GrammarAnalysis.minLengths(grammar)[grammar.start]
        maxLength = GrammarAnalysis.maxLengths(grammar)[grammar.start]
        expectedLength = GrammarAnalysis.expectedLength(of: grammar)
        self.samples = samples
        self.seed = seed
        do {
            try GrammarSampler.checkExpectedLength(of: grammar)
        } catch {
            (sampledMeanLength, entropy, meanParses, meanParsesStandardError) = (nil, nil, nil, nil)
            estimateFailure = "no strings sampled: \(error)"
            return
        }
        // Each string is parsed as it is drawn (parsing draws nothing, so the strings are those of
        // `GrammarSampler.sample(count:using:)` with the same seed); after the first failure only lengths count.
        var generator = SeededGenerator(seed: seed)
        let sampler = GrammarSampler(grammar: grammar)
        var string: [Int32] = [], stack: [Int32] = []
        var totalLength = 0
        var nats: [Double] = [], characters: [Double] = [], counts: [Double] = []
        var failure: ChartParser.Failure?
        if case .failure(let error) = parser { failure = error }
        for _ in 0..<samples {
            string.removeAll(keepingCapacity: true)
            sampler.sample(into: &string, stack: &stack, using: &generator)
            totalLength += string.count
            guard failure == nil, case .success(let parser) = parser else { continue }
            do throws(ChartParser.Failure) {
                let ids = string.map(Int.init)
                let logP = try parser.logProbability(ids)
                guard logP.isFinite else {
                    throw ChartParser.Failure(message: "a string to measure entropy on is not in the grammar")
                }
                nats.append(-logP)
                characters.append(Double(ids.count + 1))
                counts.append(try parser.parseCount(ids))
            } catch {
                failure = error
            }
        }
        sampledMeanLength = samples == 0 ? nil : Double(totalLength) / Double(samples)
        if let failure {
            (entropy, meanParses, meanParsesStandardError, estimateFailure) = (nil, nil, nil, failure.message)
        } else {
            let (mean, standardError) = meanAndStandardError(counts)
            (entropy, meanParses, meanParsesStandardError, estimateFailure)
                = (EntropyEstimate(nats: nats, characters: characters), mean, standardError, nil)
        }
    }
}

/// The grammar's true cross-entropy per character on a set of strings: `sum of -log P(x)` over
/// `sum of (|x| + 1)` (the end of string counts as one character). This is the loss of a perfect model, the floor
/// that a trained model's loss per character is measured against.
public struct EntropyEstimate: Sendable {
    /// Nats per character (ratio of sums).
    public let perCharacter: Double
    /// Standard error of `perCharacter` over strings (delta method for a ratio estimator).
    public let standardError: Double
    /// Mean nats per string.
    public let perString: Double
    public let strings: Int
    public let characters: Int

    public init(strings: [[Int]], parser: ChartParser) throws(ChartParser.Failure) {
        var nats: [Double] = []
        var lengths: [Double] = []
        for string in strings {
            let logP = try parser.logProbability(string)
            guard logP.isFinite else {
                throw ChartParser.Failure(message: "a string to measure entropy on is not in the grammar")
            }
            nats.append(-logP)
            lengths.append(Double(string.count + 1))
        }
        self.init(nats: nats, characters: lengths)
    }

    /// From per-string nats and character counts (end of string included).
    public init(nats: [Double], characters: [Double]) {
        let n = Double(nats.count)
        let totalNats = nats.reduce(0, +)
        let totalChars = characters.reduce(0, +)
        strings = nats.count
        self.characters = Int(totalChars)
        perCharacter = totalNats / totalChars
        perString = totalNats / n
        if nats.count > 1 {
            var sum = 0.0
            for (h, c) in zip(nats, characters) {
                let residual = h - perCharacter * c
                sum += residual * residual
            }
            standardError = (sum / (n * (n - 1))).squareRoot() / (totalChars / n)
        } else {
            standardError = .nan
        }
    }
}

func meanAndStandardError(_ values: [Double]) -> (Double, Double) {
    guard !values.isEmpty else { return (.nan, .nan) }
    let n = Double(values.count)
    let mean = values.reduce(0, +) / n
    guard values.count > 1, mean.isFinite else { return (mean, .nan) }
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
    return (mean, (variance / n).squareRoot())
}
