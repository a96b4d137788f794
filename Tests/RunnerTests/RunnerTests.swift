import Files
import Foundation
import Grammar
import Model
import Runner
import SeededRandom
import Tokenizer
import XCTest

let grammarsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("grammars")

func smallSettings(_ grammar: String = "cfg3f-l3") -> SweepSettings {
    var settings = SweepSettings(grammarPath: grammarsFolder.appendingPathComponent("\(grammar).cfg").path)
    settings.steps = 30
    settings.evalEvery = 10
    settings.batch = 4
    settings.validationSamples = 40
    settings.generationSamples = 16
    return settings
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "cfg-run-test-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A sweep directory for `units` in a new temporary folder (`access` .shared lets several be open at once).
func sweepDirectory(_ settings: SweepSettings, _ units: [RunUnit], at path: String = temporaryDirectory(),
                    access: SweepDirectory.Access = .shared) throws -> SweepDirectory {
    try SweepDirectory.open(path, settings: settings, units: units, grammar: try recordedGrammar(settings), access: access)
}

/// The grammar of `settings`, as a sweep directory records it.
func recordedGrammar(_ settings: SweepSettings) throws -> GrammarRecord {
    GrammarRecord(try GrammarReader.read(path: settings.grammarPath))
}

/// The grammar's exact next-symbol distribution as a "model": it must score excess 0 and accuracy 1 through the
/// same evaluation code as trained models.
final class OracleModel: EvaluatedModel {
    let parser: ChartParser
    let tokenizer: Tokenizer
    let window: Int
    var logitsBuffer: [Float] = []
    var lossBuffer: [Float] = []

    init(parser: ChartParser, tokenizer: Tokenizer, window: Int) {
        self.parser = parser
        self.tokenizer = tokenizer
        self.window = window
    }

    var windowsPerCall: Int { 3 }
    var v: Int { tokenizer.alphabet }

    /// P(next characters = gram | prefix), the gram given as terminals with an optional final EOS (V + 1).
    func probability(of gram: [Int32], after prefix: [Int]) -> Double {
        var p = 1.0
        var context = prefix
        for c in gram {
            let row = try! parser.analyze(context, nextSymbols: true).nextSymbol.suffix(v + 1)
            let next = c == Int32(v + 1) ? v : Int(c)
            p *= row[row.startIndex + next]
            if c == Int32(v + 1) || p == 0 { break }
            context.append(Int(c))
        }
        return p
    }

    /// Class probabilities after the characters `prefix`, each class standing for the characters it predicts
    /// (`Tokenizer.characters(ofClass:)`). After an input token that itself ended with the sentence's end (an
    /// n-gram-gpt chunk shorter than n), only the end can follow: the class meaning "EOS" alone has probability 1.
    func classProbabilities(after prefix: [Int], lastToken: Int32? = nil) -> [Double] {
        let classes = (0..<tokenizer.classes).map { tokenizer.characters(ofClass: $0) }
        let eos = Int32(v + 1)
        if let lastToken, lastToken != tokenizer.inputBOS, !tokenizer.isEnd(lastToken),
           tokenizer.characters(ofClass: Int(lastToken)).last == eos {
            return classes.map { $0 == [eos] ? 1 : 0 }
        }
        return classes.map { $0.isEmpty ? 0 : probability(of: $0, after: prefix) }
    }

    func logits(after prefix: [Int], lastToken: Int32? = nil) -> [Float] {
        classProbabilities(after: prefix, lastToken: lastToken).map { Float(log($0)) }
    }

    func score<T>(inputs: [Int32], targets: [Int32], windows: Int,
                  _ use: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>) -> T) -> T {
        let classes = tokenizer.classes
        logitsBuffer = [Float](repeating: 0, count: windows * window * classes)
        lossBuffer = [Float](repeating: 0, count: windows * window)
        var prefix: [Int] = []
        for r in 0..<(windows * window) {
            let token = inputs[r]
            if token == tokenizer.inputBOS { prefix = [] } else if !tokenizer.isEnd(token) {
                prefix += tokenizer.decode([token]).sentence
            }
            guard targets[r] >= 0 else { continue }
            let row = logits(after: prefix, lastToken: token)
            for c in 0..<classes { logitsBuffer[r * classes + c] = row[c] }
            lossBuffer[r] = -row[Int(targets[r])]
        }
        return logitsBuffer.withUnsafeBufferPointer { logits in lossBuffer.withUnsafeBufferPointer { use(logits, $0) } }
    }

    func generate(prompts: [[Int32]], maxLength: Int, using generator: inout SeededGenerator,
                  classToken: (Int) -> Int32, isEnd: (Int32) -> Bool) -> [(tokens: [Int32], ended: Bool)] {
        prompts.map { prompt in
            var tokens: [Int32] = []
            var characters: [Int] = []
            while prompt.count + tokens.count < maxLength {
                let row = logits(after: characters, lastToken: tokens.last)
                let token = classToken(row.withUnsafeBufferPointer { Sampling.draw(logits: $0, temperature: 1, using: &generator) })
                tokens.append(token)
                if isEnd(token) { return (tokens, true) }
                characters += tokenizer.decode([token]).sentence
            }
            return (tokens, false)
        }
    }
}

