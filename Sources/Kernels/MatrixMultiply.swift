#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Single-precision matrix multiply, row-major: C[m×n] (= or +=) op(A)[m×k] · op(B)[k×n].
///
/// op(A) = A (stored m×k, row stride `lda`) or Aᵀ (A stored k×m); op(B) = B (stored k×n) or Bᵀ (B stored n×k).
///
/// Design (GotoBLAS/BLIS style):
/// - k is cut into slices of `kc` = 256 (a constant, never dependent on the thread count). op(B) is packed into
///   16-column micro-panels, slice by slice. op(A) is packed into 6-row micro-panels, per block of rows and slice
///   (a block of up to `mcMax` = 192 rows × 256 stays in L2; a B micro-panel, 16 KiB, stays in L1) — except a
///   row-major A that is not both shallow (one k slice) and multiplied by a wide op(B): the kernel reads that in
///   place (each of a tile's 6 rows a contiguous stream); see `inPlaceAPanels`. A bias, if given, is added in the
///   tile after its last k slice.
/// - A 6×16 register tile (12 `SIMD8<Float>` accumulators, explicit fused multiply-add: vfmadd231ps ymm with
///   -march=x86-64-v3) sweeps one k slice, starting from 0 (first slice, no accumulate) or from C.
///   Edge tiles use the same kernel through a small tile buffer (zero-padded B panels; repeated last row of A).
///   So every element of C is one chain of fused multiply-adds in increasing p (a float stored between slices is
///   reloaded exactly), which `multiplyUnpacked` reproduces bit for bit.
/// - Steps of as many k slices as keep the packed op(B) within 2 MiB (`slabBudget`; at least one slice): per step,
///   one pool call packs op(B) for the step, a second runs the tasks — row blocks (× column groups when m is
///   small) — each sweeping the step's slices over its block of C, which stays in L2. Without a pool the same
///   steps run inline (one slice per step when m < k). A small C with a pool (the weight gradients) is instead cut
///   into one strip per thread, each an independent product of its own: no packed panel crosses between cores.
/// - Threads split only the output, so every element of C is produced by one thread with the same sequence of
///   operations (its slices in increasing order, one fused multiply-add per p within a slice) whatever the thread
///   count or loop order: the result is bit-identical with any pool (or none).
/// - Scratch (packing buffers) is per thread (thread-local, grow-only, 64-byte aligned): no allocation per call in
///   steady state. The calling thread's packed-op(B) buffer is about 2 MiB (more only for very wide op(B)).
public enum MatrixMultiply {
    /// Rows of the register tile.
    static let mr = 6
    /// Columns of the register tile (two `SIMD8<Float>`).
    static let nr = 16
    /// Depth of one k slice (an A and a B micro-panel of one slice fit L1). Not part of the numerical definition:
    /// C is stored and reloaded between slices exactly, so each element stays one chain over all of k.
    static let kc = 256
    /// Row-major A is packed only for a wide op(B) (more than this many 16-column panels) of one k slice; otherwise
    /// read in place. Measured on the training shapes (bench --gemm, 1 thread, alternating builds): in place is
    /// faster for narrow products (packing cost about as much as the arithmetic) and for k > 256; packing was
    /// faster on 4096×384×128.
    static let inPlaceAPanels = 8
    /// Rows of op(A) packed per task at most (the packed block, mcMax×kc floats, stays in L2).
    static let mcMax = 192
    /// Columns of op(B) packed per outer step at most.
    static let ncMax = 4096
    /// Floats of packed op(B) per step (as many k slices as fit, at least one): 2 MiB, well inside L3.
    static let slabBudget = 1 << 19
    /// Below this many multiply-adds (~10-20 µs on one core) a call runs on the calling thread only: two pool calls
    /// cost a few µs even with spinning workers, and far more when a worker has to be woken.
    static let parallelThreshold = 1 << 20

