import Foundation
import Grammar
import Model
import Runner
import Tokenizer

/// Every option of the command line, declared once: name, type, default and validation. Commands list the ones
/// they take (a command may word the help or choose the default, never the validation), so an option means and
/// checks the same everywhere; the parser checks every given value before the command runs.
enum Options {
    // MARK: Kinds of values

    static func integer(_ names: String..., value: String = "N", help: String, default defaultValue: Int? = nil,
                        range: ClosedRange<Int>) -> Option<Int> {
        let name = names.last!
        return Option(names: names, value: value, help: help, defaultValue: defaultValue) { text throws(UsageError) in
            guard let parsed = Int(text.replacingOccurrences(of: "_", with: "")), range.contains(parsed) else {
                throw UsageError("\(name) expects an integer \(describe(range)), got '\(text)'")
            }
            return parsed
        }
    }

    /// A number the training arithmetic holds in 32 bits: a value that would round to 0 there is refused, and -0
    /// reads as 0.
    static func real(_ name: String, value: String = "X", help: String, default defaultValue: Float? = nil,
                     range: ClosedRange<Float>) -> Option<Float> {
        Option(name, value: value, help: help, default: defaultValue) { text throws(UsageError) in
            guard let exact = Double(text), let parsed = Float(exactly: Float(exact)), range.contains(parsed) else {
                throw UsageError("\(name) expects a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
            }
            if exact != 0 && parsed == 0 {
                throw UsageError("\(name) \(text) is too small for 32-bit floating point (it would be 0); give 0 or at least \(Float.leastNormalMagnitude)")
            }
            return parsed + 0
        }
    }

    static func seed(_ name: String, value: String = "S", help: String, default defaultValue: UInt64) -> Option<UInt64> {
        Option(name, value: value, help: help, default: defaultValue) { text throws(UsageError) in
            guard let parsed = UInt64(text) else { throw UsageError("\(name) expects a non-negative integer seed, got '\(text)'") }
            return parsed
        }
    }

    static func text(_ names: String..., value: String, help: String, default defaultValue: String? = nil) -> Option<String> {
        let name = names.last!
        return Option(names: names, value: value, help: help, defaultValue: defaultValue) { text throws(UsageError) in
            if text.isEmpty { throw UsageError("\(name) expects \(value), got ''") }
            return text
        }
    }

    /// A comma-separated list, each item read by `item` (whose errors are prefixed with the option's name).
    static func list<T>(_ name: String, value: String, help: String, default defaultValue: [T]? = nil,
                        item: @escaping (String) throws -> T) -> Option<[T]> {
        Option(name, value: value, help: help, default: defaultValue) { text throws(UsageError) in
            var items: [T] = []
            for (index, piece) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
                let trimmed = piece.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty {
                    throw UsageError("\(name) expects a comma-separated list without empty items, got '\(text)' (item \(index + 1) is empty)")
                }
                do { items.append(try item(trimmed)) }
                catch let error as UsageError { throw error }
                catch { throw UsageError("\(name): \(error)") }
            }
            return items
        }
    }

    /// `K` or `K1-K2` (every piece a whole number within `range`).
    static func span(_ name: String, value: String, help: String, default defaultValue: ClosedRange<Int>,
                     range: ClosedRange<Int>) -> Option<ClosedRange<Int>> {
        Option(name, value: value, help: help, default: defaultValue) { text throws(UsageError) in
            let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(bounds.count), let low = bounds.first!, let high = bounds.last!, range.lowerBound <= low,
                  low <= high, high <= range.upperBound else {
                throw UsageError("\(name) expects K or K1-K2 within \(range.lowerBound)...\(range.upperBound), got '\(text)'")
            }
            return low...high
        }
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        switch (range.lowerBound, range.upperBound) {
        case (Int.min, Int.max): return ""
        case (let low, Int.max): return ">= \(low)"
        case (let low, let high): return "in \(low)...\(high)"
        }
    }

