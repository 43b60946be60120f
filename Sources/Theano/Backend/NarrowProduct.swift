import CKernels
import NDArray

/// Products with a narrow side — a few columns against hundreds of rows, such as `x · W` and the
/// gradient `xᵀ · g` of a 10-class output layer — on our own kernels (`Sources/CKernels`).
///
/// OpenBLAS computes a narrow N in sub-blocks of 8, 4, 2 and 1 columns, and its sub-blocks of 2
/// and 4 run far from the machine's peak. These kernels keep 5 or 10 columns in registers and
/// stream the wide operand once. They are used where they were measured faster (docs/NATIVE.md,
/// "Narrow products").
enum NarrowProduct {
    /// The kernels' instruction set for this CPU: 2 AVX-512, 1 AVX2 with FMA, 0 the baseline.
    static let level: Int32 = {
        #if arch(x86_64)
            switch BLAS.coreTypeForThisCPU() {
            case "SkylakeX": return 2
            case "Haswell": return 1
            default: return 0
            }
        #else
            return 0
        #endif
    }()

    /// Whether a product of `m` rows, `n` columns and inner size `k` with `n` its narrow side
    /// goes to these kernels: 3–15 columns but not 8 (OpenBLAS's 8-wide blocks are as fast), and
    /// enough work to amortise packing the narrow operand.
    static func worthIt(m: Int, n: Int, k: Int) -> Bool {
        (3...15).contains(n) && n != 8 && m >= 256 && k >= 64 && m * k >= 1 << 17
    }

    /// `out = alpha · a·b + beta · out` through the narrow kernels when the product qualifies;
    /// false (nothing written) otherwise. `a` (m×k) and `b` (k×n) have `dtype`; `out` is a
    /// contiguous m×n array holding C when `beta` is not 0. `level` picks the instruction set
    /// (tests run every one the CPU has).
    static func run(
        _ a: NDArray, _ b: NDArray, into out: NDArray, alpha: Double, beta: Double, dtype: DType,
        level: Int32 = NarrowProduct.level
    ) -> Bool {
        let m = a.shape[0]
        let k = a.shape[1]
        let n = b.shape[1]
        // Every product of a function passes here: the shape test comes first, and the settings
        // are read once, only for products that qualify.
        guard worthIt(m: m, n: n, k: k) || worthIt(m: n, n: m, k: k) else { return false }
        let config = Config.current
        guard config.narrowProducts, a.dtype == dtype, b.dtype == dtype, out.dtype == dtype,
            out.shape == [m, n], out.isContiguous
        else { return false }
        let parts = config.threads ?? ElementwiseKernel.cores
        // The wide operand X (rows × k) and the narrow one S (k × columns); a narrow m is the
        // transposed problem Cᵀ = bᵀ · aᵀ.
        let (problem, x, s): (Problem, NDArray, NDArray)
        if worthIt(m: m, n: n, k: k) {
            problem = Problem(
                rows: m, columns: n, k: k, xi: a.strides[0], xq: a.strides[1], sk: b.strides[0], sj: b.strides[1],
                ci: n, cj: 1)
            (x, s) = (a, b)
        } else if worthIt(m: n, n: m, k: k) {
            problem = Problem(
                rows: n, columns: m, k: k, xi: b.strides[1], xq: b.strides[0], sk: a.strides[1], sj: a.strides[0],
                ci: 1, cj: n)
            (x, s) = (b, a)
        } else {
            return false
        }
        // The kernels read X along k (rows) or along its rows (columns), one of them unit-stride.
        guard problem.xq == 1 || problem.xi == 1 else { return false }
        // The arrays' storage must outlive the raw pointers the kernels are given.
        return withExtendedLifetime((x, s, out)) {
            if dtype == .float32, let kernels = th_narrow_kernels_f32(level)?.pointee {
                problem.run(
                    Float(alpha), x.basePointer(as: Float.self), s.basePointer(as: Float.self), Float(beta),
                    out.basePointer(as: Float.self), parts: parts,
                    pack: problem.xq == 1 ? kernels.pack_rows : kernels.pack_cols,
                    kernel: problem.xq == 1 ? kernels.rows : kernels.cols)
                return true
            }
            if dtype == .float64, let kernels = th_narrow_kernels_f64(level)?.pointee {
                problem.run(
                    alpha, x.basePointer(as: Double.self), s.basePointer(as: Double.self), beta,
                    out.basePointer(as: Double.self), parts: parts,
                    pack: problem.xq == 1 ? kernels.pack_rows : kernels.pack_cols,
                    kernel: problem.xq == 1 ? kernels.rows : kernels.cols)
                return true
            }
            return false
        }
    }

