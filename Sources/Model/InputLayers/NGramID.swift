/// The id of the n-gram ending at a position, shared by training (whole windows) and KV-cached sampling (one
/// position at a time): `sum over j < order of d(t - j) (V + 1)^j`, with d = token + 1 inside the window and 0
/// (padding) before its start; reduced modulo `modulo` for hashed tables (exactly, without overflow).
public enum NGramID {
    @inline(__always)
    public static func id(order k: Int, position t: Int, vocabulary v: Int, modulo: Int?,
                          token: (Int) -> Int32) -> Int32 {
        let base = v + 1
        var id = 0
        var scale = 1
        for j in 0..<k {
            let digit = t - j >= 0 ? Int(token(t - j)) + 1 : 0
            if let modulo {
                id = (id + (digit * scale) % modulo) % modulo
                scale = (scale * base) % modulo
            } else {
                id += digit * scale
                scale *= base
            }
        }
        return Int32(id)
    }

    /// The n-gram id of order k at every row.
    public static func fill(_ ids: UnsafeMutablePointer<Int32>, order k: Int, rows n: Int, sequences: TokenSequences,
                            vocabulary v: Int, modulo: Int? = nil) {
        for r in 0..<n {
            ids[r] = id(order: k, position: sequences.position(ofRow: r), vocabulary: v, modulo: modulo) {
                sequences.token(ofRow: r, at: $0)
            }
        }
    }

    /// Rows of an exact table of order k: every n-gram of padded digits, (V + 1)^k.
    public static func exactRows(order k: Int, vocabulary v: Int) -> Int { IntegerPower.of(v + 1, k) }

    /// An exact table's size for the limit check, in floating point.
    static func exactTable(order k: Int, _ shape: InputShape) -> TableSize {
        TableSize(name: "an exact \(k)-gram table over \(shape.vocabulary) tokens",
                  rows: IntegerPower.of(Double(shape.vocabulary + 1), k), columns: Double(shape.width),
                  advice: ": use hashed n-gram input or a smaller n")
    }
}

/// Integer powers, exact (`Int`) or in floating point for sizes that may be absurd (`Double`): the one place for
/// them (vocabulary sizes, table rows, n-gram ids).
public enum IntegerPower {
    public static func of(_ base: Int, _ exponent: Int) -> Int {
        var result = 1
        for _ in 0..<exponent { result *= base }
        return result
    }

    public static func of(_ base: Double, _ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<exponent { result *= base }
        return result
    }
}