final class RunnerTests: XCTestCase {
    func testOracleScoresZeroExcessAndFullAccuracy() throws {
        var settings = smallSettings()
        settings.validationSamples = 25
        let grammar = try GrammarReader.read(path: settings.grammarPath)
        let data = try SweepData(settings: settings, grammar: grammar)
        for name in ["1gram", "3gram-out", "3gram-gpt", "2gram-out", "3gram-mtp"] {
            let tokenizer = Tokenizer(design: try VocabularyDesign(parsing: name), alphabet: grammar.terminals.count)
            let oracle = OracleModel(parser: data.parser, tokenizer: tokenizer, window: data.window)
            let evaluator = Evaluator(data: data, tokenizer: tokenizer)
            let loss = evaluator.validationLoss(oracle)
            XCTAssertEqual(loss - data.trueEntropyPerCharacter, 0, accuracy: 1e-5, name)
            XCTAssertEqual(evaluator.generationSuccesses(oracle, samples: 30), 30, name)
        }
    }

    func testTrainingImprovesAndRowsAreComplete() throws {
        let settings = smallSettings()
        let data = try SweepData(settings: settings, grammar: GrammarReader.read(path: settings.grammarPath))
        let unit = RunUnit(design: try VocabularyDesign(parsing: "3gram-hin"), size: try ModelSize(parsing: "xs"), seed: 1)
        let directory = try sweepDirectory(settings, [unit])
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let rows = try RunExecutor(unit: unit, data: data, directory: directory, threads: 2).execute()
        XCTAssertEqual(rows.map(\.step), [10, 20, 30])
        XCTAssertLessThan(rows.last!.valLoss, rows.first!.valLoss)
        XCTAssertTrue(rows.allSatisfy { $0.excess > 0 && $0.genSamples == 16 && $0.status == "ok" && $0.chars > 0 })
        XCTAssertEqual(rows[0].excess, rows[0].valLoss - data.trueEntropyPerCharacter, accuracy: 1e-12)
    }

    /// An interrupted run resumes from its checkpoint and ends with the same rows; thread count changes nothing.
    func testResumeAndThreadCountGiveIdenticalRows() throws {
        let settings = smallSettings()
        let data = try SweepData(settings: settings, grammar: GrammarReader.read(path: settings.grammarPath))
        let unit = RunUnit(design: try VocabularyDesign(parsing: "3gram-out"), size: try ModelSize(parsing: "tiny"), seed: 3)
        func strip(_ rows: [ResultRow]) -> [String] {
            rows.map { row in var r = row; r.wallSeconds = 0; return r.csvLine }
        }
        let a = try sweepDirectory(settings, [unit]), b = try sweepDirectory(settings, [unit])
        defer { try? FileManager.default.removeItem(atPath: a.path); try? FileManager.default.removeItem(atPath: b.path) }
        let straight = try RunExecutor(unit: unit, data: data, directory: a, threads: 1).execute()
        let interrupted = try RunExecutor(unit: unit, data: data, directory: b, threads: 2).execute(stop: { $0 >= 10 })
        XCTAssertEqual(interrupted.map(\.step), [10])
        let executor = RunExecutor(unit: unit, data: data, directory: b, threads: 2)
        guard case .inProgress(10, _) = try b.state(of: unit) else { return XCTFail("expected a run checkpointed at step 10") }
        var emitted: [ResultRow] = []
        let resumed = try executor.execute(emit: { emitted.append($0) })
        XCTAssertEqual(strip(resumed), strip(straight))
        XCTAssertEqual(strip(emitted), strip(straight))
        guard case .finished = try b.state(of: unit) else { return XCTFail("expected a finished run") }
        // A finished run is replayed from its shard, not retrained.
        XCTAssertEqual(strip(try executor.execute()), strip(straight))
    }

