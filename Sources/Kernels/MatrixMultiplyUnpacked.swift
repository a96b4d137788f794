extension MatrixMultiply {
    /// Known zeros of a causal (triangular) product that `multiplyUnpacked` may skip. Skipping a term that is an
    /// exact zero product (`0 · x` with finite x) leaves a fused multiply-add chain unchanged, so the elements that
    /// are computed have the same bits as with `.none`.
    public enum Triangle: Sendable {
        /// Every element is computed.
        case none
        /// Only C[i, j] with j <= offset + i is needed: tiles wholly above that diagonal are not computed (their
        /// elements of C are left as they were).
        case lowerColumns(offset: Int)
        /// A[i, p] = 0 for p > offset + i: each row panel's chain stops after its last row's nonzero terms.
        case lowerDepth(offset: Int)
        /// A[i, p] = 0 for p < i: each row panel's chain starts at its first row's index.
        case upperDepth
    }

    /// C[m×n] (= or +=) A·B on the calling thread, reading A and B where they lie (no packing): for the many small
    /// products inside fused kernels (attention), where packing costs as much as the arithmetic.
    ///
    /// Element (i, p) of A is `a[i*aRowStride + p*aDepthStride]` (row-major A: strides (lda, 1); the transpose of a
    /// row-major matrix: (1, lda)); B is row-major k×n with row stride `ldb`.
    ///
    /// Same arithmetic as `multiply`: every element of C is one chain of fused multiply-adds in increasing p,
    /// starting from 0 (or from C when accumulating), so the two give bit-identical results. The same 6×16 register
    /// tile sweeps column panels (outer; the panel of B stays in L1) and row panels (inner). A partial row panel
    /// repeats its last row (computed, not stored); a partial column panel is copied into a zero-padded panel first
    /// (but for one of exactly 8 columns, which the 8-column tile reads in place).
    public static func multiplyUnpacked(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, aRowStride: Int, aDepthStride: Int,
        b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, triangle: Triangle = .none
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0 && ldb >= n && ldc >= n, "MatrixMultiply.multiplyUnpacked: bad shape")
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate {
                for i in 0..<m { (c + i * ldc).initialize(repeating: 0, count: n) }
            }
            return
        }
        let scratch = GemmScratch.current
        var j = 0
        while j < n {
            let width = min(nr, n - j)
            var panel = b + j, panelStride = ldb
            // The 8-column kernels read 8 columns of B: a panel of exactly 8 is read in place; a narrower one is
            // copied into a zero-padded panel first.
            if width < nr && width != 8 {
                let padded = scratch.bBuffer(count: k * nr)
                for p in 0..<k {
                    for jj in 0..<width { padded[p * nr + jj] = b[p * ldb + j + jj] }
                    for jj in width..<nr { padded[p * nr + jj] = 0 }
                }
                panel = UnsafePointer(padded)
                panelStride = nr
            }
            var i = 0
            while i < m {
                let h = min(mr, m - i)
                var p0 = 0, p1 = k
                switch triangle {
                case .none: break
                case .lowerColumns(let offset): if j > offset + i + h - 1 { p1 = -1 }
                case .lowerDepth(let offset): p1 = min(k, max(1, offset + i + h))
                case .upperDepth: p0 = min(i, k - 1)
                }
                if p1 > p0 {
                    tile(p1 - p0, a + i * aRowStride + p0 * aDepthStride, aRowStride, aDepthStride,
                         panel + p0 * panelStride, panelStride, c + i * ldc + j, ldc, accumulate, rows: h,
                         columns: width, scratch: scratch)
                }
                i += mr
            }
            j += nr
        }
    }

}
