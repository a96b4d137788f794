/// The one seeded random number generator of cfg-run: xoshiro256** (Blackman & Vigna), seeded through SplitMix64.
///
/// Every random choice in the project (grammar sampling, data order, weight initialisation) draws from this type,
/// so a result depends only on the seed: the same seed gives the same stream on every machine and build, because
/// the generator and every derived draw (`nextDouble`, `nextInt(below:)`) use only integer arithmetic and exact
/// conversions. Do not pass it to standard-library APIs whose use of the generator is unspecified
/// (`shuffled(using:)`, `Int.random(in:using:)`) when a result must be reproducible across toolchains.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The full generator state, exposed so that checkpoints can save and restore it.
    public var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator for `seed`; different `stream` values give independent streams for the same seed
    /// (e.g. one per run of a sweep, or one for validation data and one for training data).
    public init(seed: UInt64, stream: UInt64 = 0) {
        var mixer = SplitMix64(state: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        // Stream is folded in twice so that (seed, stream) pairs that collide in the xor still differ.
        _ = mixer.next()
        mixer.state &+= stream
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
        if state == (0, 0, 0, 0) { state.0 = 1 }  // the one state xoshiro cannot leave
    }

    /// Restores a generator from a saved `state` (must not be all zero).
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro256** state must not be all zero")
        self.state = state
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (`bound > 0`), unbiased (Lemire's multiply-and-reject method).
    @inlinable
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inlinable
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform float in [0, 1) with 24 random bits.
    @inlinable
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool { a.state == b.state }
}

@inlinable
func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

/// SplitMix64 (Steele, Lea & Flood), used to expand a 64-bit seed into generator state.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
