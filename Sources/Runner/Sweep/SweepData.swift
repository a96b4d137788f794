import Foundation
import Grammar
import SeededRandom

/// The grammar and the evaluation sets of a sweep: the same for every run.
public final class SweepData: @unchecked Sendable {
    public let grammar: Grammar
    public let parser: ChartParser
    public let sampler: GrammarSampler
    public let settings: SweepSettings
    /// Validation sentences and their exact total log-loss (inside algorithm) and characters (EOS counted).
    public let validation: [[Int]]
    public let trueNats: Double
    public let validationCharacters: Int
    /// Window length in characters.
    public let window: Int

    public var trueEntropyPerCharacter: Double { trueNats / Double(validationCharacters) }

    /// The default window is the longest sentence plus BOS and EOS (at least 64), but no more than this; grammars
    /// without a longest sentence get 256. Longer sentences are skipped in training.
    public static let longestDefaultWindow = 4096

    /// Samples the validation set and computes its exact log-loss; `log` hears how far it has got every few seconds
    /// (a large validation set of long sentences takes minutes).
    public init(settings: SweepSettings, grammar: Grammar, log: (String) -> Void = { _ in }) throws {
        self.settings = settings
        self.grammar = grammar
        do { try GrammarSampler.checkExpectedLength(of: grammar) } catch { throw SweepError(error.description) }
        parser = try ChartParser(grammar: grammar)
        sampler = GrammarSampler(grammar: grammar)
        let minLength = GrammarAnalysis.minLengths(grammar)[grammar.start]
        let maxLength = GrammarAnalysis.maxLengths(grammar)[grammar.start]
        if settings.window > 0 {
            window = settings.window
        } else {
            window = maxLength.isFinite ? max(64, Int(min(maxLength, Double(SweepData.longestDefaultWindow - 2))) + 2) : 256
        }
        guard Double(window) >= minLength + 2 else {
            throw SweepError("the shortest sentence of \(settings.grammarPath) has \(Int(minLength)) characters, so a window must hold at least \(Int(minLength) + 2) (BOS and EOS included); \(settings.window > 0 ? "--window is \(window)" : "the default window is \(window)"): give --window \(Int(minLength) + 2) or more")
        }
        var generator = SeededGenerator(seed: settings.dataSeed, stream: 2)
        var sentences: [[Int]] = []
        var draws = 0
        var lastReport = Date()
        let drawLimit = 10_000 + 100 * settings.validationSamples
        while sentences.count < settings.validationSamples {
            let s = sampler.sample(using: &generator)
            draws += 1
            if s.count + 2 <= window { sentences.append(s) }
            if draws % 1024 == 0 && Date().timeIntervalSince(lastReport) >= 5 {
                lastReport = Date()
                log("validation set: \(sentences.count) of \(settings.validationSamples) sentences sampled")
            }
            if draws >= drawLimit && sentences.count < settings.validationSamples {
                throw SweepError("only \(sentences.count) of \(draws) sentences sampled from \(settings.grammarPath) fit a window of \(window) characters (BOS and EOS included): give a larger --window (the longest sentence has \(maxLength.isFinite ? "\(Int(maxLength))" : "no bound on its") characters)")
            }
        }
        validation = sentences
        var nats = 0.0, characters = 0
        for (i, s) in sentences.enumerated() {
            nats -= try parser.logProbability(s)
            characters += s.count + 1
            if Date().timeIntervalSince(lastReport) >= 5 {
                lastReport = Date()
                log("validation set: the exact log-probability of \(i + 1) of \(sentences.count) sentences computed")
            }
        }
        trueNats = nats
        validationCharacters = characters
    }
}