    func testSweepWritesTheSameCSVWhenRerunAndRejectsOtherSettings() throws {
        let settings = smallSettings()
        let data = try SweepData(settings: settings, grammar: GrammarReader.read(path: settings.grammarPath))
        let path = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sweep = try Sweep(settings: settings, sizes: [try ModelSize(parsing: "tiny")],
                              designs: [try VocabularyDesign(parsing: "1gram"), try VocabularyDesign(parsing: "3gram-in")], seeds: [1])
        func run() throws -> [String] {
            let directory = try SweepDirectory.open(path, settings: settings, units: sweep.units, grammar: recordedGrammar(settings), access: .sweep)
            return try sweep.run(data: data, directory: directory, threads: 2).all.map(\.csvLine)
        }
        let first = try run()
        // Interrupt the second run by hand: drop its done marker, as a crash before it was written would.
        try FileManager.default.removeItem(atPath: path + "/" + sweep.units[1].id + ".done")
        let second = try run()
        func withoutWall(_ lines: [String]) -> [String] {
            lines.map { line in var f = line.split(separator: ",", omittingEmptySubsequences: false); if f.count > 21 { f[21] = "" }; return f.joined(separator: ",") }
        }
        XCTAssertEqual(first.count, 2 * 3)
        XCTAssertEqual(withoutWall(second), withoutWall(first))
        var other = settings
        other.steps = 40
        XCTAssertThrowsError(try SweepDirectory.open(path, settings: other, units: sweep.units, grammar: recordedGrammar(other), access: .sweep)) {
            XCTAssertTrue("\($0)".contains("other settings"), "\($0)")
            XCTAssertTrue("\($0)".contains("steps: 30 there, 40 here"), "\($0)")
        }
    }

    /// Several runs at once (--jobs) give the rows of one run after another, whatever the threads; a failing run
    /// stops the others at their next checkpoint and its error comes out.
    func testRunsAtOnceGiveTheSameRowsAsOneAfterAnother() throws {
        let settings = smallSettings()
        let data = try SweepData(settings: settings, grammar: GrammarReader.read(path: settings.grammarPath))
        let sweep = try Sweep(settings: settings, sizes: [try ModelSize(parsing: "tiny"), try ModelSize(parsing: "xs")],
                              designs: try ["1gram", "3gram-out"].map { try VocabularyDesign(parsing: $0) }, seeds: [1, 2])
        func rows(jobs: Int, threads: Int) throws -> [String] {
            let directory = try sweepDirectory(settings, sweep.units, access: .sweep)
            defer { try? FileManager.default.removeItem(atPath: directory.path) }
            var started = 0, finished = 0
            let result = try sweep.run(data: data, directory: directory, threads: threads, jobs: jobs, events: { event in
                if case .started = event { started += 1 }
                if case .finished = event { finished += 1 }
            })
            XCTAssertEqual(started, sweep.units.count)
            XCTAssertEqual(finished, sweep.units.count)
            XCTAssertEqual(result.finished, Array(repeating: true, count: sweep.units.count))
            return result.all.map { row in var r = row; r.wallSeconds = 0; return r.csvLine }
        }
        let sequential = try rows(jobs: 1, threads: 2)
        XCTAssertEqual(sequential.count, sweep.units.count * 3)
        XCTAssertEqual(try rows(jobs: 3, threads: 3), sequential)
        XCTAssertEqual(try rows(jobs: 8, threads: 2), sequential)

        // A unit whose files are locked by another process fails; the sweep throws that error.
        let directory = try sweepDirectory(settings, sweep.units, access: .sweep)
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let held = try FileLock.acquire(directory.path + "/" + sweep.units[2].id + ".lock", exclusive: true, purpose: "test")
        XCTAssertThrowsError(try sweep.run(data: data, directory: directory, threads: 2, jobs: 2)) {
            XCTAssertTrue("\($0)".contains("is being trained by process"), "\($0)")
        }
        held.release()
    }

