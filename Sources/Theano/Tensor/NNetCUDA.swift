import NDArray

// The CUDA kernels of ``Softmax``, ``LogSoftmax``, ``SoftmaxCrossEntropy``, its gradient and
// ``Alloc`` of one value (Backend/CUDA/C/nnet.cu): one thread per row, one module per dtype.

extension Softmax: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        try rowKernel(self, "th_softmax", node, axis: axis, runtime)
    }
}

extension LogSoftmax: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        try rowKernel(self, "th_log_softmax", node, axis: axis, runtime)
    }
}

extension SoftmaxCrossEntropy: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let z = node.inputs[0].type
        return NNetDeviceKernel(op: self, kernel: "th_xent", module: try nnetModule(z.dtype, runtime), runtime: runtime)
    }
}

extension SoftmaxCrossEntropyGrad: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let z = node.inputs[0].type
        return NNetDeviceKernel(
            op: self, kernel: "th_xent_grad", module: try nnetModule(z.dtype, runtime), runtime: runtime)
    }
}

extension Alloc: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let v = node.inputs[0].type
        guard v.dtype.isFloat, v.shape.allSatisfy({ $0 == 1 }) else { return nil }
        return NNetDeviceKernel(op: self, kernel: "th_fill", module: try nnetModule(v.dtype, runtime), runtime: runtime)
    }
}

/// nnet.cu for `dtype`, with all of its kernels.
private func nnetModule(_ dtype: DType, _ runtime: any DeviceRuntime) throws -> any DeviceModule {
    try runtime.fixedModule(
        "nnet.cu", dtype,
        kernels: [
            ("th_softmax", "th_softmax_args"), ("th_xent", "th_xent_args"), ("th_xent_grad", "th_xent_args"),
            ("th_fill", "th_fill_args")
        ])
}

/// A row kernel for a softmax of a float matrix along its rows; nil for other shapes.
private func rowKernel(
    _ op: any Op, _ kernel: String, _ node: Apply, axis: Int, _ runtime: any DeviceRuntime
) throws
    -> (any Kernel)?
{
    let x = node.inputs[0].type
    guard x.dtype.isFloat, x.ndim == 2, axis == 1 else { return nil }
    return NNetDeviceKernel(op: op, kernel: kernel, module: try nnetModule(x.dtype, runtime), runtime: runtime)
}

/// One of nnet.cu's row kernels. Operands of another dtype than the kernel's run on the host.
struct NNetDeviceKernel: Kernel, @unchecked Sendable {
    let op: any Op
    /// The kernel's name (`th_log_softmax` is `th_softmax` with its flag set).
    let kernel: String
    let module: any DeviceModule
    let runtime: any DeviceRuntime
    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let buffer = buffers.first ?? nil
        switch kernel {
        case "th_fill": return try fill(inputs, buffer)
        case "th_softmax", "th_log_softmax": return try softmax(inputs[0], buffer)
        default: return try crossEntropy(inputs, buffer)
        }
    }

    private func softmax(_ x: NDArray, _ buffer: NDArray?) throws -> [NDArray] {
        guard x.ndim == 2, x.count > 0 else { return try op.perform([x]) }
        let (out, po) = try runtime.output(x.shape, x.dtype, reusing: buffer)
        let words: [Int64] = [
            Int64(try runtime.address(reading: x)), Int64(po), Int64(x.shape[0]), Int64(x.shape[1]),
            Int64(x.strides[0]), Int64(x.strides[1]), kernel == "th_log_softmax" ? 1 : 0
        ]
        try runtime.launch("th_softmax", of: module, items: x.shape[0], arguments: words)
        return [out]
    }

    /// The cross-entropy (inputs z, y) or its gradient (z, y, g).
    private func crossEntropy(_ inputs: [NDArray], _ buffer: NDArray?) throws -> [NDArray] {
        let (z, y) = (inputs[0], inputs[1])
        let g = inputs.count > 2 ? inputs[2] : nil
        let rows = z.shape[0]
        guard z.ndim == 2, y.ndim == 1, y.count == rows, rows > 0, z.shape[1] > 0, y.dtype.isInteger,
            g.map({ $0.count == rows && $0.dtype == z.dtype }) ?? true
        else { return try op.perform(inputs) }
        // Labels in host memory are checked there as the CPU checks them, without a transfer; labels
        // only on the device give NaN rows when out of range.
        if !y.storage.isOnlyOnMirror {
            let classes = Int64(z.shape[1])
            if let bad = y.scalars(as: Int64.self).first(where: { $0 < -classes || $0 >= classes }) {
                throw OpError("label \(bad) is out of range for \(classes) classes", kind: .shape)
            }
        }
        let (out, po) = try runtime.output(g == nil ? [rows] : z.shape, z.dtype, reusing: buffer)
        let pg = try g.map { try runtime.address(reading: $0) }
        let words: [Int64] = [
            Int64(try runtime.address(reading: z)), Int64(try runtime.address(reading: y)), pg.map(Int64.init) ?? 0,
            Int64(po), Int64(rows), Int64(z.shape[1]), Int64(z.strides[0]), Int64(z.strides[1]), Int64(y.strides[0]),
            Int64(g?.strides.first ?? 0), Int64(y.dtype.itemSize)
        ]
        try runtime.launch(g == nil ? "th_xent" : "th_xent_grad", of: module, items: rows, arguments: words)
        return [out]
    }

    private func fill(_ inputs: [NDArray], _ buffer: NDArray?) throws -> [NDArray] {
        let shape = try inputs.dropFirst().map { Int(try $0.item()) }
        guard shape.allSatisfy({ $0 >= 0 }), inputs[0].count == 1 else { return try op.perform(inputs) }
        let (out, po) = try runtime.output(shape, inputs[0].dtype, reusing: buffer)
        let value = try inputs[0].item()
        let words: [Int64] = [Int64(po), Int64(out.count), Int64(bitPattern: value.bitPattern)]
        if out.count > 0 { try runtime.launch("th_fill", of: module, items: out.count, arguments: words) }
        return [out]
    }
}
