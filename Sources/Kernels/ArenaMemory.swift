import Foundation

/// Memory for the large float arenas (parameters, gradients, activations, KV caches): 2 MiB-aligned and, on Linux,
/// marked for transparent huge pages (`madvise`; the kernel's default here is to use them only where asked). The
/// arenas are tens of MiB streamed every step: with 4 KiB pages that is a TLB miss every 4 KiB. Small arenas get
/// ordinary 64-byte-aligned memory. Contents start uninitialised, as with `allocate(capacity:)`.
public enum ArenaMemory {
    static let hugePage = 1 << 21

    public static func allocate(floats count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = max(1, count) * MemoryLayout<Float>.stride
        let useHuge = bytes >= 2 * hugePage
        let rounded = useHuge ? (bytes + hugePage - 1) / hugePage * hugePage : bytes
        let raw = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: useHuge ? hugePage : 64)
        #if os(Linux)
        if useHuge { _ = madvise(raw, rounded, MADV_HUGEPAGE) }
        #endif
        return raw.bindMemory(to: Float.self, capacity: max(1, count))
    }

    public static func deallocate(_ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).deallocate()
    }
}
