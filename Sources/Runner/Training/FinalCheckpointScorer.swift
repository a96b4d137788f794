import Foundation
import Kernels
import Model

/// Scores the final checkpoints of a sweep's finished runs on another validation set (more sentences, or another
/// data seed). A sweep's 500 validation sentences are one sample, shared by every run: part of a difference between
/// two designs comes from which sentences were drawn, and the seeds' intervals do not contain that part. Scoring
/// the same trained models on a larger, independent set measures it.
///
/// Each run's row is its own final row (same model, same generation columns, which do not depend on the validation
/// set) with `val_loss_per_char`, `true_entropy_per_char` and `excess_per_char` of the new set, so the output is a
/// results file that `summary`, `assert` and `plot` read like the sweep's.
public struct FinalCheckpointScorer {
    public let directory: SweepDirectory
    /// The new validation set (and its exact entropy): the sweep's settings with another size and data seed.
    public let data: SweepData

    public init(directory: SweepDirectory, data: SweepData) {
        self.directory = directory
        self.data = data
    }

    /// The settings of `directory`'s sweep with the validation set replaced.
    public static func settings(of directory: SweepDirectory, validationSamples: Int, dataSeed: UInt64) -> SweepSettings {
        var settings = directory.manifest.settings
        settings.validationSamples = validationSamples
        settings.dataSeed = dataSeed
        return settings
    }

    public enum Outcome {
        /// The run's row on the new set, and its excess on the sweep's own set.
        case scored(ResultRow, sweepExcess: Double)
        /// Not scored, and why (not finished, diverged, no final checkpoint).
        case skipped(String)
    }

    /// Scores `unit`'s final checkpoint; `threads` workers for the forward passes (the result does not depend on it).
    public func score(_ unit: RunUnit, threads: Int) throws -> Outcome {
        guard case .finished(let rows) = try directory.state(of: unit), let last = rows.last else {
            return .skipped("not finished")
        }
        guard last.status == "ok" else { return .skipped("\(last.status) at step \(last.step)") }
        let settings = data.settings
        let (config, tokenizer) = try RunExecutor.modelConfig(unit, alphabet: data.grammar.terminals.count, window: data.window,
                                                              batch: settings.batch, positions: settings.positions,
                                                              memoryLimit: .infinity).get()
        let pool = threads > 1 ? WorkerPool(threads: threads) : nil
        let model = GPT(config: config, batch: settings.batch, seq: data.window, pool: pool, seed: unit.seed)
        let path = directory.checkpointPath(unit)
        guard FileManager.default.fileExists(atPath: path) else {
            return .skipped("no final checkpoint \(unit.id).ckpt in \(directory.path) (checkpoints are not committed; the machine that trained the run has it)")
        }
        let metadata: [String: String]
        do { metadata = try Checkpoint.load(into: model, from: path).metadata } catch { throw SweepError("\(error)") }
        // The checkpoint must be this sweep's, at the step of the run's final row.
        guard metadata["sweep"] == directory.fingerprintText else {
            throw SweepError("\(path) belongs to another sweep (its settings' fingerprint is \(metadata["sweep"] ?? "missing"), this folder's \(directory.fingerprintText))")
        }
        guard model.step == last.step else {
            throw SweepError("\(path) is at step \(model.step), but the run's final row is at step \(last.step)")
        }
        let evaluated = GPTEvaluation(model: model, generationBatch: 1)
        var row = last
        row.valLoss = Evaluator(data: data, tokenizer: tokenizer).validationLoss(evaluated)
        row.trueEntropy = data.trueEntropyPerCharacter
        row.excess = row.valLoss - data.trueEntropyPerCharacter
        return .scored(row, sweepExcess: last.excess)
    }
}