    /// `3gram-mtp`, the paper's sequential multi-token prediction, as a sweep variant: its model is the multi-token
    /// configuration that the PyTorch fixture `mtp3` and the finite-difference checks verify (token input, the main
    /// head and heads 2 and 3, here with the paper's weight 0.1); a run trains end to end, scored by its main head.
    func testMultiTokenPredictionDesignTrainsAsASweepVariant() throws {
        let settings = smallSettings()
        let data = try SweepData(settings: settings, grammar: GrammarReader.read(path: settings.grammarPath))
        let unit = RunUnit(design: try VocabularyDesign(parsing: "3gram-mtp"), size: try ModelSize(parsing: "tiny"), seed: 1)
        let (config, tokenizer) = try RunExecutor.modelConfig(unit, alphabet: 3, window: data.window, batch: settings.batch,
                                                              positions: .learned, memoryLimit: .infinity).get()
        XCTAssertEqual(config, GPTConfig(vocabulary: 5, classes: 5, layers: 1, width: 16, heads: 2, maxSequence: data.window,
                                         input: TokenEmbedding(), predictionDepth: 3, predictionWeights: [1, 0.1, 0.1]))
        XCTAssertEqual(tokenizer.classes, 5)
        let directory = try sweepDirectory(settings, [unit])
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let rows = try RunExecutor(unit: unit, data: data, directory: directory, threads: 2).execute()
        XCTAssertEqual(rows.map(\.step), [10, 20, 30])
        XCTAssertTrue(rows.allSatisfy { $0.variant == "3gram-mtp" && $0.excess > 0 && $0.excess.isFinite && $0.status == "ok" })
        XCTAssertLessThan(rows.last!.valLoss, rows.first!.valLoss)
        // The extra heads are parameters of the model, outside the non-embedding count of the blocks.
        let plain = RunUnit(design: try VocabularyDesign(parsing: "1gram"), size: unit.size, seed: 1)
        let (plainConfig, _) = try RunExecutor.modelConfig(plain, alphabet: 3, window: data.window, batch: settings.batch,
                                                           positions: .learned, memoryLimit: .infinity).get()
        XCTAssertGreaterThan(ParameterLayout(config).count, ParameterLayout(plainConfig).count)
    }

    /// The k-gram calibration: on a grammar whose next symbol is fixed by the previous two, a 3-gram model fitted on
    /// enough characters approaches the exact entropy, a 1-gram does not; the fit is the same for the same seed.
    func testCharacterNGramModelsApproachTheEntropyWhenTheContextSuffices() throws {
        let path = temporaryDirectory() + "/ab.cfg"
        try "S -> a b | b a\n".write(toFile: path, atomically: true, encoding: .utf8)
        var settings = SweepSettings(grammarPath: path)
        settings.validationSamples = 200
        let data = try SweepData(settings: settings, grammar: GrammarReader.read(path: path))
        XCTAssertEqual(data.trueEntropyPerCharacter, log(2) / 3, accuracy: 1e-9)
        let rows = try CharacterNGramCalibration.rows(data: data, orders: 1...3, characters: [300, 30_000], seed: 1)
        XCTAssertEqual(rows.map(\.order), [1, 2, 3, 1, 2, 3])
        XCTAssertEqual(rows[5].characters, 30_000)
        let trigram = rows[5].excessPerCharacter, unigram = rows[3].excessPerCharacter
        XCTAssertLessThan(trigram, 0.002)
        XCTAssertGreaterThan(unigram, 0.3)
        XCTAssertLessThan(rows[5].excessPerCharacter, rows[2].excessPerCharacter)
        let again = try CharacterNGramCalibration.rows(data: data, orders: 1...3, characters: [300, 30_000], seed: 1)
        XCTAssertEqual(again.map(\.lossPerCharacter), rows.map(\.lossPerCharacter))
    }