    /// C = (or +=) op(A)·op(B). With `bias` (n floats), `bias[j]` is then added to every element of column j: the
    /// same bits as adding it to the finished product, without a second pass over C (each tile adds it to its
    /// registers after its last k slice, before they are stored).
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, bias: UnsafePointer<Float>? = nil, pool: WorkerPool?
    ) {
        multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB,
                 prepacked: nil, c: c, ldc: ldc, accumulate: accumulate, bias: bias, pool: pool)
    }

    /// Floats that `pack` writes for a k×n op(B).
    public static func packedCount(k: Int, n: Int) -> Int { k * ((n + nr - 1) / nr * nr) }

    /// Packs op(B) (k×n) once, in the layout `multiply(prepackedB:)` reads, for many products with the same B (the
    /// weights, during sampling): those products then skip packing, which for a few rows cost as much as the
    /// arithmetic. Layout: column blocks of `ncMax` in order, in each the k slices in order, in each the 16-column
    /// panels (`packedCount` floats in all).
    public static func pack(k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                            into destination: UnsafeMutablePointer<Float>) {
        let o = Operands(a: b, lda: 0, transposeA: false, b: b, ldb: ldb, transposeB: transposeB,
                         c: destination, ldc: 0)
        var jc = 0
        while jc < n {
            let nb = min(ncMax, n - jc), panels = (nb + nr - 1) / nr
            var pc = 0
            while pc < k {
                let kb = min(kc, k - pc)
                packB(o, pc: pc, kb: kb, jc: jc, nb: nb, panels: 0..<panels, into: destination + jc * k + pc * panels * nr)
                pc += kc
            }
            jc += nb
        }
    }

    /// `multiply` with op(B) given packed by `pack` (same bits).
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        prepackedB: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, bias: UnsafePointer<Float>? = nil, pool: WorkerPool?
    ) {
        multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: prepackedB, ldb: n, transposeB: false,
                 prepacked: prepackedB, c: c, ldc: ldc, accumulate: accumulate, bias: bias, pool: pool)
    }

    static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool, prepacked: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, bias: UnsafePointer<Float>?, pool: WorkerPool?
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "MatrixMultiply: negative dimension")
        if m == 0 || n == 0 { return }
        precondition(ldc >= n, "MatrixMultiply: ldc < n")
        if k == 0 {
            if !accumulate {
                for i in 0..<m { (c + i * ldc).initialize(repeating: 0, count: n) }
            }
            if let bias { for i in 0..<m { for j in 0..<n { c[i * ldc + j] += bias[j] } } }
            return
        }
        precondition(lda >= (transposeA ? m : k), "MatrixMultiply: lda too small")
        precondition(ldb >= (transposeB ? k : n), "MatrixMultiply: ldb too small")

        var threads = pool?.threadCount ?? 1
        if m * n * k < parallelThreshold { threads = 1 }

        // A small C (fewer row blocks than two per thread: the weight gradients dYᵀ·X, m and n a layer's widths, k
        // the tokens): one independent single-threaded product per thread on a strip of C, each packing what it
        // reads, so no packed panel crosses from one core to the other. Sharing the packed operands instead ran at
        // half speed in this host's slow phases (likely the two virtual CPUs placed apart, where every crossing is
        // a remote fetch), and was no faster in its quiet ones. A strip repacks only the smaller operand: row
        // strips when op(B) is the smaller (m >= n), column strips otherwise. (Two strips per thread, for balance,
        // measured slower in both phases.)
        if let pool, threads > 1, prepacked == nil,
           Plan(m: m, panels: (min(n, ncMax) + nr - 1) / nr, threads: threads).panelGroups > 1 {
            let byRows = m >= n
            let units = byRows ? (m + mr - 1) / mr : (n + nr - 1) / nr   // row tiles or column panels
            let strips = min(units, threads)
            pool.parallelFor(strips) { strip in
                let lo = units * strip / strips, hi = units * (strip + 1) / strips
                if byRows {
                    let r0 = lo * mr, rows = min(m, hi * mr) - r0
                    multiply(m: rows, n: n, k: k, a: transposeA ? a + r0 : a + r0 * lda, lda: lda,
                             transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB, prepacked: nil,
                             c: c + r0 * ldc, ldc: ldc, accumulate: accumulate, bias: bias, pool: nil)
                } else {
                    let j0 = lo * nr, columns = min(n, hi * nr) - j0
                    multiply(m: m, n: columns, k: k, a: a, lda: lda, transposeA: transposeA,
                             b: transposeB ? b + j0 * ldb : b + j0, ldb: ldb, transposeB: transposeB, prepacked: nil,
                             c: c + j0, ldc: ldc, accumulate: accumulate, bias: bias.map { $0 + j0 }, pool: nil)
                }
            }
            return
        }

        let scratch = GemmScratch.current
        let o = Operands(a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB,
                         c: c, ldc: ldc)

        let slices = (k + kc - 1) / kc
        let parallel = threads > 1 ? pool : nil
        var jc = 0
        while jc < n {
            let nb = min(ncMax, n - jc)
            let panels = (nb + nr - 1) / nr
            let slabWidth = panels * nr
            let plan = Plan(m: m, panels: panels, threads: threads)
            // k slices per step: their packed op(B) stays within the slab budget, so it is
            // consumed from cache rather than written out to memory and read back. One thread with C smaller than
            // op(B) (m < k): one slice per step, so the freshly packed slice is still in L2 for every row block.
            let step = prepacked != nil ? slices
                : parallel == nil && m < k ? 1 : max(1, min(slices, slabBudget / (kc * slabWidth)))
            let packedB = prepacked.map { UnsafeMutablePointer(mutating: $0 + jc * k) }
                ?? scratch.bBuffer(count: min(k, step * kc) * slabWidth)
            // A transposed A is always packed (by each task, for its rows); a row-major A only for a one-slice
            // product with a wide op(B) (see `inPlaceAPanels`), else read in place. (Reading a transposed A in place
            // measured slower on the weight-gradient shapes, e.g. 384×128×4096 at 63-74 GFLOP/s against 77 packed:
            // a tile's 6 values at each p fill a fraction of a cache line, so its panel spans 256 lines.)
            let packsA = transposeA || (panels > inPlaceAPanels && k <= kc)
            let chunks = parallel != nil && nb * kc >= 32_768 ? min(panels, 2 * threads) : 1
            let per = (panels + chunks - 1) / chunks
            var first = 0
            while first < slices {
                let stepSlices = first..<min(slices, first + step)
                let pcBase = first * kc
                let packTasks = prepacked != nil ? 0 : stepSlices.count * chunks
                let pack = { (t: Int) in
                    let pc = pcBase + (t / chunks) * kc, kb = min(kc, k - pc)
                    let lo = (t % chunks) * per, hi = min(panels, lo + per)
                    if lo < hi {
                        packB(o, pc: pc, kb: kb, jc: jc, nb: nb, panels: lo..<hi, into: packedB + (pc - pcBase) * slabWidth)
                    }
                }
                // Each task sweeps the step's slices over its block of C (which stays in L2).
                let multiply = { (t: Int) in
                    let (rows, cols) = plan.task(t, m: m, panels: panels)
                    macroKernel(o, rows: rows, panels: cols, slices: stepSlices, pcBase: pcBase, k: k, packsA: packsA,
                                jc: jc, nb: nb, packedB: UnsafePointer(packedB), slabWidth: slabWidth,
                                accumulate: accumulate, bias: bias)
                }
                if let parallel {
                    parallel.parallelFor(packTasks, pack)
                    parallel.parallelFor(plan.tasks, multiply)
                } else {
                    for t in 0..<packTasks { pack(t) }
                    for t in 0..<plan.tasks { multiply(t) }
                }
                first = stepSlices.upperBound
            }
            jc += nb
        }
    }

    /// Plain triple loop with `Double` accumulation, for tests. Same contract as `multiply` (the pool is unused).
    public static func reference(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, pool: WorkerPool?
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum = accumulate ? Double(c[i * ldc + j]) : 0
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(x) * Double(y)
                }
                c[i * ldc + j] = Float(sum)
            }
        }
    }

    // MARK: - Internals

    struct Operands {
        let a: UnsafePointer<Float>, lda: Int, transposeA: Bool
        let b: UnsafePointer<Float>, ldb: Int, transposeB: Bool
        let c: UnsafeMutablePointer<Float>, ldc: Int
    }

    /// How the output of one (jc, k slice) step is cut into tasks. Depends on the thread count, but only decides
    /// which thread computes which elements, never how an element is computed.
    struct Plan {
        let mc: Int, rowBlocks: Int, panelsPerTask: Int, panelGroups: Int
        var tasks: Int { rowBlocks * panelGroups }

        init(m: Int, panels: Int, threads: Int) {
            // Row blocks of at most mcMax rows, a multiple of the thread count when there are threads.
            var blocks = (m + mcMax - 1) / mcMax
            if threads > 1 { blocks = min((m + mr - 1) / mr, (blocks + threads - 1) / threads * threads) }
            let rowsPerBlock = (m + blocks - 1) / blocks
            mc = (rowsPerBlock + mr - 1) / mr * mr
            rowBlocks = (m + mc - 1) / mc
            // Fewer than two row blocks per thread (small m): also split the columns. (Smaller row blocks would
            // re-stream all of op(B) once more per block; a column split packs the rows of op(A) once more.)
            var groups = 1
            if threads > 1 && rowBlocks < 2 * threads {
                groups = min(panels, (2 * threads + rowBlocks - 1) / rowBlocks)
            }
            panelsPerTask = (panels + groups - 1) / groups
            panelGroups = (panels + panelsPerTask - 1) / panelsPerTask
        }

        func task(_ t: Int, m: Int, panels: Int) -> (Range<Int>, Range<Int>) {
            let block = t / panelGroups, group = t % panelGroups
            let r0 = block * mc, p0 = group * panelsPerTask
            return (r0..<min(m, r0 + mc), p0..<min(panels, p0 + panelsPerTask))
        }
    }

    /// Packs op(B)[pc..<pc+kb, jc+16·panel ...] into 16-wide micro-panels: panel `q` starts at `dst + q*16*kb`, and
    /// holds for each p the 16 values op(B)[pc+p, jc+16q ..< jc+16q+16] (zeros past the last column).
    static func packB(_ o: Operands, pc: Int, kb: Int, jc: Int, nb: Int, panels: Range<Int>,
                      into dst: UnsafeMutablePointer<Float>) {
        for q in panels {
            let j = jc + q * nr
            let width = min(nr, nb - q * nr)
            var d = dst + q * nr * kb
            if !o.transposeB {
                var s = o.b + pc * o.ldb + j
                if width == nr {
                    for _ in 0..<kb {
                        let raw = UnsafeRawPointer(s), out = UnsafeMutableRawPointer(d)
                        out.storeBytes(of: raw.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                        out.storeBytes(of: raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                                       toByteOffset: 32, as: SIMD8<Float>.self)
                        s += o.ldb
                        d += nr
                    }
                } else {
                    for _ in 0..<kb {
                        for jj in 0..<width { d[jj] = s[jj] }
                        for jj in width..<nr { d[jj] = 0 }
                        s += o.ldb
                        d += nr
                    }
                }
            } else {
                // op(B)[p, j] = B[j*ldb + p]: 16 rows of B written transposed, in 8×8 blocks where possible.
                if width < nr {
                    d.initialize(repeating: 0, count: nr * kb)
                }
                let blockedP = width == nr ? kb / 8 * 8 : 0
                var p = 0
                while p < blockedP {
                    let s = o.b + j * o.ldb + pc + p
                    transpose8x8(s, o.ldb, d + p * nr, nr)
                    transpose8x8(s + 8 * o.ldb, o.ldb, d + p * nr + 8, nr)
                    p += 8
                }
                for jj in 0..<width {
                    let s = o.b + (j + jj) * o.ldb + pc
                    var dd = d + jj + blockedP * nr
                    for p in blockedP..<kb {
                        dd.pointee = s[p]
                        dd += nr
                    }
                }
                d += nr * kb
            }
        }
    }

    /// Packs op(A)[rows, pc..<pc+kb] into 6-row micro-panels at `dst`: panel `q` at
    /// `dst + q*6*kb` holds for each p the 6 values op(A)[rows.lowerBound+6q ..< +6, pc+p] (zeros past the last
    /// row).
    static func packA(_ o: Operands, rows: Range<Int>, pc: Int, kb: Int, into dst: UnsafeMutablePointer<Float>) {
        var i = rows.lowerBound
        var d = dst
        while i < rows.upperBound {
            let height = min(mr, rows.upperBound - i)
            if !o.transposeA {
                // op(A)[i, p] = A[i*lda + p]
                let s0 = o.a + i * o.lda + pc
                if height == mr {
                    let s1 = s0 + o.lda, s2 = s1 + o.lda, s3 = s2 + o.lda, s4 = s3 + o.lda, s5 = s4 + o.lda
                    for p in 0..<kb {
                        d[0] = s0[p]; d[1] = s1[p]; d[2] = s2[p]
                        d[3] = s3[p]; d[4] = s4[p]; d[5] = s5[p]
                        d += mr
                    }
                } else {
                    for p in 0..<kb {
                        for r in 0..<height { d[r] = s0[r * o.lda + p] }
                        for r in height..<mr { d[r] = 0 }
                        d += mr
                    }
                }
                i += mr
                continue
            }
            // op(A)[i, p] = A[p*lda + i]
            var s = o.a + pc * o.lda + i
            if i + 8 <= rows.upperBound {
                // 8 floats in, 8 out: the 2 extra are overwritten by the next p, or for the last p by the next
                // panel's first (which exists: at least 2 more rows follow; never past the range's own panels).
                for _ in 0..<kb {
                    store8(load8(s), d)
                    s += o.lda
                    d += mr
                }
            } else if height == mr {
                for _ in 0..<kb {
                    d[0] = s[0]; d[1] = s[1]; d[2] = s[2]
                    d[3] = s[3]; d[4] = s[4]; d[5] = s[5]
                    s += o.lda
                    d += mr
                }
            } else {
                for _ in 0..<kb {
                    for r in 0..<height { d[r] = s[r] }
                    for r in height..<mr { d[r] = 0 }
                    s += o.lda
                    d += mr
                }
            }
            i += mr
        }
    }

    /// One task: for each k slice of `slices` in order (packed op(B) of the slice at pc at
    /// packedB + (pc - pcBase)·slabWidth), finds its rows of op(A) — read in place unless `packsA`, else packed
    /// here — then runs the register tile over its
    /// column panels (column panel outer, row panel inner: the 16-wide B panel stays in L1, the rows of A in L2).
    static func macroKernel(_ o: Operands, rows: Range<Int>, panels: Range<Int>, slices: Range<Int>, pcBase: Int,
                            k: Int, packsA: Bool, jc: Int, nb: Int, packedB: UnsafePointer<Float>, slabWidth: Int,
                            accumulate: Bool, bias: UnsafePointer<Float>?) {
        let scratch = GemmScratch.current
        let rowPanels = (rows.count + mr - 1) / mr
        let ownA = packsA ? scratch.aBuffer(count: rowPanels * mr * kc) : nil
        for slice in slices {
            let pc = slice * kc, kb = min(kc, k - pc)
            let load = pc > 0 || accumulate
            // op(A)[i, p] at a[(i - rows.lowerBound) * rowStride + p * depthStride], row panels aStep apart.
            let a: UnsafePointer<Float>, rowStride: Int, depthStride: Int, aStep: Int
            if !packsA {
                // Row-major A is read where it lies: each row of the panel is a contiguous stream (packing it cost
                // as much as the arithmetic when k or n is small, as in a narrow model's layers).
                (a, rowStride, depthStride) = (o.a + rows.lowerBound * o.lda + pc, o.lda, 1)
                aStep = mr * o.lda
            } else {
                packA(o, rows: rows, pc: pc, kb: kb, into: ownA!)
                a = UnsafePointer(ownA!)
                (rowStride, depthStride, aStep) = (1, mr, mr * kb)
            }
            let slab = packedB + (pc - pcBase) * slabWidth
            let lastSlice = pc + kb == k
            for q in panels {
                let bp = slab + q * nr * kb
                let j = jc + q * nr
                let width = min(nr, nb - q * nr)
                var ap = a
                var i = rows.lowerBound
                while i < rows.upperBound {
                    tile(kb, ap, rowStride, depthStride, bp, nr, o.c + i * o.ldc + j, o.ldc, load,
                         bias: lastSlice ? bias.map { $0 + j } : nil,
                         rows: min(mr, rows.upperBound - i), columns: width, scratch: scratch)
                    ap += aStep
                    i += mr
                }
            }
        }
    }

    /// One register tile of C at `c`: `rows` × `columns` (at most 6 × 16; B has 16 readable columns). A full tile
    /// runs the kernel on C directly; an edge tile runs it into the thread's 6×16 buffer and copies the valid part.
    @inline(__always)
    static func tile(_ kb: Int, _ a: UnsafePointer<Float>, _ rowStride: Int, _ depthStride: Int,
                     _ b: UnsafePointer<Float>, _ ldb: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ load: Bool,
                     bias: UnsafePointer<Float>? = nil, rows h: Int, columns width: Int, scratch: GemmScratch) {
        if h == mr && width == nr {
            kernel6x16(kb, a, rowStride, depthStride, b, ldb, c, ldc, load, bias: bias, rows: mr)
        } else if h == mr && width == 8 {
            // A panel of 8 columns (the narrowest layers of a small model): half the tile, straight on C.
            kernel6x8(kb, a, rowStride, depthStride, b, ldb, c, ldc, load, bias: bias, rows: mr)
        } else {
            let buffer = scratch.tile
            if load {
                for r in 0..<h { for jj in 0..<width { buffer[r * nr + jj] = c[r * ldc + jj] } }
            }
            // An edge of at most 3 rows (a batch of 32 rows leaves 2): half the work of the 6-row kernel; of at most
            // 8 columns, half again.
            switch (h <= 3, width <= 8) {
            case (true, true): kernel3x8(kb, a, rowStride, depthStride, b, ldb, buffer, nr, load, bias: nil, rows: h)
            case (true, false): kernel3x16(kb, a, rowStride, depthStride, b, ldb, buffer, nr, load, bias: nil, rows: h)
            case (false, true): kernel6x8(kb, a, rowStride, depthStride, b, ldb, buffer, nr, load, bias: nil, rows: h)
            case (false, false): kernel6x16(kb, a, rowStride, depthStride, b, ldb, buffer, nr, load, bias: nil, rows: h)
            }
            // (The bias, of which only `width` floats may exist here, is added as the valid part is copied out.)
            if let bias {
                for r in 0..<h { for jj in 0..<width { c[r * ldc + jj] = buffer[r * nr + jj] + bias[jj] } }
            } else {
                for r in 0..<h { for jj in 0..<width { c[r * ldc + jj] = buffer[r * nr + jj] } }
            }
        }
    }

    /// C[6×16] (= or +=) Σ_p A[r, p] · B[p, 0..<16], one fused multiply-add per p in increasing p, from 0 or (with
    /// `load`) from C. A[r, p] is `a[r*rowStride + p*depthStride]` (a packed panel: strides 1 and 6; a row-major
    /// matrix: lda and 1); rows past `rows` repeat row `rows - 1`, so nothing outside A is read. B[p, j] is
    /// `b[p*ldb + j]`. The inner loop is 2 loads, 6 broadcasts and 12 vfmadd231ps ymm per p.
    @inline(never)
    static func kernel6x16(_ kb: Int, _ a: UnsafePointer<Float>, _ rowStride: Int, _ depthStride: Int,
                           _ b: UnsafePointer<Float>, _ ldb: Int,
                           _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ load: Bool, bias: UnsafePointer<Float>?,
                           rows: Int) {
        kernel(tileRows: 6, kb, a, rowStride, depthStride, b, ldb, c, ldc, load, bias: bias, rows: rows)
    }

    /// `kernel6x16` for a tile of 3 rows (rows 3-5 neither computed nor stored).
    @inline(never)
    static func kernel3x16(_ kb: Int, _ a: UnsafePointer<Float>, _ rowStride: Int, _ depthStride: Int,
                           _ b: UnsafePointer<Float>, _ ldb: Int,
                           _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ load: Bool, bias: UnsafePointer<Float>?,
                           rows: Int) {
        kernel(tileRows: 3, kb, a, rowStride, depthStride, b, ldb, c, ldc, load, bias: bias, rows: rows)
    }

    /// `kernel6x16` for the first 8 columns only (B's panel is still 16 wide; columns 8-15 are neither computed nor
    /// stored): every element the same chain of fused multiply-adds.
    @inline(never)
    static func kernel6x8(_ kb: Int, _ a: UnsafePointer<Float>, _ rowStride: Int, _ depthStride: Int,
                          _ b: UnsafePointer<Float>, _ ldb: Int,
                          _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ load: Bool, bias: UnsafePointer<Float>?,
                          rows: Int) {
        kernel8(tileRows: 6, kb, a, rowStride, depthStride, b, ldb, c, ldc, load, bias: bias, rows: rows)
    }

    /// `kernel6x8` for a tile of 3 rows.
    @inline(never)
    static func kernel3x8(_ kb: Int, _ a: UnsafePointer<Float>, _ rowStride: Int, _ depthStride: Int,
                          _ b: UnsafePointer<Float>, _ ldb: Int,
                          _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ load: Bool, bias: UnsafePointer<Float>?,
                          rows: Int) {
        kernel8(tileRows: 3, kb, a, rowStride, depthStride, b, ldb, c, ldc, load, bias: bias, rows: rows)
    }

    /// The 8-column body: `kernel`'s first accumulator of each row, the same loads, broadcasts and fused
    /// multiply-adds in the same order.
    @inline(__always)
    static func kernel8(tileRows: Int, _ kb: Int, _ a: UnsafePointer<Float>, _ rowStride: Int, _ depthStride: Int,
                        _ b: UnsafePointer<Float>, _ ldb: Int,
                        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ load: Bool, bias: UnsafePointer<Float>?,
                        rows: Int) {
        let six = tileRows > 3
        typealias V = SIMD8<Float>
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
        let row = ldc &* 4
        let cr = UnsafeMutableRawPointer(c)
        if load {
            c0 = cr.loadUnaligned(as: V.self)
            c1 = cr.loadUnaligned(fromByteOffset: row, as: V.self)
            c2 = cr.loadUnaligned(fromByteOffset: 2 &* row, as: V.self)
            if six {
                c3 = cr.loadUnaligned(fromByteOffset: 3 &* row, as: V.self)
                c4 = cr.loadUnaligned(fromByteOffset: 4 &* row, as: V.self)
                c5 = cr.loadUnaligned(fromByteOffset: 5 &* row, as: V.self)
            }
        }
        let o1 = min(1, rows &- 1) &* rowStride, o2 = min(2, rows &- 1) &* rowStride
        let o3 = min(3, rows &- 1) &* rowStride, o4 = min(4, rows &- 1) &* rowStride
        let o5 = min(5, rows &- 1) &* rowStride
        var pa = a
        var pb = UnsafeRawPointer(b)
        let bStep = ldb &* 4
        var p = 0
        while p < kb {
            let b0 = pb.loadUnaligned(as: V.self)
            c0 = c0.addingProduct(V(repeating: pa[0]), b0)
            c1 = c1.addingProduct(V(repeating: pa[o1]), b0)
            c2 = c2.addingProduct(V(repeating: pa[o2]), b0)
            if six {
                c3 = c3.addingProduct(V(repeating: pa[o3]), b0)
                c4 = c4.addingProduct(V(repeating: pa[o4]), b0)
                c5 = c5.addingProduct(V(repeating: pa[o5]), b0)
            }
            pa += depthStride
            pb += bStep
            p &+= 1
        }
        if let bias {
            let b0 = load8(bias)
            c0 += b0; c1 += b0; c2 += b0
            if six { c3 += b0; c4 += b0; c5 += b0 }
        }
        cr.storeBytes(of: c0, as: V.self)
        cr.storeBytes(of: c1, toByteOffset: row, as: V.self)
        cr.storeBytes(of: c2, toByteOffset: 2 &* row, as: V.self)
        if six {
            cr.storeBytes(of: c3, toByteOffset: 3 &* row, as: V.self)
            cr.storeBytes(of: c4, toByteOffset: 4 &* row, as: V.self)
            cr.storeBytes(of: c5, toByteOffset: 5 &* row, as: V.self)
        }
    }

    /// The body of both kernels; `tileRows` (6 or 3) is a constant where it is inlined, so the branches on it fold.
    @inline(__always)
    static func kernel(tileRows: Int, _ kb: Int, _ a: UnsafePointer<Float>, _ rowStride: Int, _ depthStride: Int,
                       _ b: UnsafePointer<Float>, _ ldb: Int,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ load: Bool, bias: UnsafePointer<Float>?,
                       rows: Int) {
        let six = tileRows > 3
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        let row = ldc &* 4
        let cr = UnsafeMutableRawPointer(c)
        if load {
            c00 = cr.loadUnaligned(as: V.self); c01 = cr.loadUnaligned(fromByteOffset: 32, as: V.self)
            c10 = cr.loadUnaligned(fromByteOffset: row, as: V.self)
            c11 = cr.loadUnaligned(fromByteOffset: row &+ 32, as: V.self)
            c20 = cr.loadUnaligned(fromByteOffset: 2 &* row, as: V.self)
            c21 = cr.loadUnaligned(fromByteOffset: 2 &* row &+ 32, as: V.self)
            if six {
                c30 = cr.loadUnaligned(fromByteOffset: 3 &* row, as: V.self)
                c31 = cr.loadUnaligned(fromByteOffset: 3 &* row &+ 32, as: V.self)
                c40 = cr.loadUnaligned(fromByteOffset: 4 &* row, as: V.self)
                c41 = cr.loadUnaligned(fromByteOffset: 4 &* row &+ 32, as: V.self)
                c50 = cr.loadUnaligned(fromByteOffset: 5 &* row, as: V.self)
                c51 = cr.loadUnaligned(fromByteOffset: 5 &* row &+ 32, as: V.self)
            }
        }
        let o1 = min(1, rows &- 1) &* rowStride, o2 = min(2, rows &- 1) &* rowStride
        let o3 = min(3, rows &- 1) &* rowStride, o4 = min(4, rows &- 1) &* rowStride
        let o5 = min(5, rows &- 1) &* rowStride
        var pa = a
        var pb = UnsafeRawPointer(b)
        let bStep = ldb &* 4
        var p = 0
        while p < kb {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
            var x = V(repeating: pa[0])
            c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = V(repeating: pa[o1])
            c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = V(repeating: pa[o2])
            c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            if six {
                x = V(repeating: pa[o3])
                c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
                x = V(repeating: pa[o4])
                c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
                x = V(repeating: pa[o5])
                c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
            }
            pa += depthStride
            pb += bStep
            p &+= 1
        }
        if let bias {
            let b0 = load8(bias), b1 = load8(bias + 8)
            c00 += b0; c01 += b1; c10 += b0; c11 += b1; c20 += b0; c21 += b1
            if six { c30 += b0; c31 += b1; c40 += b0; c41 += b1; c50 += b0; c51 += b1 }
        }
        cr.storeBytes(of: c00, as: V.self); cr.storeBytes(of: c01, toByteOffset: 32, as: V.self)
        cr.storeBytes(of: c10, toByteOffset: row, as: V.self)
        cr.storeBytes(of: c11, toByteOffset: row &+ 32, as: V.self)
        cr.storeBytes(of: c20, toByteOffset: 2 &* row, as: V.self)
        cr.storeBytes(of: c21, toByteOffset: 2 &* row &+ 32, as: V.self)
        if six {
            cr.storeBytes(of: c30, toByteOffset: 3 &* row, as: V.self)
            cr.storeBytes(of: c31, toByteOffset: 3 &* row &+ 32, as: V.self)
            cr.storeBytes(of: c40, toByteOffset: 4 &* row, as: V.self)
            cr.storeBytes(of: c41, toByteOffset: 4 &* row &+ 32, as: V.self)
            cr.storeBytes(of: c50, toByteOffset: 5 &* row, as: V.self)
            cr.storeBytes(of: c51, toByteOffset: 5 &* row &+ 32, as: V.self)
        }
    }
}