    /// One product's sizes and element strides: X(i, q) = x[i·xi + q·xq], S(q, j) = s[q·sk + j·sj],
    /// C(i, j) = c[i·ci + j·cj].
    struct Problem {
        let rows: Int, columns: Int, k: Int
        let xi: Int, xq: Int, sk: Int, sj: Int, ci: Int, cj: Int

        typealias Pack<T> = (Int64, Int64, UnsafePointer<T>?, Int64, Int64, UnsafeMutablePointer<T>?) -> Void
        typealias Kernel<T> = (
            Int64, Int64, Int64, Int64, T, UnsafePointer<T>?, Int64, UnsafePointer<T>?, T,
            UnsafeMutablePointer<T>?, Int64, Int64
        ) -> Void

        /// Packs S once, then computes C's rows on the caller's thread, or in one block per core
        /// when the product is large enough to pay for the hand-off (as ``BLAS`` splits its
        /// products). Splitting k instead for the columns kernel, so that each core sums the
        /// rows of X it read in the product before, was measured slower: partial results to add
        /// up, S packed per part (docs/NATIVE.md, "Figures behind the code").
        func run<T: Sendable>(
            _ alpha: T, _ x: UnsafePointer<T>, _ s: UnsafePointer<T>, _ beta: T, _ c: UnsafeMutablePointer<T>,
            parts: Int, pack: Pack<T>?, kernel: Kernel<T>?
        ) {
            guard let pack, let kernel else { return }
            let byRows = xq == 1
            let size = Int(
                byRows
                    ? th_narrow_rows_packed(Int64(columns), Int64(k)) : th_narrow_cols_packed(Int64(columns), Int64(k)))
            let packed = UnsafeMutablePointer<T>.allocate(capacity: max(size, 1))
            defer { packed.deallocate() }
            pack(Int64(columns), Int64(k), s, Int64(sk), Int64(sj), packed)
            let (n, depth, xs, ci, cj) = (Int64(columns), Int64(k), Int64(byRows ? xi : xq), Int64(ci), Int64(cj))
            guard parts > 1, rows * columns * k >= BLAS.splitThreshold, rows >= 64 * parts else {
                kernel(0, Int64(rows), n, depth, alpha, x, xs, packed, beta, c, ci, cj)
                return
            }
            // Blocks of whole 32-row steps, the kernels' widest tile.
            let operands = Operands(x: x, packed: UnsafePointer(packed), c: c, kernel: kernel)
            let total = rows
            WorkerPool.shared.run(parts) { p in
                let block = WorkerPool.block(p, of: total, parts: parts, multiple: 32)
                guard !block.isEmpty else { return }
                operands.kernel(
                    Int64(block.lowerBound), Int64(block.upperBound), n, depth, alpha, operands.x, xs, operands.packed,
                    beta, operands.c, ci, cj)
            }
        }
    }

    /// The pointers and kernel a product's blocks share across threads.
    private struct Operands<T>: @unchecked Sendable {
        let x: UnsafePointer<T>, packed: UnsafePointer<T>, c: UnsafeMutablePointer<T>
        let kernel: Problem.Kernel<T>
    }
}