    func testClaims() throws {
        let csv = """
        variant,size,seed,step,params,nonembed_params,excess_per_char,gen_accuracy,status
        1gram,xs,1,100,10,5,0.30,0.1,ok
        1gram,xs,2,100,10,5,0.32,0.1,ok
        3gram-in,xs,1,100,10,5,0.20,0.2,ok
        3gram-in,xs,2,100,10,5,0.25,0.2,ok
        3gram-out,xs,1,100,10,5,0.31,0.1,ok
        3gram-out,xs,2,100,10,5,0.33,0.1,ok
        1gram,l,1,50,99,50,0.90,0.1,ok
        1gram,l,1,100,99,50,0.10,0.5,ok
        3gram-in,l,1,100,99,50,0.05,0.6,ok
        3gram-out,l,1,100,99,50,0.08,0.6,ok
        """
        let table = try ResultsTable(csv: csv)
        XCTAssertEqual(table.sizes, ["xs", "l"])
        func holds(_ text: String) throws -> Bool { try Claim(parsing: text).check(table).holds }
        XCTAssertTrue(try holds("3gram-in < 1gram on excess_per_char for all sizes"))
        XCTAssertTrue(try holds("3gram-in < 1gram on excess_per_char for every seed by 0.04"))
        XCTAssertFalse(try holds("3gram-in < 1gram on excess_per_char by 0.1"))
        XCTAssertFalse(try holds("3gram-out < 1gram on excess_per_char"))
        XCTAssertTrue(try holds("3gram-out < 1gram on excess_per_char at size l"))
        XCTAssertTrue(try holds("3gram-out - 1gram on excess_per_char decreases with size"))
        XCTAssertFalse(try holds("3gram-out - 1gram on excess_per_char increases with size"))
        XCTAssertTrue(try holds("3gram-in > 1gram on gen_accuracy"))
        XCTAssertFalse(try holds("4gram-in < 1gram on excess_per_char"))
        for bad in ["3gram-in << 1gram on x", "3gram-in < 1gram", "a - b on x grows", "a < b on x by -1"] {
            XCTAssertThrowsError(try Claim(parsing: bad), bad)
        }
    }

