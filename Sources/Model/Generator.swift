import Foundation
import Kernels
import SeededRandom

/// Batched autoregressive sampling from a `GPT` with a key/value cache: each new token runs one row per sequence
/// through the blocks, attending to the cached keys and values of the earlier positions.
///
/// The sampler keeps its own buffers (sized for `batch` sequences of up to the model's `maxSequence` tokens), so it
/// does not disturb the model's training activations. Sampling draws from one `SeededGenerator`, in row order.
/// Each thread runs a share of the rows through all the layers, with a key/value cache of its own; every row's
/// numbers are its own, so the results are the same bits whatever the thread count (a test checks this).
public final class Generator {
    public let model: GPT
    public let batch: Int
    let maxLength: Int
    /// The sampler's arena, and every buffer in it.
    private let arena: Arena
    private let buffers: Buffers

    /// The sampler's buffers: key/value caches per layer (in `Attention.decode`'s layout), one row per sequence of
    /// everything a step computes, the packed weights, the token history and the input layer's workspace.
    struct Buffers {
        let keys, values: [UnsafeMutablePointer<Float>]
        let x, ln, qkv, att, fc, fcGelu, fcTanh, logits, scratch, mean, rstd: UnsafeMutablePointer<Float>
        /// The blocks' four weight matrices and the head's, packed for the matrix multiply at the start of every
        /// call (the model may have trained since the last one): each token step then multiplies without packing.
        let packedWeights: UnsafeMutablePointer<Float>
        /// `[batch, maxLength]` tokens so far, and the current token of every row.
        let history, ids: UnsafeMutablePointer<Int32>
        let input: InputWorkspace

        /// The one plan of the sampler's arena (see `MemoryPlan`).
        init(config c: GPTConfig, batch: Int, floats: (Int) -> UnsafeMutablePointer<Float>, ints: (Int) -> UnsafeMutablePointer<Int32>) {
            let d = c.width, capacity = c.maxSequence
            let cache = Attention.decodeCacheCount(rows: batch, capacity: capacity, width: d)
            keys = (0..<c.layers).map { _ in floats(cache) }
            values = (0..<c.layers).map { _ in floats(cache) }
            x = floats(batch * d); ln = floats(batch * d); qkv = floats(batch * 3 * d); att = floats(batch * d)
            fc = floats(batch * 4 * d); fcGelu = floats(batch * 4 * d); fcTanh = floats(batch * 4 * d)
            logits = floats(batch * c.classes)
            scratch = floats(batch * c.heads * capacity); mean = floats(batch); rstd = floats(batch)
            packedWeights = floats(c.layers * Generator.layerWeights(d) + Linear.packedCount(inputs: d, outputs: c.classes))
            history = ints(batch * capacity)
            ids = ints(batch)
            input = InputWorkspace(c.input.workspace(rows: batch, c.inputShape), floats: floats, ints: ints)
        }
    }

    /// What the sampler's arena holds for `batch` sequences.
    static func plan(config: GPTConfig, batch: Int) -> MemoryPlan {
        MemoryPlan { floats, ints in _ = Buffers(config: config, batch: batch, floats: floats, ints: ints) }
    }

    public init(model: GPT, batch: Int) {
        self.model = model
        self.batch = batch
        maxLength = model.config.maxSequence
        arena = Arena(Generator.plan(config: model.config, batch: batch))
        buffers = arena.carve { floats, ints in Buffers(config: model.config, batch: batch, floats: floats, ints: ints) }
    }

    /// Floats and ints the sampler holds (its arena), as `GPTConfig.estimatedBytes` counts them.
    public var allocatedCount: (floats: Int, ints: Int) { (arena.floatCount, arena.intCount) }

    /// Floats of one block's packed weights: c_attn (3d x d), c_proj (d x d), c_fc (4d x d), mlp c_proj (d x 4d).
    static func layerWeights(_ d: Int) -> Int {
        Linear.packedCount(inputs: d, outputs: 3 * d) + Linear.packedCount(inputs: d, outputs: d)
            + Linear.packedCount(inputs: d, outputs: 4 * d) + Linear.packedCount(inputs: 4 * d, outputs: d)
    }

