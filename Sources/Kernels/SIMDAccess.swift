// Unaligned SIMD loads and stores on raw float buffers, used by the kernels' inner loops.

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Dot product of two float vectors of length `n` (SIMD8 lanes, then a fixed-order horizontal sum).
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= n {
        acc0.addProduct(load8(a + i), load8(b + i))
        acc1.addProduct(load8(a + i + 8), load8(b + i + 8))
        i += 16
    }
    if i + 8 <= n {
        acc0.addProduct(load8(a + i), load8(b + i))
        i += 8
    }
    var sum = (acc0 + acc1).sum()
    while i < n {
        sum += a[i] * b[i]
        i += 1
    }
    return sum
}

/// y[0..<n] += alpha * x[0..<n]
@inline(__always)
func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let a = SIMD8<Float>(repeating: alpha)
    var i = 0
    while i + 8 <= n {
        store8(load8(y + i).addingProduct(a, load8(x + i)), y + i)
        i += 8
    }
    while i < n {
        y[i] += alpha * x[i]
        i += 1
    }
}

/// Splits `count` items into chunks of a fixed size that does not depend on the thread count, so that per-chunk
/// partial results, summed in chunk order, are the same whatever the number of threads.
@inline(__always)
func fixedChunks(_ count: Int, size: Int) -> Int { (count + size - 1) / size }

/// Writes the transpose of an 8×8 block: dst[j * ldd + i] = src[i * lds + j] for i, j in 0..<8 (unpack, shuffle
/// and 128-bit permute steps; LLVM folds these lane constructions into vunpcklps/vshufps/vperm2f128).
@inline(__always)
func transpose8x8(_ src: UnsafePointer<Float>, _ lds: Int, _ dst: UnsafeMutablePointer<Float>, _ ldd: Int) {
    typealias V = SIMD8<Float>
    let r0 = load8(src), r1 = load8(src + lds), r2 = load8(src + 2 * lds), r3 = load8(src + 3 * lds)
    let r4 = load8(src + 4 * lds), r5 = load8(src + 5 * lds), r6 = load8(src + 6 * lds), r7 = load8(src + 7 * lds)
    @inline(__always) func unpackLow(_ a: V, _ b: V) -> V { V(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5]) }
    @inline(__always) func unpackHigh(_ a: V, _ b: V) -> V { V(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7]) }
    @inline(__always) func pairLow(_ a: V, _ b: V) -> V { V(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5]) }
    @inline(__always) func pairHigh(_ a: V, _ b: V) -> V { V(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7]) }
    @inline(__always) func halvesLow(_ a: V, _ b: V) -> V { V(lowHalf: a.lowHalf, highHalf: b.lowHalf) }
    @inline(__always) func halvesHigh(_ a: V, _ b: V) -> V { V(lowHalf: a.highHalf, highHalf: b.highHalf) }
    let t0 = unpackLow(r0, r1), t1 = unpackHigh(r0, r1), t2 = unpackLow(r2, r3), t3 = unpackHigh(r2, r3)
    let t4 = unpackLow(r4, r5), t5 = unpackHigh(r4, r5), t6 = unpackLow(r6, r7), t7 = unpackHigh(r6, r7)
    let u0 = pairLow(t0, t2), u1 = pairHigh(t0, t2), u2 = pairLow(t1, t3), u3 = pairHigh(t1, t3)
    let u4 = pairLow(t4, t6), u5 = pairHigh(t4, t6), u6 = pairLow(t5, t7), u7 = pairHigh(t5, t7)
    store8(halvesLow(u0, u4), dst)
    store8(halvesLow(u1, u5), dst + ldd)
    store8(halvesLow(u2, u6), dst + 2 * ldd)
    store8(halvesLow(u3, u7), dst + 3 * ldd)
    store8(halvesHigh(u0, u4), dst + 4 * ldd)
    store8(halvesHigh(u1, u5), dst + 5 * ldd)
    store8(halvesHigh(u2, u6), dst + 6 * ldd)
    store8(halvesHigh(u3, u7), dst + 7 * ldd)
}