    /// `with 95% confidence` and `~` by hand: paired differences -0.10, -0.11, -0.12 have mean -0.11 and 95%
    /// t-interval half-width 4.303 * 0.01 / sqrt(3) = 0.0248 (two degrees of freedom), so [-0.1348, -0.0852].
    func testIntervalClaims() throws {
        let csv = """
        variant,size,seed,step,nonembed_params,excess_per_char,status
        1gram,s,1,10,5,0.50,ok
        1gram,s,2,10,5,0.60,ok
        1gram,s,3,10,5,0.70,ok
        in,s,1,10,5,0.40,ok
        in,s,2,10,5,0.49,ok
        in,s,3,10,5,0.58,ok
        out,s,1,10,5,0.40,ok
        out,s,2,10,5,0.60,ok
        out,s,3,10,5,0.75,ok
        1gram,l,1,10,50,0.30,ok
        in,l,1,10,50,0.20,ok
        out,l,1,10,50,0.20,ok
        out,l,2,10,50,0.20,ok
        """
        let table = try ResultsTable(csv: csv)
        func verdict(_ text: String) throws -> Claim.Verdict { try Claim(parsing: text).evaluate(table).verdict }
        XCTAssertEqual(try verdict("in < 1gram on excess_per_char at size s with 95% confidence"), .holds)
        XCTAssertEqual(try verdict("in < 1gram on excess_per_char at size s with 95% confidence by 0.08"), .holds)
        XCTAssertEqual(try verdict("in < 1gram on excess_per_char at size s with 95% confidence by 0.09"), .fails)
        XCTAssertEqual(try verdict("in > 1gram on excess_per_char at size s with 95% confidence"), .fails)
        XCTAssertEqual(try verdict("in ~ 1gram on excess_per_char at size s"), .fails)
        // out - 1gram: -0.10, 0, +0.05: mean -0.0167, half-width 4.303 * 0.0764 / sqrt(3) = 0.19: no effect.
        XCTAssertEqual(try verdict("out ~ 1gram on excess_per_char at size s"), .holds)
        XCTAssertEqual(try verdict("out < 1gram on excess_per_char at size s"), .holds)   // the mean alone
        XCTAssertEqual(try verdict("out < 1gram on excess_per_char at size s with 95% confidence"), .fails)
        // One seed gives no interval: the claim fails and says why; a seed without a partner leaves it undecided.
        let one = try Claim(parsing: "in < 1gram on excess_per_char at size l with 95% confidence").evaluate(table)
        XCTAssertEqual(one.verdict, .fails)
        XCTAssertTrue(one.explanation.joined().contains("needs at least two"), "\(one.explanation)")
        XCTAssertEqual(try verdict("out ~ 1gram on excess_per_char at size l"), .undecided)
        XCTAssertEqual(try verdict("in ~ out on excess_per_char at size l"), .undecided)
        // So does it for a mean or a trend: out's mean at l (0.20 over seeds 1 and 2) is not 1gram's sample (seed 1).
        let mean = try Claim(parsing: "out < 1gram on excess_per_char at size l").evaluate(table)
        XCTAssertEqual(mean.verdict, .undecided)
        XCTAssertTrue(mean.explanation.joined().contains("seed 2: no 1gram value to pair with out's"), "\(mean.explanation)")
        XCTAssertEqual(try verdict("out > 1gram on excess_per_char at size l"), .undecided)
        XCTAssertEqual(try verdict("out - 1gram on excess_per_char decreases with size"), .undecided)
        XCTAssertEqual(try verdict("in - 1gram on excess_per_char increases with size"), .holds)
        let line = try Claim(parsing: "in < 1gram on excess_per_char at size s with 95% confidence").evaluate(table).explanation
        XCTAssertTrue(line.joined().contains("-0.11000 [-0.13484, -0.08516]"), "\(line)")
        for bad in ["a ~ b on x by 0.1", "a ~ b on x for every seed", "a < b on x with confidence"] {
            XCTAssertThrowsError(try Claim(parsing: bad), bad)
        }
    }

    func testADivergedRunIsMarkedAndStops() throws {
        var settings = smallSettings()
        settings.learningRate = 1e35
        settings.warmupSteps = 0
        let data = try SweepData(settings: settings, grammar: GrammarReader.read(path: settings.grammarPath))
        let unit = RunUnit(design: try VocabularyDesign(parsing: "1gram"), size: try ModelSize(parsing: "tiny"), seed: 1)
        let directory = try sweepDirectory(settings, [unit])
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let executor = RunExecutor(unit: unit, data: data, directory: directory, threads: 1)
        var rows: [ResultRow] = []
        try executor.execute(emit: { rows.append($0) })
        XCTAssertEqual(rows.last?.status, "diverged")
        guard case .finished(let saved) = try directory.state(of: unit) else { return XCTFail("a diverged run is finished") }
        XCTAssertEqual(saved.map(\.csvLine), rows.map(\.csvLine))
        XCTAssertTrue(rows.last!.valLoss.isNaN)
    }