/// A grow-only, 64-byte aligned float buffer (freed by its owner).
struct GrowOnlyBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>?
    private var capacity = 0

    /// At least `count` floats; the same memory as last time unless it had to grow (contents then not kept).
    mutating func get(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let pointer, capacity >= count { return pointer }
        free()
        capacity = max(count, 2 * capacity)
        let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: capacity)
        pointer = grown
        return grown
    }

    mutating func free() {
        if let pointer { UnsafeMutableRawPointer(pointer).deallocate() }
        pointer = nil
    }
}

/// Per-thread packing buffers (and the fused kernels' working memory); freed when the thread exits.
final class GemmScratch {
    private var a = GrowOnlyBuffer(), b = GrowOnlyBuffer()
    /// Working memory of the kernels built on `multiplyUnpacked` (attention) and of LayerNorm's backward pass;
    /// never used by the products themselves.
    private var work = GrowOnlyBuffer()
    let tile: UnsafeMutablePointer<Float>

    init() {
        tile = UnsafeMutableRawPointer.allocate(byteCount: 6 * 16 * 4, alignment: 64).bindMemory(to: Float.self, capacity: 96)
    }

    deinit {
        UnsafeMutableRawPointer(tile).deallocate()
        a.free(); b.free(); work.free()
    }

    func aBuffer(count: Int) -> UnsafeMutablePointer<Float> { a.get(count) }
    func bBuffer(count: Int) -> UnsafeMutablePointer<Float> { b.get(count) }
    func workBuffer(count: Int) -> UnsafeMutablePointer<Float> { work.get(count) }

    static var current: GemmScratch {
        if let raw = pthread_getspecific(gemmScratchKey) {
            return Unmanaged<GemmScratch>.fromOpaque(raw).takeUnretainedValue()
        }
        let scratch = GemmScratch()
        pthread_setspecific(gemmScratchKey, Unmanaged.passRetained(scratch).toOpaque())
        return scratch
    }
}

/// A thread's scratch goes when the thread ends (its argument is optional on Linux and not on Darwin).
private func releaseGemmScratch(_ raw: UnsafeMutableRawPointer?) {
    if let raw { Unmanaged<GemmScratch>.fromOpaque(raw).release() }
}

private let gemmScratchKey: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key) { releaseGemmScratch($0) }
    precondition(status == 0, "MatrixMultiply: pthread_key_create failed")
    return key
}()
