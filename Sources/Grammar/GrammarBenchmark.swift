import Dispatch
import SeededRandom

/// Single-threaded speed of the grammar engine on one grammar (for `cfg-run bench --grammar`): sampling, in
/// terminals per second; membership plus inside probability (``ChartParser/accepts(_:)``, what `cfg-run check`
/// does per string) and the full next-symbol distribution after every prefix (``ChartParser/analyze(_:nextSymbols:)``),
/// in strings per second over a corpus of sampled strings.
///
/// Method: `repeats` measurements of each; a sampling measurement draws strings from `seed` until at least
/// `samplingTerminals` terminals; a parsing measurement runs over the whole corpus (the first `strings` strings of
/// `seed`). The median, min and max over the repeats are reported.
public enum GrammarBenchmark {
    /// One throughput over the repeats.
    public struct Throughput: Sendable {
        /// One value per repeat, in order.
        public let values: [Double]
        /// The median (the mean of the middle two for an even count), min and max of `values`.
        public let median: Double, min: Double, max: Double

        init(_ values: [Double]) {
            let sorted = values.sorted()
            let middle = sorted.count / 2
            self.values = values
            median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
            min = sorted.first!
            max = sorted.last!
        }
    }

    public struct Result: Sendable {
        /// Strings in the parsing corpus, and their mean length in terminals.
        public let strings: Int, meanLength: Double
        public let repeats: Int
        /// Terminals sampled per second.
        public let sampling: Throughput
        /// Strings per second checked for membership with their inside probability.
        public let checking: Throughput
        /// Strings per second given the next-symbol distribution after every prefix.
        public let nextSymbols: Throughput
    }

    /// Why a grammar could not be measured.
    public enum Failure: Error, CustomStringConvertible, Sendable {
        /// Its strings are too long to sample (``GrammarSampler/checkExpectedLength(of:limit:)``).
        case expectedLengthTooLong(ExpectedLengthTooLong)
        /// The parser could not be prepared, or refused a string.
        case parser(ChartParser.Failure)
        /// A string of the corpus is longer than exact parsing allows for this grammar (``ChartParser/maximumLength``).
        case sampledStringTooLong(length: Int, limit: Int)
        /// The parser rejected a sampled string (a bug in the sampler or the parser).
        case sampledStringRejected

        public var description: String {
            switch self {
            case .expectedLengthTooLong(let failure): failure.description
            case .parser(let failure): failure.description
            case .sampledStringTooLong(let length, let limit):
                "a sampled string of \(length) terminals is longer than exact parsing allows for this grammar (\(limit))"
            case .sampledStringRejected: "internal error: a sampled string was rejected"
            }
        }
    }

    /// The terminals each sampling measurement draws at least.
    public static let defaultSamplingTerminals = 5_000_000

    /// Measures `grammar` (see the type's notes); `strings` and `repeats` are at least 1.
    public static func run(grammar: Grammar, strings: Int, repeats: Int, seed: UInt64,
                           samplingTerminals: Int = defaultSamplingTerminals) throws(Failure) -> Result {
        precondition(strings > 0 && repeats > 0, "a benchmark needs at least one string and one repeat")
        do { try GrammarSampler.checkExpectedLength(of: grammar) } catch { throw .expectedLengthTooLong(error) }
        let sampler = GrammarSampler(grammar: grammar)
        let parser: ChartParser
        do { parser = try ChartParser(grammar: grammar) } catch { throw .parser(error) }

        let sampling = Throughput((0..<repeats).map { _ in
            var generator = SeededGenerator(seed: seed)
            var out: [Int32] = []
            var stack: [Int32] = []
            out.reserveCapacity(1 << 16)
            var terminals = 0
            let start = DispatchTime.now().uptimeNanoseconds
            while terminals < samplingTerminals {
                out.removeAll(keepingCapacity: true)
                sampler.sample(into: &out, stack: &stack, using: &generator)
                terminals += out.count
            }
            return Double(terminals) / seconds(since: start)
        })

        // The parsing corpus, drawn one string at a time (the strings of `sample(count:)`) so that a string too
        // long for exact parsing stops the benchmark before the corpus fills memory.
        var generator = SeededGenerator(seed: seed)
        var corpus: [[Int]] = []
        for _ in 0..<strings {
            let string = sampler.sample(using: &generator)
            if string.count > parser.maximumLength {
                throw .sampledStringTooLong(length: string.count, limit: parser.maximumLength)
            }
            corpus.append(string)
        }
        let meanLength = Double(corpus.reduce(0) { $0 + $1.count }) / Double(strings)

        // Strings of the corpus per second through `parse` (which says whether it accepted), once per repeat.
        func parsingRate(_ parse: ([Int]) throws(ChartParser.Failure) -> Bool) throws(Failure) -> Throughput {
            var rates: [Double] = []
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                for string in corpus {
                    let accepted: Bool
                    do { accepted = try parse(string) } catch { throw .parser(error) }
                    guard accepted else { throw .sampledStringRejected }
                }
                rates.append(Double(strings) / seconds(since: start))
            }
            return Throughput(rates)
        }
        let checking = try parsingRate { string throws(ChartParser.Failure) in try parser.accepts(string) }
        let nextSymbols = try parsingRate { string throws(ChartParser.Failure) in
            try parser.analyze(string, nextSymbols: true).accepted
        }
        return Result(strings: strings, meanLength: meanLength, repeats: repeats, sampling: sampling,
                      checking: checking, nextSymbols: nextSymbols)
    }

    private static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