    /// Scoring a run's final checkpoint on the sweep's own validation set gives the run's final excess to the bit
    /// (the same model, the same sentences, the same code); on another set, another value with that set's entropy.
    func testFinalCheckpointsScoreAsTheRunDidOnItsOwnValidationSet() throws {
        var settings = smallSettings()
        settings.schedule = ScheduleSettings(kind: .warmupStableDecay, decayFraction: 0.2)   // the decay: steps 24-30
        settings.evalEvery = 6   // an evaluation, so a stable-phase checkpoint, at step 24
        let grammar = try GrammarReader.read(path: settings.grammarPath)
        let data = try SweepData(settings: settings, grammar: grammar)
        let units = try ["1gram", "3gram-out"].map { RunUnit(design: try VocabularyDesign(parsing: $0), size: try ModelSize(parsing: "tiny"), seed: 2) }
        let directory = try sweepDirectory(settings, units)
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        var finals: [ResultRow] = []
        for unit in units {
            var rows: [ResultRow] = []
            try RunExecutor(unit: unit, data: data, directory: directory, threads: 1).execute(emit: { rows.append($0) })
            finals.append(rows.last!)
        }
        let same = FinalCheckpointScorer(directory: directory, data: data)
        let other = FinalCheckpointScorer(directory: directory, data: try SweepData(
            settings: FinalCheckpointScorer.settings(of: directory, validationSamples: 60, dataSeed: 7), grammar: grammar))
        for (unit, final) in zip(units, finals) {
            guard case .scored(let row, let sweepExcess) = try same.score(unit, threads: 2) else { return XCTFail("\(unit) not scored") }
            XCTAssertEqual(row.csvLine, final.csvLine)
            XCTAssertEqual(row.valLoss, final.valLoss)   // to the bit, not only to the CSV's six decimals
            XCTAssertEqual(sweepExcess, final.excess, accuracy: 1e-6)   // as the run's shard keeps it
            guard case .scored(let new, _) = try other.score(unit, threads: 1) else { return XCTFail("\(unit) not scored") }
            XCTAssertNotEqual(new.excess, final.excess)
            XCTAssertEqual(new.trueEntropy, other.data.trueEntropyPerCharacter)
            XCTAssertEqual(new.excess, new.valLoss - new.trueEntropy)
            XCTAssertEqual(new.genAccuracy, final.genAccuracy)
        }
        // Without its final checkpoint a run is left out, saying why; another run's checkpoint is an error.
        try FileManager.default.removeItem(atPath: directory.path + "/" + units[0].id + ".ckpt")
        guard case .skipped(let why) = try same.score(units[0], threads: 1) else { return XCTFail("scored without a checkpoint") }
        XCTAssertTrue(why.contains("no final checkpoint"), why)
        try FileManager.default.copyItem(atPath: directory.path + "/" + units[1].id + ".ckpt",
                                         toPath: directory.path + "/" + units[0].id + ".ckpt")
        XCTAssertThrowsError(try same.score(units[0], threads: 1))
        // The run's own checkpoint of an earlier step (the stable phase's) is not its final model: an error.
        try FileManager.default.removeItem(atPath: directory.path + "/" + units[0].id + ".ckpt")
        try FileManager.default.copyItem(atPath: directory.path + "/" + units[0].id + ".stable.ckpt",
                                         toPath: directory.path + "/" + units[0].id + ".ckpt")
        XCTAssertThrowsError(try same.score(units[0], threads: 1)) { error in
            XCTAssertTrue("\(error)".contains("is at step 24, but the run's final row is at step 30"), "\(error)")
        }
    }

    func testSizesAndUnits() throws {
        XCTAssertEqual(try ModelSize(parsing: "L4-d96-h4").nonEmbeddingParameters, try ModelSize(parsing: "m").nonEmbeddingParameters)
        XCTAssertThrowsError(try ModelSize(parsing: "L4-d95-h4"))
        XCTAssertThrowsError(try ModelSize(parsing: "huge")) { XCTAssertTrue("\($0)".contains("tiny, xs")) }
        let unit = RunUnit(design: try VocabularyDesign(parsing: "3gram-hin@m=1021,k=2"), size: try ModelSize(parsing: "xs"), seed: 2)
        XCTAssertFalse(unit.id.contains(","))
        XCTAssertFalse(unit.id.contains("@"))
        XCTAssertEqual(Evaluation.wilson(successes: 0, trials: 10).low, 0)
        XCTAssertEqual(Evaluation.wilson(successes: 5, trials: 10).low, 0.2366, accuracy: 1e-4)
    }
}
