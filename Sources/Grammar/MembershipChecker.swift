import Dispatch
import Files
import Synchronization

/// Membership of lines of text in a grammar, a batch at a time (what `cfg-run check` does): each line is encoded
/// (``Grammar/encode(line:)``) and parsed exactly (``ChartParser/logProbability(_:workLimit:)``), on `threads`
/// threads. Every line's verdict depends on that line alone, so the verdicts do not depend on the thread count.
public struct MembershipChecker: Sendable {
    /// The verdict on one line.
    public enum Verdict: Equatable, Sendable {
        /// A string of the grammar, with the natural log of its probability (summed over all its parses).
        case accepted(logProbability: Double)
        /// A string of terminals that the grammar does not derive.
        case rejected
        /// A token that is not a terminal name, starting at `column` (1-based, in Unicode scalars).
        case unknownTerminal(name: String, column: Int)
        /// Bytes that are not UTF-8 text, at `column` (1-based, in Unicode scalars).
        case invalidUTF8(column: Int)
        /// A line over the line reader's length limit (``LineReader/Line/tooLong``): not a line of text, and the
        /// last one the reader hands out.
        case lineTooLong
        /// A string beyond the parser's size limits or the work limit; the message says which.
        case beyondLimits(String)
    }

    public let parser: ChartParser
    /// Chart combinations one string may take (``ChartParser/logProbability(_:workLimit:)``), so that no single
    /// line can stall a batch.
    public let workLimit: Int
    /// Threads that check a batch (the calling thread among them).
    public let threads: Int

    public init(parser: ChartParser, workLimit: Int = .max, threads: Int = 1) {
        self.parser = parser
        self.workLimit = workLimit
        self.threads = max(1, threads)
    }

    /// The verdict on one line.
    public func verdict(on line: LineReader.Line) -> Verdict {
        guard case .text(let text) = line else { return .lineTooLong }
        switch text.withUnsafeBufferPointer({ parser.grammar.encode(line: $0) }) {
        case .failure(.unknownTerminal(let name, let column)):
            return .unknownTerminal(name: name, column: column)
        case .failure(.invalidUTF8(let column)):
            return .invalidUTF8(column: column)
        case .success(let ids):
            do {
                let logProbability = try parser.logProbability(ids, workLimit: workLimit)
                return logProbability > -.infinity ? .accepted(logProbability: logProbability) : .rejected
            } catch {
                return .beyondLimits(error.description)
            }
        }
    }

    /// The verdicts on `lines`, in their order. Lines go to the threads in chunks claimed one at a time, so a slow
    /// line holds up only its own chunk; each line writes only its own verdict.
    public func verdicts(on lines: [LineReader.Line]) -> [Verdict] {
        var verdicts = [Verdict](repeating: .rejected, count: lines.count)
        // Chunks small enough to spread a batch over the threads, large enough to make claiming one cheap.
        let chunk = max(1, min(256, lines.count / (threads * 16)))
        let chunks = (lines.count + chunk - 1) / chunk
        let nextChunk = Atomic<Int>(0)
        verdicts.withUnsafeMutableBufferPointer { verdicts in
            // One iteration per thread (one runs on the calling thread), each claiming chunks until none is left.
            DispatchQueue.concurrentPerform(iterations: min(threads, chunks)) { _ in
                while true {
                    let c = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard c < chunks else { return }
                    for i in (c * chunk)..<min(lines.count, (c + 1) * chunk) { verdicts[i] = verdict(on: lines[i]) }
                }
            }
        }
        return verdicts
    }
}
