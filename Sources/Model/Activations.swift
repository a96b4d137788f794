import Kernels

/// The activation arena of a GPT: every buffer the forward and backward passes touch, carved from one float
/// allocation and one int allocation when the model is made.
struct Activations {
    struct Layer {
        let ln1, ln1Mean, ln1Rstd, qkv, lse, atty, res2, ln2, ln2Mean, ln2Rstd, fc: UnsafeMutablePointer<Float>
        /// tanh inside GELU(fc), kept for the backward pass (GELU's output is recomputed from it into `fcGelu`).
        let fcTanh: UnsafeMutablePointer<Float>
    }

    /// One prediction head: its final LayerNorm, logits, loss and (for multi-token heads j >= 1) the combination
    /// of the previous hidden state with the embedding of the token j steps ahead.
    struct Head {
        let lnf, lnfMean, lnfRstd, logits, dLogits, losses: UnsafeMutablePointer<Float>
        let targets: UnsafeMutablePointer<Int32>
        let hidden, embedded, lnH, lnHMean, lnHRstd, lnE, lnEMean, lnERstd: UnsafeMutablePointer<Float>?
        let shiftedTokens: UnsafeMutablePointer<Int32>?
    }

    let tokens, targets: UnsafeMutablePointer<Int32>
    /// What the input layer keeps from its forward pass for its backward pass.
    let input: InputWorkspace
    let residual: [UnsafeMutablePointer<Float>]
    let layers: [Layer]
    let heads: [Head]
    let layerNormScratch: UnsafeMutablePointer<Float>
    /// GELU's output for the layer at hand (forward: before the MLP's second product; backward: recomputed for its
    /// weight gradient), shared by the layers.
    let fcGelu: UnsafeMutablePointer<Float>
    let dResidual, dLn, dQKV, dAtty, dFc, dEmbedding: UnsafeMutablePointer<Float>
    let dHidden: [UnsafeMutablePointer<Float>]

    /// Carves every buffer for `rows` rows (`batch` windows of `seq`) with `floats` and `ints`, in one fixed order:
    /// the one plan of this arena, run once to count (`plan`) and once to carve.
    init(config: GPTConfig, rows n: Int, batch: Int, seq: Int,
         floats: (Int) -> UnsafeMutablePointer<Float>, ints: (Int) -> UnsafeMutablePointer<Int32>) {
        let d = config.width, c = config.classes
        tokens = ints(n)
        targets = ints(n)
        input = InputWorkspace(config.input.workspace(rows: n, config.inputShape), floats: floats, ints: ints)
        residual = (0...config.layers).map { _ in floats(n * d) }
        layers = (0..<config.layers).map { _ in
            Layer(ln1: floats(n * d), ln1Mean: floats(n), ln1Rstd: floats(n), qkv: floats(n * 3 * d),
                  lse: floats(batch * config.heads * seq), atty: floats(n * d), res2: floats(n * d),
                  ln2: floats(n * d), ln2Mean: floats(n), ln2Rstd: floats(n), fc: floats(n * 4 * d),
                  fcTanh: floats(n * 4 * d))
        }
        heads = (0..<config.predictionDepth).map { j in
            let extra = j > 0
            return Head(lnf: floats(n * d), lnfMean: floats(n), lnfRstd: floats(n), logits: floats(n * c),
                        dLogits: floats(n * c), losses: floats(n), targets: ints(n),
                        hidden: extra ? floats(n * d) : nil, embedded: extra ? floats(n * d) : nil,
                        lnH: extra ? floats(n * d) : nil, lnHMean: extra ? floats(n) : nil,
                        lnHRstd: extra ? floats(n) : nil, lnE: extra ? floats(n * d) : nil,
                        lnEMean: extra ? floats(n) : nil, lnERstd: extra ? floats(n) : nil,
                        shiftedTokens: extra ? ints(n) : nil)
        }
        layerNormScratch = floats(LayerNorm.scratchCount(rows: n, columns: d))
        fcGelu = floats(n * 4 * d)
        dResidual = floats(n * d)
        dLn = floats(n * d)
        dQKV = floats(n * 3 * d)
        dAtty = floats(n * d)
        dFc = floats(n * 4 * d)
        dEmbedding = floats(config.predictionDepth > 1 ? n * d : 0)
        dHidden = config.predictionDepth > 1 ? [floats(n * d), floats(n * d)] : []
    }

    /// The floats and ints the arena holds (the plan counted, in floating point so that the sum cannot overflow).
    static func plan(config: GPTConfig, rows: Int, batch: Int, seq: Int) -> MemoryPlan {
        MemoryPlan { floats, ints in
            _ = Activations(config: config, rows: rows, batch: batch, seq: seq, floats: floats, ints: ints)
        }
    }
}

/// What an arena holds, counted by running its carving code with counting allocators: the allocation and the
/// memory estimate (`GPTConfig.estimatedBytes`) come from the same code, so they cannot disagree.
struct MemoryPlan {
    private(set) var floats = 0.0
    private(set) var ints = 0.0

    init(_ carve: (_ floats: (Int) -> UnsafeMutablePointer<Float>, _ ints: (Int) -> UnsafeMutablePointer<Int32>) -> Void) {
        var floats = 0.0, ints = 0.0
        carve({ floats += Double($0); return UnsafeMutablePointer(bitPattern: 64)! },
              { ints += Double($0); return UnsafeMutablePointer(bitPattern: 64)! })
        self.floats = floats
        self.ints = ints
    }
}

/// One allocation of floats and one of ints, carved in order by an arena's plan (nothing is allocated per step).
final class Arena {
    let floats: UnsafeMutablePointer<Float>
    let ints: UnsafeMutablePointer<Int32>
    let floatCount: Int, intCount: Int

    /// Allocates `plan`'s counts, zeroed.
    init(_ plan: MemoryPlan) {
        floatCount = Int(plan.floats)
        intCount = Int(plan.ints)
        floats = ArenaMemory.allocate(floats: max(1, floatCount))
        floats.initialize(repeating: 0, count: max(1, floatCount))
        ints = .allocate(capacity: max(1, intCount))
        ints.initialize(repeating: 0, count: max(1, intCount))
    }

    deinit {
        ArenaMemory.deallocate(floats)
        ints.deallocate()
    }

    /// Hands out the arena's memory in order, as the plan counted it.
    func carve<T>(_ body: (_ floats: (Int) -> UnsafeMutablePointer<Float>, _ ints: (Int) -> UnsafeMutablePointer<Int32>) -> T) -> T {
        var floatOffset = 0, intOffset = 0
        let result = body({ count in
            defer { floatOffset += count }
            return self.floats + floatOffset
        }, { count in
            defer { intOffset += count }
            return self.ints + intOffset
        })
        precondition(floatOffset == floatCount && intOffset == intCount, "an arena was carved otherwise than its plan counted")
        return result
    }
}
