import Foundation

/// cuBLAS through `dlopen`, loaded on a function's first product: GEMM for `dot`, `gemm` and the
/// matrix-vector forms (a vector is a one-column matrix).
///
/// Not yet run on a GPU (docs/GPU.md).
struct CUBLAS: @unchecked Sendable {
    private typealias Create = @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Int32
    private typealias SetStream = @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32
    private typealias Sgemm =
        @convention(c) (
            OpaquePointer?, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>, UInt64, Int32, UInt64, Int32,
            UnsafePointer<Float>, UInt64, Int32
        ) -> Int32
    private typealias Dgemm =
        @convention(c) (
            OpaquePointer?, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Double>, UInt64, Int32, UInt64, Int32,
            UnsafePointer<Double>, UInt64, Int32
        ) -> Int32

    let path: String
    private let handle: OpaquePointer?
    private let sgemm: Sgemm, dgemm: Dgemm

    /// Where cuBLAS is looked for, in order: `THEANO_CUBLAS`, `$CUDA_HOME/lib64`,
    /// `/usr/local/cuda/lib64`, PyTorch's copy, then the dynamic loader (`libcublas.so.13`, `.12`).
    static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var paths: [String] = []
        if let explicit = environment["THEANO_CUBLAS"], !explicit.isEmpty { paths.append(explicit) }
        let folders =
            [environment["CUDA_HOME"].map { $0 + "/lib64" }, "/usr/local/cuda/lib64"].compactMap { $0 }
            + ["/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib"]
        for folder in folders {
            for name in ["libcublas.so.13", "libcublas.so.12"] { paths.append(folder + "/" + name) }
        }
        return paths + ["libcublas.so.13", "libcublas.so.12"]
    }

    /// The first cuBLAS found, with a handle on the current context whose products start on
    /// `stream` (so that they are queued and captured with the kernels around them); throws
    /// naming every place searched when there is none.
    static func load(stream: OpaquePointer?) throws -> CUBLAS {
        var tried: [String] = []
        for path in candidates() {
            if path.contains("/") && !FileManager.default.fileExists(atPath: path) { continue }
            tried.append(path)
            guard let lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else { continue }
            func symbol<T>(_ name: String, _: T.Type) -> T? { dlsym(lib, name).map { unsafeBitCast($0, to: T.self) } }
            guard let create = symbol("cublasCreate_v2", Create.self), let s = symbol("cublasSgemm_v2", Sgemm.self),
                let d = symbol("cublasDgemm_v2", Dgemm.self),
                let setStream = symbol("cublasSetStream_v2", SetStream.self)
            else { continue }
            var handle: OpaquePointer?
            let status = create(&handle)
            guard status == 0 else {
                throw TheanoError(.runtime, "cuBLAS (\(path)): cublasCreate failed with status \(status)")
            }
            let set = setStream(handle, stream)
            guard set == 0 else {
                throw TheanoError(.runtime, "cuBLAS (\(path)): cublasSetStream failed with status \(set)")
            }
            return CUBLAS(path: path, handle: handle, sgemm: s, dgemm: d)
        }
        throw TheanoError(
            .config,
            "cuBLAS was not found (searched: \(candidates().joined(separator: ", "))); set THEANO_CUBLAS to "
                + "libcublas.so's path" + (tried.isEmpty ? "" : " (could not load: \(tried.joined(separator: ", ")))"))
    }

    /// Row-major `g` as column-major cuBLAS sees it: `Cᵀ = op(B)ᵀ · op(A)ᵀ`, so the operands swap.
    func run(_ g: DeviceGemm) throws {
        let (ta, tb) = (Int32(g.transB ? 1 : 0), Int32(g.transA ? 1 : 0))
        let (m, n, k) = (Int32(g.n), Int32(g.m), Int32(g.k))
        let status: Int32
        if g.double {
            var (alpha, beta) = (g.alpha, g.beta)
            status = dgemm(
                handle, ta, tb, m, n, k, &alpha, g.b.address, Int32(g.ldb), g.a.address, Int32(g.lda), &beta,
                g.c.address, Int32(g.ldc))
        } else {
            var (alpha, beta) = (Float(g.alpha), Float(g.beta))
            status = sgemm(
                handle, ta, tb, m, n, k, &alpha, g.b.address, Int32(g.ldb), g.a.address, Int32(g.lda), &beta,
                g.c.address, Int32(g.ldc))
        }
        guard status == 0 else {
            throw TheanoError(.runtime, "cuBLAS gemm (\(g.m)×\(g.k) · \(g.k)×\(g.n)) failed with status \(status)")
        }
    }
}
