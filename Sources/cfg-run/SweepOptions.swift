import Runner

/// The options only a sweep takes (see `Options` for those shared with other commands).
enum SweepOptions {
    static let defaults = SweepSettings.defaults
    static func number(_ x: Float) -> String { String(format: "%g", x) }

    static let evalEvery = Options.integer("--eval-every", help: "evaluate (and checkpoint) every N steps (default steps/10)",
                                           default: defaults.evalEvery, range: 1...10_000_000)
    static let learningRate = Options.real("--lr", help: "peak learning rate (default \(number(defaults.learningRate))), reached after warmup, then decayed to --min-lr",
                                           default: defaults.learningRate, range: 0...10)
    static let schedule = Option<String>("--schedule", value: "cosine|wsd", help: "learning-rate schedule after warmup: cosine decay (default), or wsd: warmup-stable-decay, the peak until the final --decay fraction of the steps, then a linear decay (extendable)",
                                         default: "cosine") { text throws(UsageError) in
        guard ["cosine", "wsd"].contains(text) else { throw UsageError("--schedule expects cosine or wsd, got '\(text)'") }
        return text
    }
    static let decay = Options.real("--decay", value: "F", help: "with --schedule wsd: the fraction of the steps the final decay takes (default \(number(ScheduleSettings.defaultDecayFraction)))",
                                    default: ScheduleSettings.defaultDecayFraction, range: 0...1)
    static let extendFrom = Options.text("--extend-from", value: "FILE.csv", help: "start each run from the end of the stable phase of the same run in an earlier wsd sweep with fewer --steps (kept in FILE.csv.runs): the rows are those of training the longer budget from the start")
    static let warmup = Options.integer("--warmup", help: "warmup steps (default 5% of the steps, at least 10)", default: defaults.warmupSteps,
                                        range: 0...10_000_000)
    static let weightDecay = Options.real("--weight-decay", help: "AdamW decoupled weight decay on matrices (default \(number(defaults.adam.weightDecay)))",
                                          default: defaults.adam.weightDecay, range: 0...10)
    static let beta1 = Options.real("--beta1", help: "AdamW beta1 (default \(number(defaults.adam.beta1)))", default: defaults.adam.beta1, range: 0...0.999999)
    static let beta2 = Options.real("--beta2", help: "AdamW beta2 (default \(number(defaults.adam.beta2)))", default: defaults.adam.beta2, range: 0...0.999999)
    static let minimumRate = Options.real("--min-lr", value: "F", help: "final learning rate as a fraction of the peak (default \(number(defaults.minimumLearningRateFraction)))",
                                          default: defaults.minimumLearningRateFraction, range: 0...1)
    static let gradientClip = Options.real("--grad-clip", help: "global gradient-norm clip (default \(number(defaults.adam.gradientClip)); 0 = off)",
                                           default: defaults.adam.gradientClip, range: 0...1e6)
    static let unit = Options.integer("--unit", value: "K", help: "run only unit K (0-based, in size, variant, seed order) and print its rows: one task of a job array",
                                      range: 0...Int.max)
    static let jobs = Options.integer("--jobs", help: "runs trained at once, each with threads/N threads (default: as many as threads, at most the number of runs); results do not depend on it",
                                      range: 1...1024)
    static let slurm = Option(flag: "--slurm", help: "submit the sweep to Slurm as a job array (task K runs unit K) instead of running it here; needs --out")
    /// Taken as given: what an #SBATCH line can carry is SlurmArray's to check (with the reason).
    static let slurmOption = Option<String>("--slurm-option", value: "ARG", help: "an #SBATCH line for --slurm, e.g. --partition=cpu or --time=2:00:00 (repeatable)") { text throws(UsageError) in text }
    static let dryRun = Option(flag: "--dry-run", help: "with --slurm: write FILE.csv.runs/sweep.sbatch but do not submit it")

    /// The sweep's options in `--help` order.
    static let all: [OptionSpec] = [
        Options.sizes.with(help: "model sizes: presets (below) or L<layers>-d<width>-h<heads> (default \(Sweep.defaultSizes.joined(separator: ",")))").spec,
        Options.variants.with(help: "vocabulary designs (default \(Sweep.defaultVariants.joined(separator: ",")))").spec,
        Options.seeds.spec, Options.steps.spec, evalEvery.spec, Options.generationSamples.spec, Options.validationSamples.spec,
        Options.out.with(help: "write the CSV (FILE.csv) there, and keep resumable state in FILE.csv.runs/ (default: stdout)").spec,
        Options.threads.with(help: "worker threads in all (default: all cores), shared by the --jobs runs; results do not depend on it").spec,
        jobs.spec, Options.batch.spec, Options.window.spec, learningRate.spec, schedule.spec, decay.spec, extendFrom.spec,
        warmup.spec, weightDecay.spec, beta1.spec, beta2.spec, minimumRate.spec, gradientClip.spec, Options.positions.spec,
        Options.dataSeed.spec, unit.spec, slurm.spec, slurmOption.spec, dryRun.spec, Options.maxMemory.spec,
    ]

    /// The settings the options give.
    static func settings(_ arguments: ParsedArguments) throws -> SweepSettings {
        var settings = defaults
        settings.grammarPath = arguments.positionals[0]
        settings.steps = try arguments.value(Options.steps)
        settings.evalEvery = try arguments.value(evalEvery)
        settings.generationSamples = try arguments.value(Options.generationSamples)
        settings.validationSamples = try arguments.value(Options.validationSamples)
        settings.batch = try arguments.value(Options.batch)
        settings.window = try arguments.value(Options.window)
        settings.learningRate = try arguments.value(learningRate)
        settings.warmupSteps = try arguments.value(warmup)
        settings.adam.weightDecay = try arguments.value(weightDecay)
        settings.adam.beta1 = try arguments.value(beta1)
        settings.adam.beta2 = try arguments.value(beta2)
        settings.minimumLearningRateFraction = try arguments.value(minimumRate)
        settings.adam.gradientClip = try arguments.value(gradientClip)
        settings.dataSeed = try arguments.value(Options.dataSeed)
        settings.positions = try arguments.value(Options.positions)
        if try arguments.value(schedule) == "wsd" {
            settings.schedule = ScheduleSettings(kind: .warmupStableDecay, decayFraction: try arguments.value(decay))
        } else if arguments.given(decay) {
            throw UsageError("--decay goes with --schedule wsd")
        }
        return settings
    }
}
