import NDArray

/// The entry points of the image kernels (`C/image.c`: direct convolution with few input
/// channels, tiled max pooling) for one element type. The Swift loops in `Tensor/Conv` are the
/// reference DEBUG mode compares these with.
///
/// Every entry has one shape: `(dims, a, b, out, lo, hi) -> status`, where `dims` holds the
/// sizes, `lo ..< hi` is the share of the work (rows or planes) one thread does, and the status
/// is nonzero when the kernel could not allocate its scratch rows (the caller throws).
struct ImageKernels: @unchecked Sendable {
    typealias Entry =
        @convention(c) (
            UnsafePointer<Int64>?, UnsafeRawPointer?, UnsafeRawPointer?,
            UnsafeMutableRawPointer?, Int64, Int64
        ) -> Int32

    /// y = x ⋆ w for output rows lo..<hi (dims C H W F KH KW OH OW; w packed tap-major).
    var correlate: Entry?
    /// dw += Σ gy · x over output rows lo..<hi (dims as `correlate`; dw in (F, C, KH, KW)).
    var correlateGradFilters: Entry?
    /// Max over windows that tile the planes lo..<hi (dims H W OH OW WH WW).
    var maxPool: Entry?
    /// Gradient of ``maxPool``: each window's gradient to its first maximum.
    var maxPoolGrad: Entry?

    init() {}

    /// The first element of a float32 or float64 array, untyped, for an ``Entry``.
    static func pointer(_ a: NDArray) -> UnsafeMutableRawPointer {
        a.rawBase
    }

    init(_ module: NativeModule) throws {
        func sym(_ name: String) throws -> Entry {
            guard let p = module.symbol(name) else {
                throw TheanoError(.compile, "\(module.path) has no symbol \(name)")
            }
            return unsafeBitCast(p, to: Entry.self)
        }
        correlate = try sym("th_correlate")
        correlateGradFilters = try sym("th_correlate_gradw")
        maxPool = try sym("th_maxpool")
        maxPoolGrad = try sym("th_maxpool_grad")
    }
}

/// An op that runs through the image kernels when its shapes suit them, else its reference.
protocol ImageKernelOp: NativeLowering {
    func perform(_ inputs: [NDArray], reusing buffers: [NDArray?], native: FixedKernels?) throws -> [NDArray]
}

extension ImageKernelOp {
    func nativeCode(_ node: Apply) -> NativeSource? { .fixed(.image, forFloat: node) }
    func nativeKernel(_ node: Apply, _ code: LinkedCode) -> (any Kernel)? { ImageKernel(fixed: code.fixed, op: self) }
}

/// A convolution node (direct loops for few channels, ``DirectConv``) or a pooling node (tiled
/// max pooling) through the native image kernels.
struct ImageKernel: Kernel {
    let fixed: FixedKernels
    let op: any ImageKernelOp

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        try op.perform(inputs, reusing: buffers, native: fixed)
    }
}
