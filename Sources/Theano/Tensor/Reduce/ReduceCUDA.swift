import NDArray

// The CUDA kernel of ``Reduce`` (Backend/CUDA/C/reduce.cu): sum, mean, max and min of a float
// array over a block of adjacent axes, one module per dtype.

extension Reduce: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let dtype = node.inputs[0].dtype
        guard [.sum, .mean, .max, .min].contains(kind), dtype.isFloat, let first = axes.first, let last = axes.last,
            axes == Array(first...last), let text = EmbeddedC.files["reduce.cu"]
        else { return nil }
        let source = (dtype == .float64 ? "#define TH_DOUBLE\n" : "") + text
        let module = try runtime.module(
            source: source, kernels: [DeviceKernel(name: "th_reduce", arguments: "th_reduce_args")])
        return ReduceDeviceKernel(op: self, module: module, runtime: runtime)
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
        let inBytes = x.count * x.dtype.itemSize
        let outBytes = out.count * out.dtype.itemSize
        let src = try runtime.allocate(bytes: inBytes)
        defer { runtime.free(src) }
        let dst = try runtime.allocate(bytes: outBytes)
        defer { runtime.free(dst) }
        try withExtendedLifetime(x) { try runtime.upload(x.rawBase, to: src, bytes: inBytes) }
        let arguments: [Int64] = [
            Int64(bitPattern: src.address), Int64(bitPattern: dst.address), Int64(block.outer), Int64(block.n),
            Int64(block.inner), Int64(block.code)
        ]
        let threads = runtime.threadsPerBlock
        let blocks = min((block.outer * block.inner + threads - 1) / threads, DeviceElementwiseKernel.maxBlocks)
        try arguments.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            try module.launch("th_reduce", blocks: blocks, arguments: base)
        }
        try runtime.download(dst, to: out.rawBase, bytes: outBytes)
        return [out]
    }
}
