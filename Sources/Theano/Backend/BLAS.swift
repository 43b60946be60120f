import Foundation
import NDArray

#if canImport(Glibc)
    import Glibc
#endif

/// The BLAS library, loaded at run time with `dlopen` (OpenBLAS, then BLIS, then the path in
/// `THEANO_BLAS`), so the package builds everywhere and a missing BLAS degrades to the built-in
/// GEMM with one warning instead of failing.
///
/// Before loading OpenBLAS, `OPENBLAS_CORETYPE` is set from the CPU's features when the user has
/// not set it: Debian's OpenBLAS 0.3.21 mistakes AVX-512 CPUs for "Prescott" and runs SGEMM about
/// 5× slower otherwise. `OPENBLAS_THREAD_TIMEOUT` gets 20 when unset: OpenBLAS's idle threads
/// then spin for ~2²⁰ cycles (under a millisecond) instead of its default 2²⁸ (~0.1 s), during
/// which they compete with our own parallel loops for the cores (LeNet: ~20 % faster per
/// minibatch; back-to-back products, as in the MLP step, are still within the spin).
public final class BLAS: @unchecked Sendable {
    typealias GemmF =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float,
            UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
            UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    typealias GemmD =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Double,
            UnsafePointer<Double>?, Int32, UnsafePointer<Double>?, Int32, Double,
            UnsafeMutablePointer<Double>?, Int32
        ) -> Void

    typealias GemvF =
        @convention(c) (
            Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
            UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    typealias GemvD =
        @convention(c) (
            Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32,
            UnsafePointer<Double>?, Int32, Double, UnsafeMutablePointer<Double>?, Int32
        ) -> Void
    typealias GerF =
        @convention(c) (
            Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
            UnsafePointer<Float>?, Int32, UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    typealias GerD =
        @convention(c) (
            Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32,
            UnsafePointer<Double>?, Int32, UnsafeMutablePointer<Double>?, Int32
        ) -> Void

    private let sgemmEntry: GemmF
    private let dgemmEntry: GemmD
    /// Level-2 routines, when the library has them.
    let sgemv: GemvF?, dgemv: GemvD?, sger: GerF?, dger: GerD?
    private let handle: UnsafeMutableRawPointer
    /// The file that was loaded.
    public let path: String

    private init(handle: UnsafeMutableRawPointer, sgemm: GemmF, dgemm: GemmD, path: String) {
        self.handle = handle
        sgemmEntry = sgemm
        dgemmEntry = dgemm
        self.path = path
        sgemv = dlsym(handle, "cblas_sgemv").map { unsafeBitCast($0, to: GemvF.self) }
        dgemv = dlsym(handle, "cblas_dgemv").map { unsafeBitCast($0, to: GemvD.self) }
        sger = dlsym(handle, "cblas_sger").map { unsafeBitCast($0, to: GerF.self) }
        dger = dlsym(handle, "cblas_dger").map { unsafeBitCast($0, to: GerD.self) }
    }

    /// The loaded library, or nil (after one warning on stderr) when none could be found.
    public static let shared: BLAS? = load()

    private static func load() -> BLAS? {
        if getenv("OPENBLAS_CORETYPE") == nil, let core = coreTypeForThisCPU() {
            setenv("OPENBLAS_CORETYPE", core, 0)
        }
        setenv("OPENBLAS_THREAD_TIMEOUT", "20", 0)
        var candidates = [
            "libopenblas.so.0", "libopenblas.so", "libblis.so.4", "libblis.so",
            "libopenblas.dylib", "/System/Library/Frameworks/Accelerate.framework/Accelerate"
        ]
        if let custom = getenv("THEANO_BLAS") { candidates.insert(String(cString: custom), at: 0) }
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let s = dlsym(handle, "cblas_sgemm"), let d = dlsym(handle, "cblas_dgemm") else {
                dlclose(handle)
                continue
            }
            let blas = BLAS(
                handle: handle, sgemm: unsafeBitCast(s, to: GemmF.self), dgemm: unsafeBitCast(d, to: GemmD.self),
                path: name)
            if let n = Config.current.blasThreads {
                blas.setThreads(n)
            } else if blas.setThreads(1) {
                blas.splitsProducts = true
            }
            return blas
        }
        let message = "theano: no BLAS found (tried \(candidates.joined(separator: ", "))); using the built-in GEMM, "
            + "which is much slower. Install libopenblas0.\n"
        FileHandle.standardError.write(Data(message.utf8))
        return nil
    }

    /// `SkylakeX` on AVX-512, `Haswell` on AVX2, from `/proc/cpuinfo` (Linux only).
    static func coreTypeForThisCPU() -> String? {
        // Read to end of file: /proc files report size 0, so size-based reads come back empty.
        guard let data = FileHandle(forReadingAtPath: "/proc/cpuinfo")?.readDataToEndOfFile(),
            let info = String(data: data, encoding: .utf8),
            let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if flags.contains("avx512f") && flags.contains("avx512bw") { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// OpenBLAS's name for the kernels it chose (`SkylakeX`, `Haswell`, …); nil for other libraries.
    public var coreName: String? {
        guard let f = dlsym(handle, "openblas_get_corename") else { return nil }
        typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
        return unsafeBitCast(f, to: CoreName.self)().map { String(cString: $0) }
    }

    /// Sets OpenBLAS's thread count (no effect on other libraries); products are then no longer
    /// split across cores by us.
    public static func setThreads(_ n: Int) {
        guard let blas = shared, blas.setThreads(n) else { return }
        blas.splitsProducts = false
    }

    /// Whether the library's thread count could be set.
    @discardableResult
    private func setThreads(_ n: Int) -> Bool {
        guard let f = dlsym(handle, "openblas_set_num_threads") else { return false }
        typealias SetThreads = @convention(c) (Int32) -> Void
        unsafeBitCast(f, to: SetThreads.self)(Int32(n))
        return true
    }

    /// Whether GEMMs are split across cores here, with OpenBLAS itself on one thread. Its own
    /// threading splits products of few rows badly: two single-threaded calls on halves of C run
    /// faster than its two threads (docs/NATIVE.md, "Figures behind the code"). Each product
    /// larger than ``splitThreshold`` with fewer than ``wideProduct`` rows or columns is cut
    /// along C's longer side into one block per core, run on ``WorkerPool``; wider ones run on
    /// OpenBLAS's threads. Off when `blas_threads` is set (OpenBLAS's own threads then).
    private(set) var splitsProducts = false

    /// Products smaller than this (m·n·k) run in one call: a hand-off costs more.
    static let splitThreshold = 1 << 21
    /// Products with at least this many rows and columns run on OpenBLAS's own threads.
    static let wideProduct = 512

    /// Runs `body` with OpenBLAS on its default thread count (one per core). The count is
    /// global: a product split concurrently on another thread may then use more threads than
    /// cores for a moment, which costs time but not correctness.
    private func withLibraryThreads(_ body: () -> Void) {
        // Our spinning workers would hold the cores OpenBLAS's threads are about to need.
        WorkerPool.shared.park()
        setThreads(ElementwiseKernel.cores)
        body()
        setThreads(1)
    }

    /// Runs `body` on blocks of C's rows or columns, one per core, when the product is worth it.
    private func split(
        m: Int, n: Int, k: Int, _ body: @escaping @Sendable (_ rows: Range<Int>, _ columns: Range<Int>) -> Void
    ) {
        let parts = Config.current.threads ?? ElementwiseKernel.cores
        let byRows = m >= n
        let length = max(m, n)
        guard splitsProducts, parts > 1, m * n * k >= Self.splitThreshold, length >= 32 * parts else {
            body(0..<m, 0..<n)
            return
        }
        // Wide on both sides: OpenBLAS's threads share the packed panels of B, where our blocks
        // would each pack all of it (2048²: ~5 % slower split).
        if min(m, n) >= Self.wideProduct {
            withLibraryThreads { body(0..<m, 0..<n) }
            return
        }
        // Block edges on multiples of 16, the kernels' register tiles.
        WorkerPool.shared.run(parts) { p in
            let block = WorkerPool.block(p, of: length, parts: parts, multiple: 16)
            guard !block.isEmpty else { return }
            if byRows { body(block, 0..<n) } else { body(0..<m, block) }
        }
    }

    /// Row-major `cblas_sgemm` (order 101), split across cores when ``splitsProducts``.
    func sgemm(
        _ order: Int32, _ ta: Int32, _ tb: Int32, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Float,
        _ a: UnsafePointer<Float>?, _ lda: Int32, _ b: UnsafePointer<Float>?, _ ldb: Int32, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>?, _ ldc: Int32
    ) {
        let entry = sgemmEntry
        product(m, n, k, GemmOperands(a: a, b: b, c: c, ta: ta, tb: tb, lda: lda, ldb: ldb, ldc: ldc)) {
            rows, columns, pa, pb, pc in
            entry(order, ta, tb, rows, columns, k, alpha, pa, lda, pb, ldb, beta, pc, ldc)
        }
    }

    /// Row-major `cblas_dgemm`, split like ``sgemm(_:_:_:_:_:_:_:_:_:_:_:_:_:_:)``.
    func dgemm(
        _ order: Int32, _ ta: Int32, _ tb: Int32, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Double,
        _ a: UnsafePointer<Double>?, _ lda: Int32, _ b: UnsafePointer<Double>?, _ ldb: Int32, _ beta: Double,
        _ c: UnsafeMutablePointer<Double>?, _ ldc: Int32
    ) {
        let entry = dgemmEntry
        product(m, n, k, GemmOperands(a: a, b: b, c: c, ta: ta, tb: tb, lda: lda, ldb: ldb, ldc: ldc)) {
            rows, columns, pa, pb, pc in
            entry(order, ta, tb, rows, columns, k, alpha, pa, lda, pb, ldb, beta, pc, ldc)
        }
    }

    /// Calls `call` (rows, columns and the operands' first elements) once per block of C.
    private func product<T>(
        _ m: Int32, _ n: Int32, _ k: Int32, _ operands: GemmOperands<T>,
        _ call:
            @escaping @Sendable (Int32, Int32, UnsafePointer<T>?, UnsafePointer<T>?, UnsafeMutablePointer<T>?) -> Void
    ) {
        split(m: Int(m), n: Int(n), k: Int(k)) { rows, columns in
            let (pa, pb, pc) = operands.block(rows, columns)
            call(Int32(rows.count), Int32(columns.count), pa, pb, pc)
        }
    }

    /// One call of the library's own `sgemm` on all its threads (its default count), for the
    /// baseline that benchmarks compare with.
    fileprivate func sgemmAsTheLibraryRunsIt(
        _ m: Int32, _ n: Int32, _ k: Int32, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>
    ) {
        let call = { self.sgemmEntry(101, 111, 111, m, n, k, 1, a, k, b, n, 0, c, n) }
        if splitsProducts { withLibraryThreads(call) } else { call() }
    }
}

/// The operands of a product and their layout, shared with the threads computing its blocks.
private struct GemmOperands<T>: @unchecked Sendable {
    let a: UnsafePointer<T>?, b: UnsafePointer<T>?, c: UnsafeMutablePointer<T>?
    /// 111: no transpose, 112: transposed storage; leading dimensions as BLAS takes them.
    let ta: Int32, tb: Int32, lda: Int32, ldb: Int32, ldc: Int32

    /// Where the block of C's `rows` × `columns` and the parts of op(A) and op(B) it needs begin.
    func block(
        _ rows: Range<Int>, _ columns: Range<Int>
    ) -> (UnsafePointer<T>?, UnsafePointer<T>?, UnsafeMutablePointer<T>?) {
        let r = rows.lowerBound
        let j = columns.lowerBound
        return (
            a.map { ta == 111 ? $0 + r * Int(lda) : $0 + r },
            b.map { tb == 111 ? $0 + j : $0 + j * Int(ldb) },
            c.map { $0 + r * Int(ldc) + j }
        )
    }
}

extension BLAS {
    /// `a · b` for contiguous float32 matrices, straight through the loaded library on its
    /// default threads into a new array: the baseline `theano bench` compares compiled `dot`
    /// calls with.
    public static func directMatmul(_ a: NDArray, _ b: NDArray) throws -> NDArray {
        guard let blas = shared else { throw TheanoError(.unsupported, "no BLAS library is loaded") }
        guard a.dtype == .float32, b.dtype == .float32, a.ndim == 2, b.ndim == 2, a.shape[1] == b.shape[0],
            a.isContiguous, b.isContiguous
        else {
            throw TheanoError(.badInput, "directMatmul takes contiguous float32 matrices of matching inner size")
        }
        let m = a.shape[0]
        let k = a.shape[1]
        let n = b.shape[1]
        let c = try NDArray.empty([m, n], dtype: .float32)
        let pa = (a.storage.pointer + a.offset * 4).assumingMemoryBound(to: Float.self)
        let pb = (b.storage.pointer + b.offset * 4).assumingMemoryBound(to: Float.self)
        let pc = c.storage.pointer.assumingMemoryBound(to: Float.self)
        blas.sgemmAsTheLibraryRunsIt(Int32(m), Int32(n), Int32(k), pa, pb, pc)
        return c
    }
}
