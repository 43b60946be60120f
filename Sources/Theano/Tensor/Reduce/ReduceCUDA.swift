import NDArray

// The CUDA kernels of ``Reduce`` and ``ArgReduce`` (Backend/CUDA/C/reduce.cu): sum, mean, max
// and min of a float array over a block of adjacent axes, and argmax/argmin along one axis; one
// module per dtype.

extension Reduce: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let dtype = node.inputs[0].dtype
        guard [.sum, .mean, .max, .min].contains(kind), dtype.isFloat, let first = axes.first, let last = axes.last,
            axes == Array(first...last), let text = EmbeddedC.files["reduce.cu"]
        else { return nil }
        let module = try reductionModule(dtype, text, runtime)
        return ReduceDeviceKernel(op: self, module: module, runtime: runtime)
    }
}

extension ArgReduce: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let dtype = node.inputs[0].dtype
        guard dtype.isFloat, let text = EmbeddedC.files["reduce.cu"] else { return nil }
        return ArgReduceDeviceKernel(op: self, module: try reductionModule(dtype, text, runtime), runtime: runtime)
    }
}

/// reduce.cu for `dtype`, with both of its kernels.
private func reductionModule(_ dtype: DType, _ text: String, _ runtime: any DeviceRuntime) throws -> any DeviceModule {
    let source = (dtype == .float64 ? "#define TH_DOUBLE\n" : "") + text
    return try runtime.module(
        source: source,
        kernels: [
            DeviceKernel(name: "th_reduce", arguments: "th_reduce_args"),
            DeviceKernel(name: "th_argreduce", arguments: "th_argreduce_args")
        ])
}

/// Runs `kernel` of `module` over `x` (contiguous, an (outer, n, inner) block) into `out`, with
/// the kind argument last.
private func launchReduction(
    _ kernel: String, _ module: any DeviceModule, _ runtime: any DeviceRuntime, _ x: NDArray, _ out: NDArray,
    _ block: (outer: Int, n: Int, inner: Int), kind: Int
) throws {
    let inBytes = x.count * x.dtype.itemSize
    let outBytes = out.count * out.dtype.itemSize
    let src = try runtime.allocate(bytes: inBytes)
    defer { runtime.free(src) }
    let dst = try runtime.allocate(bytes: outBytes)
    defer { runtime.free(dst) }
    try withExtendedLifetime(x) { try runtime.upload(x.rawBase, to: src, bytes: inBytes) }
    let arguments: [Int64] = [
        Int64(bitPattern: src.address), Int64(bitPattern: dst.address), Int64(block.outer), Int64(block.n),
        Int64(block.inner), Int64(kind)
    ]
    let threads = runtime.threadsPerBlock
    let blocks = min((block.outer * block.inner + threads - 1) / threads, DeviceElementwiseKernel.maxBlocks)
    try arguments.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        try module.launch(kernel, blocks: blocks, arguments: base)
    }
    try runtime.download(dst, to: out.rawBase, bytes: outBytes)
}

/// An ``ArgReduce`` on the device.
struct ArgReduceDeviceKernel: Kernel, @unchecked Sendable {
    let op: ArgReduce
    let module: any DeviceModule
    let runtime: any DeviceRuntime

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let x = inputs[0]
        guard x.count > 0 else { return try op.perform(inputs) }
        let (src, outer, n, inner, shape) = try op.block(x)
        let out = try NDArray.empty(shape, dtype: .int64)
        try launchReduction("th_argreduce", module, runtime, src, out, (outer, n, inner), kind: op.isMax ? 1 : 0)
        return [out]
    }
}

/// A ``Reduce`` on the device: its input goes up contiguous, its result comes back.
struct ReduceDeviceKernel: Kernel, @unchecked Sendable {
    let op: Reduce
    let module: any DeviceModule
    let runtime: any DeviceRuntime

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let x = inputs[0].contiguous()
        guard let block = op.block(x), block.outer * block.inner > 0 else { return try op.perform(inputs) }
        let out = try NDArray.empty(block.shape, dtype: x.dtype)
        try launchReduction(
            "th_reduce", module, runtime, x, out, (block.outer, block.n, block.inner), kind: Int(block.code))
        return [out]
    }
}
