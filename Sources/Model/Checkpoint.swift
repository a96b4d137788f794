import Files
import Foundation

/// A training checkpoint: parameters, AdamW moments, the step and the caller's RNG state, in one versioned
/// binary file with a checksum, written atomically (a temporary file flushed to disk, then a rename), so that a
/// crash or a full disk never leaves a half-written checkpoint behind.
///
/// Layout: "CFGRCKPT", UInt32 version and UInt32 header length (little-endian), the JSON header (config, step,
/// RNG state, parameter count, caller metadata), then parameters, first moments and second moments as float32 in
/// the machine's native byte order (little-endian on x86-64 and ARM64, where cfg-run builds), then a UInt64
/// FNV-1a checksum (little-endian) of everything before it.
public enum Checkpoint {
    public static let version: UInt32 = 1
    static let magic = Array("CFGRCKPT".utf8)

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    struct Header: Codable {
        let config: GPTConfig
        let step: Int
        let rngState: [String]
        let parameterCount: Int
        let metadata: [String: String]
    }

    /// Writes `model` (and `rngState`, `metadata`) to `path` atomically.
    public static func save(_ model: GPT, rngState: (UInt64, UInt64, UInt64, UInt64), metadata: [String: String] = [:],
                            to path: String) throws {
        let header = Header(config: model.config, step: model.step,
                            rngState: [rngState.0, rngState.1, rngState.2, rngState.3].map { String($0) },
                            parameterCount: model.layout.count, metadata: metadata)
        let count = model.layout.count
        try write(header, to: path) { data in
            for buffer in [model.parameters, model.firstMoment, model.secondMoment] {
                data.append(UnsafeBufferPointer(start: buffer, count: count))
            }
        }
    }

    /// Writes a checkpoint file: magic, version, the header's JSON, the tensors `body` appends, the checksum.
    private static func write(_ header: Header, to path: String, body: (inout Data) -> Void) throws(Failure) {
        guard let json = try? JSONEncoder().encode(header) else { throw Failure(description: "\(path): cannot encode the header") }
        var data = Data(magic)
        append(&data, version)
        append(&data, UInt32(json.count))
        data.append(json)
        body(&data)
        append(&data, Checksum.fnv1a(data))
        do { try FileSystem.writeAtomically(data, to: path) } catch { throw Failure(description: "\(error)") }
    }

    /// What a checkpoint file holds, read without a model: its step and the caller's metadata. Checks the format,
    /// version and checksum as `load` does.
    public static func inspect(_ path: String) throws(Failure) -> (step: Int, metadata: [String: String]) {
        let (_, header) = try verifiedHeader(path)
        return (header.step, header.metadata)
    }

    /// Copies the checkpoint at `source` to `destination` with `metadata` merged into its caller metadata (the
    /// model, its optimizer state and RNG state unchanged), checked and written as `save` writes.
    public static func copy(_ source: String, to destination: String, merging metadata: [String: String]) throws(Failure) {
        let (bytes, header) = try verifiedHeader(source)
        let oldLength = Int(read(UInt32.self, bytes, 12))
        let rebound = Header(config: header.config, step: header.step, rngState: header.rngState,
                             parameterCount: header.parameterCount, metadata: header.metadata.merging(metadata) { $1 })
        try write(rebound, to: destination) { $0.append(contentsOf: bytes[(16 + oldLength)..<(bytes.count - 8)]) }
    }

    /// The bytes of a checkpoint file and its header, after checking magic, version and checksum.
    private static func verifiedHeader(_ path: String) throws(Failure) -> (bytes: [UInt8], header: Header) {
        let data: Data
        do { data = try FileSystem.read(path) } catch { throw Failure(description: "\(error)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 24, Array(bytes[0..<8]) == magic else {
            throw Failure(description: "\(path): not a cfg-run checkpoint")
        }
        let version = read(UInt32.self, bytes, 8)
        guard version == Checkpoint.version else {
            throw Failure(description: "\(path): checkpoint version \(version), this build reads version \(Checkpoint.version)")
        }
        let stored = read(UInt64.self, bytes, bytes.count - 8)
        guard Checksum.fnv1a(bytes[0..<(bytes.count - 8)]) == stored else {
            throw Failure(description: "\(path): checksum mismatch (the checkpoint is corrupt or truncated)")
        }
        let headerLength = Int(read(UInt32.self, bytes, 12))
        guard 16 + headerLength <= bytes.count - 8,
              let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[16..<(16 + headerLength)])) else {
            throw Failure(description: "\(path): unreadable checkpoint header")
        }
        return (bytes, header)
    }

    /// Loads a checkpoint into `model` (whose configuration must match) and returns the saved RNG state and
    /// metadata. A missing, truncated, corrupt or mismatched file is a clear error and leaves the model unchanged.
    public static func load(into model: GPT, from path: String) throws -> (rngState: (UInt64, UInt64, UInt64, UInt64), metadata: [String: String]) {
        let (bytes, header) = try verifiedHeader(path)
        let headerLength = Int(read(UInt32.self, bytes, 12))
        guard header.config == model.config, header.parameterCount == model.layout.count else {
            throw Failure(description: "\(path): the checkpoint is for a different model configuration")
        }
        let count = model.layout.count
        guard bytes.count == 16 + headerLength + 3 * count * 4 + 8 else {
            throw Failure(description: "\(path): checkpoint size does not match its header")
        }
        let rng = header.rngState.compactMap { UInt64($0) }
        guard rng.count == 4 else { throw Failure(description: "\(path): bad RNG state in the checkpoint") }
        bytes.withUnsafeBytes { raw in
            var offset = 16 + headerLength
            for buffer in [model.parameters, model.firstMoment, model.secondMoment] {
                UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + offset, byteCount: count * 4)
                offset += count * 4
            }
        }
        model.step = header.step
        return ((rng[0], rng[1], rng[2], rng[3]), header.metadata)
    }

    private static func append<T: FixedWidthInteger>(_ data: inout Data, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    private static func read<T: FixedWidthInteger>(_ type: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }
}