    /// One block's packed weights, in `packedWeights`: (c_attn, c_proj, c_fc, mlp c_proj).
    private func packedWeights(layer l: Int) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                                 UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
        let d = model.config.width
        let attn = buffers.packedWeights + l * Generator.layerWeights(d)
        let proj = attn + Linear.packedCount(inputs: d, outputs: 3 * d)
        let fc = proj + Linear.packedCount(inputs: d, outputs: d)
        return (attn, proj, fc, fc + Linear.packedCount(inputs: d, outputs: 4 * d))
    }

    private var packedHead: UnsafeMutablePointer<Float> {
        buffers.packedWeights + model.config.layers * Generator.layerWeights(model.config.width)
    }

    /// Packs the model's current weights into `packedWeights`.
    private func packWeights() {
        let c = model.config, d = c.width
        for l in 0..<c.layers {
            let w = model.weights.blocks[l]
            let (attn, proj, fc, fc2) = packedWeights(layer: l)
            Linear.pack(w.attnWeight, inputs: d, outputs: 3 * d, into: attn)
            Linear.pack(w.projWeight, inputs: d, outputs: d, into: proj)
            Linear.pack(w.fcWeight, inputs: d, outputs: 4 * d, into: fc)
            Linear.pack(w.fc2Weight, inputs: 4 * d, outputs: d, into: fc2)
        }
        Linear.pack(model.weights.head, inputs: d, outputs: c.classes, into: packedHead)
    }

    /// Samples up to `batch` sequences (one per prompt, all prompts the same length), each until `isEnd` says
    /// stop or `maxLength` tokens are reached. `classToken` maps a sampled class of the head to the next input
    /// token (the identity for a token head; the first character for a joint n-gram head). Returns the generated
    /// tokens after the prompt for each sequence, and whether it ended by `isEnd`.
    public func generate(prompts: [[Int32]], maxLength limit: Int? = nil, temperature: Float = 1,
                         using generator: inout SeededGenerator, classToken: (Int) -> Int32 = { Int32($0) },
                         isEnd: (Int32) -> Bool) -> [(tokens: [Int32], ended: Bool)] {
        let rows = prompts.count
        precondition(rows <= batch && rows > 0 && prompts.allSatisfy { $0.count == prompts[0].count && !$0.isEmpty })
        let length = min(limit ?? maxLength, maxLength)
        let promptLength = prompts[0].count
        var out = [(tokens: [Int32], ended: Bool)](repeating: ([], false), count: rows)
        packWeights()
        let history = buffers.history, logits = buffers.logits
        for r in 0..<rows { for (t, token) in prompts[r].enumerated() { history[r * maxLength + t] = token } }
        var position = 0
        while position < length {
            step(position: position, rows: rows)
            position += 1
            if position < promptLength { continue }
            if position >= length { break }
            // Sample the next token of every unfinished row.
            let classes = model.config.classes
            var active = false
            for r in 0..<rows where !out[r].ended {
                let choice = Sampling.draw(logits: UnsafeBufferPointer(start: logits + r * classes, count: classes),
                                           temperature: temperature, using: &generator)
                let token = classToken(choice)
                history[r * maxLength + position] = token
                out[r].tokens.append(token)
                if isEnd(token) { out[r].ended = true } else { active = true }
            }
            if !active { break }
        }
        return out
    }

    /// Runs the token at `position` of every row through the model, appending to the caches; leaves the logits
    /// for the next token in `logits`. The input layer, blocks and head are training's own (`config.input`, `Block`,
    /// `OutputHead`), with the attention reading the cache.
    private func step(position t: Int, rows: Int) {
        let model = self.model, c = model.config, d = c.width, x = buffers.x, ids = buffers.ids, history = buffers.history
        for r in 0..<rows { ids[r] = history[r * maxLength + t] }
        c.input.forward(x: x, rows: rows, tokens: ids, sequences: .history(history, stride: maxLength, position: t),
                        weights: model.weights.input, workspace: buffers.input, shape: c.inputShape, pool: nil)
        if let wpe = model.weights.positions {
            for r in 0..<rows { for i in 0..<d { x[r * d + i] += wpe[t * d + i] } }
        }
        // Every row's arithmetic is its own from here on (row-wise norms, products with one fused multiply-add
        // chain per element, attention to its own cache), so each thread runs a contiguous share of the rows through
        // all the layers: one hand-off per token instead of one per operation, and the same bits for any split.
        let pool = model.pool
        let shares = min(rows, pool?.threadCount ?? 1)
        let runShare = { (share: Int) in self.runBlocks(rows: (rows * share / shares)..<(rows * (share + 1) / shares), position: t) }
        if let pool { pool.parallelFor(shares, runShare) } else { runShare(0) }
    }

    /// The blocks, final norm and head for rows `range` at `position` (single-threaded: `step` splits the rows).
    private func runBlocks(rows range: Range<Int>, position t: Int) {
        let model = self.model, c = model.config, d = c.width, b = buffers
        let r0 = range.lowerBound, rows = range.count
        let x = b.x + r0 * d, ln = b.ln + r0 * d, qkv = b.qkv + r0 * 3 * d, att = b.att + r0 * d
        let fc = b.fc + r0 * 4 * d, fcGelu = b.fcGelu + r0 * 4 * d, fcTanh = b.fcTanh + r0 * 4 * d
        let mean = b.mean + r0, rstd = b.rstd + r0, scratch = b.scratch + r0 * c.heads * maxLength
        // The residual stream is updated in place; the two norms share one buffer.
        let buffers = BlockBuffers(input: x, ln1: ln, ln1Mean: mean, ln1Rstd: rstd, qkv: qkv, atty: att, afterAttention: x,
                                   ln2: ln, ln2Mean: mean, ln2Rstd: rstd, fc: fc, fcTanh: fcTanh, fcGelu: fcGelu, output: x)
        // This share's rows have a cache of their own (the part of the batch's cache before row r0 holds the rows
        // before them), so the thread's reads at every step are one run from the start of it.
        let shareCache = Attention.decodeCacheCount(rows: r0, capacity: maxLength, width: d)
        for l in 0..<c.layers {
            let packed = packedWeights(layer: l)
            Block.forward(BlockWeights(model.weights.blocks[l], packed: (UnsafePointer(packed.0), UnsafePointer(packed.1),
                                                                         UnsafePointer(packed.2), UnsafePointer(packed.3))),
                          buffers,
                          rows: rows, config: c,
                          attention: .cache(keys: b.keys[l] + shareCache, values: b.values[l] + shareCache, position: t,
                                            capacity: maxLength, scratch: scratch), pool: nil)
        }
        OutputHead.logits(b.logits + r0 * c.classes, normed: ln, mean: mean, reciprocalStd: rstd, input: x,
                          normWeight: model.weights.finalNormWeight, normBias: model.weights.finalNormBias,
                          head: .packed(packedHead), rows: rows, config: c, pool: nil)
    }

    /// The logits the latest step left, `[rows, classes]` for the rows of the latest call: after `generate`, those
    /// after each sequence's last token.
    public func latestLogits(rows: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: buffers.logits, count: rows * model.config.classes))
    }

    /// Runs one row of `tokens` through the cached decoder and returns the logits after every position
    /// (`tokens.count x classes`): the same numbers as the full forward pass, which the tests check.
    public func cachedLogits(_ tokens: [Int32]) -> [Float] {
        let classes = model.config.classes
        var out: [Float] = []
        packWeights()
        for (t, token) in tokens.enumerated() {
            buffers.history[t] = token
            step(position: t, rows: 1)
            out.append(contentsOf: UnsafeBufferPointer(start: buffers.logits, count: classes))
        }
        return out
    }
}

/// Drawing a class from logits: softmax at a temperature, one uniform draw from the seeded generator, inverse CDF
/// in class order (so a result depends only on the logits and the generator state).
public enum Sampling {
    public static func draw(logits: UnsafeBufferPointer<Float>, temperature: Float, using generator: inout SeededGenerator) -> Int {
        var maxValue = -Float.infinity
        for z in logits { maxValue = max(maxValue, z / temperature) }
        var total = 0.0
        for z in logits { total += exp(Double(z / temperature - maxValue)) }
        let u = generator.nextDouble() * total
        var cumulative = 0.0
        for (i, z) in logits.enumerated() {
            cumulative += exp(Double(z / temperature - maxValue))
            if u < cumulative { return i }
        }
        // Rounding left u at the very top: the last class with positive probability.
        return logits.lastIndex { $0 > -Float.infinity } ?? logits.count - 1
    }
}
