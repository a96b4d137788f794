/// The id of the n-gram ending at a position, shared by training (whole windows) and KV-cached sampling (one
/// position at a time): `sum over j < order of d(t - j) (V + 1)^j`, with d = token + 1 inside the window and 0
/// (padding) before its start; reduced modulo `modulo` for hashed tables (exactly, without overflow).
enum NGramID {
    @inline(__always)
    static func id(order k: Int, position t: Int, vocabulary v: Int, modulo: Int?,
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
}
