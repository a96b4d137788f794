import Tokenizer

/// Packs whole sentences (BOS ... EOS) into fixed windows; a sentence that does not fit the rest of a window
/// opens the next one. Capacity is measured in character-level tokens (length + 2) for every design, so that every
/// design sees the same sentences in the same windows (an n-gram-gpt window is then partly padding). The only
/// state besides the caller's generator is the sentence carried over to the next window.
struct WindowPacker {
    let tokenizer: Tokenizer
    let window: Int
    var pending: [Int]?

    struct Windows {
        var inputs: [Int32]
        var targets: [Int32]
        var tokens = 0
        var characters = 0
        var count: Int

        init(count: Int, window: Int, padding: Int32) {
            self.count = count
            inputs = [Int32](repeating: padding, count: count * window)
            targets = [Int32](repeating: -1, count: count * window)
        }
    }

    /// Writes `sentence` at token `offset` of window `w`; returns the tokens it took.
    private func place(_ sentence: [Int], window w: Int, offset: Int, into windows: inout Windows) -> Int {
        let encoded = tokenizer.encode(sentence)
        let at = w * window + offset
        for (i, token) in encoded.inputs.enumerated() {
            windows.inputs[at + i] = token
            windows.targets[at + i] = encoded.targets[i]
        }
        windows.tokens += encoded.inputs.count
        windows.characters += encoded.characters
        return encoded.inputs.count
    }

    /// Fills `count` windows with sentences from `next()` (skipping any longer than a window).
    mutating func pack(count: Int, next: () -> [Int]) throws -> Windows {
        var windows = Windows(count: count, window: window, padding: tokenizer.inputPadding)
        for w in 0..<count {
            var capacityUsed = 0, offset = 0, skipped = 0
            while true {
                let sentence = pending ?? next()
                pending = nil
                guard sentence.count + 2 <= window else {
                    skipped += 1
                    if skipped >= 100_000 {
                        throw SweepError("100,000 sentences in a row were longer than the window of \(window) characters: give a larger --window")
                    }
                    continue
                }
                if capacityUsed + sentence.count + 2 > window {
                    pending = sentence
                    break
                }
                offset += place(sentence, window: w, offset: offset, into: &windows)
                capacityUsed += sentence.count + 2
            }
        }
        return windows
    }

    /// Packs all of `sentences` (each must fit a window), in order, into as many windows as needed.
    func packAll(_ sentences: [[Int]]) -> Windows {
        var starts: [Int] = []  // window index of each sentence
        var w = 0, used = 0
        for sentence in sentences {
            precondition(sentence.count + 2 <= window)
            if used + sentence.count + 2 > window { w += 1; used = 0 }
            starts.append(w)
            used += sentence.count + 2
        }
        var windows = Windows(count: sentences.isEmpty ? 0 : w + 1, window: window, padding: tokenizer.inputPadding)
        var offset = 0
        for (i, sentence) in sentences.enumerated() {
            if i > 0 && starts[i] != starts[i - 1] { offset = 0 }
            offset += place(sentence, window: starts[i], offset: offset, into: &windows)
        }
        return windows
    }
}
