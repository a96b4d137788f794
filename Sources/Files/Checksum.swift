/// FNV-1a, 64 bits: the checksum of cfg-run's files (checkpoints, shards, done-markers) and the fingerprint of a
/// sweep's settings. It finds damage and edits, not attacks.
public enum Checksum {
    public static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01B3

    /// The checksum of `bytes`, continuing from `hash` (the offset basis for a fresh one).
    public static func fnv1a<S: Sequence>(_ bytes: S, from hash: UInt64 = offsetBasis) -> UInt64 where S.Element == UInt8 {
        var hash = hash
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* prime }
        return hash
    }
}
