import NDArray

// The CUDA kernels of ``Reduce`` and ``ArgReduce`` (Backend/CUDA/C/reduce.cu): sum, mean, max,
// min and product of a float array over a block of adjacent axes, and argmax/argmin along one axis; one
// module per dtype.

extension Reduce: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let dtype = node.inputs[0].dtype
        guard [.sum, .mean, .max, .min, .prod].contains(kind), dtype.isFloat, let first = axes.first,
            let last = axes.last,
            axes == Array(first...last)
        else { return nil }
        let module = try reductionModule(dtype, runtime)
        return ReduceDeviceKernel(op: self, module: module, runtime: runtime)
    }
}

extension ArgReduce: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let dtype = node.inputs[0].dtype
        guard dtype.isFloat else { return nil }
        return ArgReduceDeviceKernel(op: self, module: try reductionModule(dtype, runtime), runtime: runtime)
    }
}

/// reduce.cu for `dtype`, with both of its kernels.
private func reductionModule(_ dtype: DType, _ runtime: any DeviceRuntime) throws -> any DeviceModule {
    try runtime.fixedModule(
        "reduce.cu", dtype, kernels: [("th_reduce", "th_reduce_args"), ("th_argreduce", "th_argreduce_args")])
}

/// Runs `kernel` of `module` over `x` (contiguous, an (outer, n, inner) block) into a new
/// device array of `shape`, with the kind argument last.
private func launchReduction(
    _ kernel: String, _ module: any DeviceModule, _ runtime: any DeviceRuntime, _ x: NDArray, _ shape: [Int],
    _ dtype: DType, _ buffer: NDArray?, _ block: (outer: Int, n: Int, inner: Int), kind: Int
) throws -> NDArray {
    let src = try runtime.address(reading: x)
    let (out, dst) = try runtime.output(shape, dtype, reusing: buffer)
    let arguments: [Int64] = [
        Int64(src), Int64(dst), Int64(block.outer), Int64(block.n), Int64(block.inner), Int64(kind)
    ]
    try runtime.launch(kernel, of: module, items: block.outer * block.inner, arguments: arguments)
    return out
}

/// An ``ArgReduce`` on the device.
struct ArgReduceDeviceKernel: Kernel, @unchecked Sendable {
    let op: ArgReduce
    let module: any DeviceModule
    let runtime: any DeviceRuntime
    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let x = inputs[0]
        guard x.count > 0 else { return try op.perform(inputs) }
        let (src, outer, n, inner, shape) = try op.block(x)
        let kind = op.isMax ? 1 : 0
        return [
            try launchReduction(
                "th_argreduce", module, runtime, src, shape, .int64, buffers.first ?? nil, (outer, n, inner), kind: kind
            )
        ]
    }
}

/// A ``Reduce`` on the device, its result left there.
struct ReduceDeviceKernel: Kernel, @unchecked Sendable {
    let op: Reduce
    let module: any DeviceModule
    let runtime: any DeviceRuntime
    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let x = inputs[0].contiguous()
        // A product has the sum's block; reduce.cu's code for it is 4.
        let isProduct = op.kind == .prod
        guard let block = (isProduct ? Reduce(kind: .sum, axes: op.axes) : op).block(x), block.outer * block.inner > 0
        else { return try op.perform(inputs) }
        let out = try launchReduction(
            "th_reduce", module, runtime, x, block.shape, x.dtype, buffers.first ?? nil,
            (block.outer, block.n, block.inner), kind: isProduct ? 4 : Int(block.code))
        return [out]
    }
}

extension ReduceTo: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let dtype = node.inputs[0].dtype
        guard dtype.isFloat else { return nil }
        return ReduceToDeviceKernel(module: try reductionModule(dtype, runtime), runtime: runtime)
    }
}

/// A gradient summed back to its input's shape on the device; itself when it has that shape.
struct ReduceToDeviceKernel: Kernel, @unchecked Sendable {
    let module: any DeviceModule
    let runtime: any DeviceRuntime
    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let g = inputs[0]
        guard let (axes, target) = try ReduceTo.plan(g, inputs[1]) else { return [g] }
        let sum = ReduceDeviceKernel(op: Reduce(kind: .sum, axes: axes), module: module, runtime: runtime)
        return [try sum.run([g], into: buffers)[0].reshaped(target)]
    }
}
