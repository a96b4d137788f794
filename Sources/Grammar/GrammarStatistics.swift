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
    /// Number of sampled strings behind the estimates below, and the seed they were drawn with.
    public let samples: Int
    public let seed: UInt64
    /// Mean length of the sampled strings (a check on `expectedLength`).
    public let sampledMeanLength: Double
    /// True entropy in nats per character (the end of string counts as one character), with its standard error;
    /// nil when the samples could not be parsed exactly (see `estimateFailure`).
    public let entropy: EntropyEstimate?
    /// Mean number of parse trees per sampled string, with its standard error (`+infinity` with unit cycles).
    public let meanParses: Double?
    public let meanParsesStandardError: Double?
    /// Why the sample-based estimates are missing (a grammar or string beyond the chart parser's limits).
    public let estimateFailure: String?

    /// Computes the statistics; the estimates use `samples` strings drawn with `seed`.
    public init(grammar: Grammar, samples: Int, seed: UInt64) {
        terminals = grammar.terminals.count
        nonterminals = grammar.nonterminals.count
        rules = grammar.rules.count
        let parser = Result { () throws(ChartParser.Failure) in try ChartParser(grammar: grammar) }
        normalFormSymbols = try? parser.get().normalForm.symbolCount
        minLength = GrammarAnalysis.minLengths(grammar)[grammar.start]
        maxLength = GrammarAnalysis.maxLengths(grammar)[grammar.start]
        guard case .success(let expected) = GrammarAnalysis.expectedLengths(grammar) else {
            preconditionFailure("a Grammar value always has a finite expected length")
        }
        expectedLength = expected[grammar.start]
        self.samples = samples
        self.seed = seed
        var generator = SeededGenerator(seed: seed)
        let strings = GrammarSampler(grammar: grammar).sample(count: samples, using: &generator)
        sampledMeanLength = strings.isEmpty ? .nan : Double(strings.reduce(0) { $0 + $1.count }) / Double(samples)
        let estimates = Result { () throws(ChartParser.Failure) -> (EntropyEstimate, Double, Double) in
            let parser = try parser.get()
            let entropy = try EntropyEstimate(strings: strings, parser: parser)
            var counts: [Double] = []
            for string in strings { counts.append(try parser.parseCount(string)) }
            let (mean, standardError) = meanAndStandardError(counts)
            return (entropy, mean, standardError)
        }
        switch estimates {
        case .success(let (entropy, mean, standardError)):
            (self.entropy, meanParses, meanParsesStandardError, estimateFailure) = (entropy, mean, standardError, nil)
        case .failure(let error):
            (entropy, meanParses, meanParsesStandardError, estimateFailure) = (nil, nil, nil, error.message)
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
