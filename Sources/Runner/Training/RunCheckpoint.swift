import Foundation

/// What a run's checkpoint keeps besides the model, its optimizer state and its generator: the counters its rows
/// continue from, the sentence carried over to the next window, and the sweep it belongs to. Stored as the
/// checkpoint's metadata, a JSON object of strings (as earlier versions wrote it: `tokens`, `chars`, `wall_s`,
/// `pending`, `sweep`), and read back checked: a missing or malformed field is an error that names the checkpoint and
/// the field, never a silent zero.
struct RunCheckpoint: Codable, Equatable {
    var tokens = 0
    var characters = 0
    var wallSeconds = 0.0
    /// The sentence that did not fit the last window (terminal ids), or nil.
    var pending: [Int]?
    /// The fingerprint of the sweep's settings (see `SweepDirectory`).
    var sweep: String

    init(sweep: String) { self.sweep = sweep }

    enum CodingKeys: String, CodingKey {
        case tokens, characters = "chars", wallSeconds = "wall_s", pending, sweep
    }

    struct Malformed: Error, CustomStringConvertible { let description: String }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func field<T>(_ key: CodingKeys, _ parse: (String) -> T?) throws -> T {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { throw Malformed(description: "no '\(key.rawValue)' field") }
            guard let value = parse(text) else { throw Malformed(description: "the '\(key.rawValue)' field '\(text.prefix(40))' is malformed") }
            return value
        }
        tokens = try field(.tokens) { Int($0) }
        characters = try field(.characters) { Int($0) }
        wallSeconds = try field(.wallSeconds) { Double($0) }
        let pendingText = try field(.pending) { $0 }
        if pendingText.isEmpty {
            pending = nil
        } else {
            let ids = pendingText.split(separator: " ").map { Int($0) }
            guard ids.allSatisfy({ $0 != nil }) else { throw Malformed(description: "the 'pending' field is malformed") }
            pending = ids.map { $0! }
        }
        sweep = try field(.sweep) { $0 }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("\(tokens)", forKey: .tokens)
        try c.encode("\(characters)", forKey: .characters)
        try c.encode("\(wallSeconds)", forKey: .wallSeconds)
        try c.encode(pending.map { $0.map(String.init).joined(separator: " ") } ?? "", forKey: .pending)
        try c.encode(sweep, forKey: .sweep)
    }

    /// The checkpoint metadata this writes.
    var metadata: [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: JSONEncoder().encode(self))) ?? [:]
    }

    /// Reads a checkpoint's metadata; `checkpoint` names the file in errors.
    init(metadata: [String: String], checkpoint: String) throws {
        do {
            self = try JSONDecoder().decode(RunCheckpoint.self, from: JSONEncoder().encode(metadata))
        } catch let error as Malformed {
            throw SweepError("\(checkpoint): \(error) in the checkpoint's run metadata (damaged, or written by another program)")
        } catch {
            throw SweepError("\(checkpoint): unreadable run metadata (\(error))")
        }
    }
}
