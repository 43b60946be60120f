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
    typealias GemmF = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float,
                                      UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
                                      UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias GemmD = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Double,
                                      UnsafePointer<Double>?, Int32, UnsafePointer<Double>?, Int32, Double,
                                      UnsafeMutablePointer<Double>?, Int32) -> Void

    typealias GemvF = @convention(c) (Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias GemvD = @convention(c) (Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32,
                                      UnsafePointer<Double>?, Int32, Double, UnsafeMutablePointer<Double>?, Int32) -> Void
    typealias GerF = @convention(c) (Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                     UnsafePointer<Float>?, Int32, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias GerD = @convention(c) (Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32,
                                     UnsafePointer<Double>?, Int32, UnsafeMutablePointer<Double>?, Int32) -> Void

    let sgemm: GemmF
    let dgemm: GemmD
    /// Level-2 routines, when the library has them.
    let sgemv: GemvF?, dgemv: GemvD?, sger: GerF?, dger: GerD?
    private let handle: UnsafeMutableRawPointer
    /// The file that was loaded.
    public let path: String

    private init(handle: UnsafeMutableRawPointer, sgemm: GemmF, dgemm: GemmD, path: String) {
        self.handle = handle
        self.sgemm = sgemm
        self.dgemm = dgemm
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
        var candidates = ["libopenblas.so.0", "libopenblas.so", "libblis.so.4", "libblis.so",
                          "libopenblas.dylib", "/System/Library/Frameworks/Accelerate.framework/Accelerate"]
        if let custom = getenv("THEANO_BLAS") { candidates.insert(String(cString: custom), at: 0) }
        for name in candidates {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let s = dlsym(handle, "cblas_sgemm"), let d = dlsym(handle, "cblas_dgemm") else {
                dlclose(handle)
                continue
            }
            let blas = BLAS(handle: handle, sgemm: unsafeBitCast(s, to: GemmF.self), dgemm: unsafeBitCast(d, to: GemmD.self), path: name)
            if let n = Config.current.blasThreads { blas.setThreads(n) }
            return blas
        }
        FileHandle.standardError.write(Data(
            "theano: no BLAS found (tried \(candidates.joined(separator: ", "))); using the built-in GEMM, which is much slower. Install libopenblas0.\n".utf8))
        return nil
    }

    /// `SkylakeX` on AVX-512, `Haswell` on AVX2, from `/proc/cpuinfo` (Linux only).
    static func coreTypeForThisCPU() -> String? {
        // Read to end of file: /proc files report size 0, so size-based reads come back empty.
        guard let data = FileHandle(forReadingAtPath: "/proc/cpuinfo")?.readDataToEndOfFile(),
              let info = String(data: data, encoding: .utf8),
              let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
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

    /// Sets OpenBLAS's thread count (no effect on other libraries).
    public static func setThreads(_ n: Int) { shared?.setThreads(n) }

    private func setThreads(_ n: Int) {
        guard let f = dlsym(handle, "openblas_set_num_threads") else { return }
        typealias SetThreads = @convention(c) (Int32) -> Void
        unsafeBitCast(f, to: SetThreads.self)(Int32(n))
    }
}

extension BLAS {
    /// `a · b` for contiguous float32 matrices, straight through the loaded library into a new
    /// array: the baseline `theano bench` compares compiled `dot` calls with.
    public static func directMatmul(_ a: NDArray, _ b: NDArray) throws -> NDArray {
        guard let blas = shared else { throw TheanoError(.unsupported, "no BLAS library is loaded") }
        guard a.dtype == .float32, b.dtype == .float32, a.ndim == 2, b.ndim == 2, a.shape[1] == b.shape[0],
              a.isContiguous, b.isContiguous else {
            throw TheanoError(.badInput, "directMatmul takes contiguous float32 matrices of matching inner size")
        }
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        let c = try NDArray.empty([m, n], dtype: .float32)
        let pa = (a.storage.pointer + a.offset * 4).assumingMemoryBound(to: Float.self)
        let pb = (b.storage.pointer + b.offset * 4).assumingMemoryBound(to: Float.self)
        let pc = c.storage.pointer.assumingMemoryBound(to: Float.self)
        blas.sgemm(101, 111, 111, Int32(m), Int32(n), Int32(k), 1, pa, Int32(k), pb, Int32(n), 0, pc, Int32(n))
        return c
    }
}
