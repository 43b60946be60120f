import CKernels
import NDArray

/// Products with a minibatch side, on our own kernels (`Sources/CKernels/short_body.h`): few
/// rows against a wide weight matrix (the forward product `x · W` of a layer, m ≤ 64) and a short
/// inner size (its weight gradient `xᵀ · g` folded into the update `W ← β·W + α·xᵀ·g`, k ≤ 64).
///
/// Each tile keeps 10 rows × 2 vectors of C in registers across the whole inner loop, so the
/// forward product of the MLP tutorial (`20×784 · 784×500`) runs at the FMA units' peak on one
/// core. Across cores the forward product is split along k and
/// the update along C's rows with the same block edges, and ``WorkerPool`` runs block p on the
/// same thread each time: each core then reads and writes the same rows of W step after step,
/// from its own cache (docs/NATIVE.md, "Short products").
enum ShortProduct {
    /// Rows (few-rows products) or inner size (short-inner products) of a minibatch.
    static let minibatch = 4...64

    enum Kind {
        /// m ≤ 64 with a small C: blocks of k, whose partial products are added up.
        case fewRows
        /// k ≤ 64: blocks of C's rows.
        case shortInner
    }

    /// Which kernel a product of `m` rows, `n` columns and inner size `k` goes to, if any: where
    /// the kernels were measured faster than OpenBLAS's (docs/NATIVE.md, "Short products").
    static func kind(m: Int, n: Int, k: Int) -> Kind? {
        guard n >= 128 else { return nil }
        if minibatch.contains(m), k >= 128, k * n >= 1 << 16, m * n <= 1 << 16 { return .fewRows }
        if minibatch.contains(k), m >= 256, n >= 256 { return .shortInner }
        return nil
    }

    /// The block of `0..<length` that part `p` of `parts` takes: edges on multiples of 8, the
    /// same for a forward product's k and the update's rows of the same matrix.
    static func block(_ p: Int, of length: Int, parts: Int) -> Range<Int> {
        WorkerPool.block(p, of: length, parts: parts, multiple: 8)
    }

    /// `out = alpha · a·b + beta · out` through these kernels when the product qualifies; false
    /// (nothing written) otherwise. `a` (m×k) and `b` (k×n, unit stride along n) have `dtype`;
    /// `out` is a contiguous m×n array, not sharing memory with `a` or `b`, holding C when
    /// `beta` is not 0. `level` picks the instruction set (tests run every one the CPU has).
    static func run(
        _ a: NDArray, _ b: NDArray, into out: NDArray, alpha: Double, beta: Double, dtype: DType,
        level: Int32 = NarrowProduct.level
    ) -> Bool {
        let m = a.shape[0]
        let k = a.shape[1]
        let n = b.shape[1]
        // Every product of a function passes here: the shape test comes first.
        guard let kind = kind(m: m, n: n, k: k) else { return false }
        let config = Config.current
        guard config.shortProducts, a.dtype == dtype, b.dtype == dtype, out.dtype == dtype, out.shape == [m, n],
            out.isContiguous,
            b.strides[1] == 1, n >= Int(th_short_block(level, Int64(dtype.itemSize))),
            !out.sharesStorage(with: a), !out.sharesStorage(with: b)
        else { return false }
        let parts = min(config.threads ?? ElementwiseKernel.cores, WorkerPool.maxParts)
        let shape = Problem(kind: kind, m: m, n: n, k: k, ai: a.strides[0], aq: a.strides[1], bk: b.strides[0])
        return withExtendedLifetime((a, b, out)) {
            if dtype == .float32, let kernels = th_short_kernels_f32(level)?.pointee, let product = kernels.product,
                let add = kernels.add
            {
                shape.run(
                    Float(alpha), a.basePointer(as: Float.self), b.basePointer(as: Float.self), Float(beta),
                    out.basePointer(as: Float.self), parts: parts, product: product, add: add)
                return true
            }
            if dtype == .float64, let kernels = th_short_kernels_f64(level)?.pointee, let product = kernels.product,
                let add = kernels.add
            {
                shape.run(
                    alpha, a.basePointer(as: Double.self), b.basePointer(as: Double.self), beta,
                    out.basePointer(as: Double.self), parts: parts, product: product, add: add)
                return true
            }
            return false
        }
    }

    /// One product's kind, sizes and element strides: A(i, q) = a[i·ai + q·aq], B(q, j) =
    /// b[q·bk + j], C contiguous.
    struct Problem {
        let kind: Kind
        let m: Int, n: Int, k: Int
        let ai: Int, aq: Int, bk: Int

        typealias Product<T> = (
            Int64, Int64, Int64, Int64, Int64, T, UnsafePointer<T>?, Int64, Int64,
            UnsafePointer<T>?, Int64, T, UnsafeMutablePointer<T>?, Int64
        ) -> Void
        typealias Add<T> = (Int64, UnsafePointer<T>?, UnsafeMutablePointer<T>?) -> Void

        /// Runs the product on the caller's thread, or in one block per core when it is large
        /// enough to pay for the hand-off (as ``BLAS`` splits its products).
        func run<T: Sendable & Numeric>(
            _ alpha: T, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ beta: T, _ c: UnsafeMutablePointer<T>,
            parts: Int, product: @escaping Product<T>, add: Add<T>
        ) {
            let (m64, n64, k64, ai64, aq64, bk64) = (Int64(m), Int64(n), Int64(k), Int64(ai), Int64(aq), Int64(bk))
            let along = kind == .fewRows ? k : m
            guard parts > 1, m * n * k >= BLAS.splitThreshold, along >= 64 * parts else {
                product(0, m64, n64, 0, k64, alpha, a, ai64, aq64, b, bk64, beta, c, n64)
                return
            }
            let operands = Operands(a: a, b: b, c: c, product: product)
            if kind == .shortInner {
                WorkerPool.shared.run(parts) { p in
                    let rows = ShortProduct.block(p, of: along, parts: parts)
                    guard !rows.isEmpty else { return }
                    operands.product(
                        Int64(rows.lowerBound), Int64(rows.upperBound), n64, 0, k64, alpha, operands.a, ai64, aq64,
                        operands.b, bk64, beta, operands.c, n64)
                }
                return
            }
            // Blocks of k: block 0 into C, the others into partial products added up after.
            let size = m * n
            let partials = UnsafeMutablePointer<T>.allocate(capacity: size * (parts - 1))
            defer { partials.deallocate() }
            let scratch = Scratch(base: partials)
            WorkerPool.shared.run(parts) { p in
                let depth = ShortProduct.block(p, of: along, parts: parts)
                let target = p == 0 ? operands.c : scratch.base + (p - 1) * size
                guard !depth.isEmpty else {
                    if p > 0 { target.initialize(repeating: T.zero, count: size) }
                    return
                }
                operands.product(
                    0, m64, n64, Int64(depth.lowerBound), Int64(depth.upperBound), alpha, operands.a, ai64, aq64,
                    operands.b, bk64, p == 0 ? beta : T.zero, target, n64)
            }
            for p in 1..<parts { add(Int64(size), partials + (p - 1) * size, c) }
        }
    }

    /// The pointers and kernel a product's blocks share across threads.
    private struct Operands<T>: @unchecked Sendable {
        let a: UnsafePointer<T>, b: UnsafePointer<T>, c: UnsafeMutablePointer<T>
        let product: Problem.Product<T>
    }

    /// The partial products of blocks 1… of k, each written by its own block only.
    private struct Scratch<T>: @unchecked Sendable {
        let base: UnsafeMutablePointer<T>
    }
}
