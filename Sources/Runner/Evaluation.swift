import Foundation
import Tokenizer

/// Per-character metrics, comparable across vocabulary designs.
public enum Evaluation {
    /// The natural-log loss of each target position of a forward pass, per design:
    /// - character designs: -log p(next character) (the cross-entropy the model computed);
    /// - `Ngram-out`: -log of the marginal of the joint over grams that start with the actual next character;
    /// - `Ngram-gpt`: -log p(next chunk) (a chunk covers several characters).
    /// Returns the summed nats over positions with a target.
    public static func nats(logits: UnsafeBufferPointer<Float>, positionLosses: UnsafeBufferPointer<Float>,
                            targets: [Int32], tokenizer: Tokenizer) -> Double {
        let classes = tokenizer.classes
        var total = 0.0
        if tokenizer.design.kind != .output {
            for (r, target) in targets.enumerated() where target >= 0 { total += Double(positionLosses[r]) }
            return total
        }
        let first = tokenizer.firstCharacter
        for (r, target) in targets.enumerated() where target >= 0 {
            let row = logits.baseAddress! + r * classes
            let wanted = first[Int(target)]
            var maxValue = -Float.infinity
            for c in 0..<classes { maxValue = max(maxValue, row[c]) }
            var all = 0.0, matching = 0.0
            for c in 0..<classes {
                let e = exp(Double(row[c] - maxValue))
                all += e
                if first[c] == wanted { matching += e }
            }
            total += log(all) - log(matching)
        }
        return total
    }

    /// Wilson score interval for `successes` of `trials` at 95%.
    public static func wilson(successes: Int, trials: Int, z: Double = 1.959964) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let n = Double(trials), p = Double(successes) / n
        let denominator = 1 + z * z / n
        let center = (p + z * z / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denominator
        return (max(0, center - half), min(1, center + half))
    }
}