    // MARK: Shared by several commands

    static let cores = ProcessInfo.processInfo.activeProcessorCount
    static let threads = integer("--threads", help: "worker threads (default: all cores); results do not depend on it",
                                 default: cores, range: 1...1024)
    static let seed = seed("--seed", help: "random seed (default 1)", default: 1)
    static let seeds = list("--seeds", value: "1,2,3", help: "training seeds (default 1)", default: [UInt64(1)]) { text -> UInt64 in
        guard let seed = UInt64(text) else { throw UsageError("--seeds expects non-negative integers, got '\(text)'") }
        return seed
    }
    static let out = text("--out", value: "FILE", help: "write the output there (default: stdout)")
    static let window = integer("--window", help: "window length in characters (default: the grammar's longest sentence + 2, at least 64, at most \(SweepData.longestDefaultWindow); 256 if unbounded)",
                                default: SweepSettings.defaults.window, range: 2...100_000)
    static let validationSamples = integer("--val-samples", help: "validation sentences (default \(SweepSettings.defaults.validationSamples))",
                                           default: SweepSettings.defaults.validationSamples, range: 1...10_000_000)
    static let generationSamples = integer("--gen-samples", help: "sentences sampled from BOS per evaluation for gen_accuracy (default \(SweepSettings.defaults.generationSamples))",
                                           default: SweepSettings.defaults.generationSamples, range: 0...10_000_000)
    static let dataSeed = seed("--data-seed", help: "seed of the validation set and of the generation draws (default \(SweepSettings.defaults.dataSeed))",
                               default: SweepSettings.defaults.dataSeed)
    static let positions = Option<GPTConfig.Positions>("--positions", value: "learned|rotary", help: "position encoding (default learned, as GPT-2)",
                                                       default: .learned) { text throws(UsageError) in
        guard let positions = GPTConfig.Positions(rawValue: text) else { throw UsageError("--positions expects learned or rotary, got '\(text)'") }
        return positions
    }
    static let maxMemory = Option<Double>("--max-memory", value: "GB", help: "refuse runs whose model needs more memory than this (default: half this machine's memory, at most 8)",
                                          default: RunExecutor.defaultMemoryLimit) { text throws(UsageError) in
        Double(try real("--max-memory", help: "", range: 0.001...1e6).read(text)) * 1e9
    }
    static let batch = integer("--batch", value: "N", help: "windows per step (default \(SweepSettings.defaults.batch))",
                               default: SweepSettings.defaults.batch, range: 1...100_000)
    static let steps = integer("--steps", help: "training steps per run (default \(SweepSettings.defaults.steps))",
                               default: SweepSettings.defaults.steps, range: 1...10_000_000)
    static let terminals = integer("--terminals", value: "T", help: "alphabet size (default 3, as the cfg3 family)", default: 3,
                                   range: 1...1_000_000)
    static let repeats = integer("--repeats", value: "R", help: "repetitions of each measurement; the median is reported (default 5)",
                                 default: 5, range: 1...1000)
    static let json = Option(flag: "--json", help: "print one JSON object instead of a table")
    static let atStep = integer("--at-step", help: "compare every run's row at step N instead of its final row (runs that had not reached N are named, not used)",
                                range: 0...Int.max)
    static let sizes = list("--sizes", value: "S1,S2,...", help: "model sizes: presets or L<layers>-d<width>-h<heads>",
                            default: try! Sweep.defaultSizes.map { try ModelSize(parsing: $0) }) { try ModelSize(parsing: $0) }
    static let variants = Option<[VocabularyDesign]>("--variants", value: "V1,V2,...", help: "vocabulary designs",
                                                     default: try! Sweep.defaultVariants.map { try VocabularyDesign(parsing: $0) }) { text throws(UsageError) in
        do { return try VocabularyDesign.list(parsing: text) } catch { throw UsageError("--variants: \(error)") }
    }
}
