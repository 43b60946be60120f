import NDArray

// The CUDA kernels of ``Conv2d`` and ``Pool2d``, all their roles (Backend/CUDA/C/image.cu):
// direct loops, one thread per output element.

extension Conv2d: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let dtypes = Set(node.inputs.map(\.dtype))
        guard dtypes.count == 1, let dtype = dtypes.first, dtype.isFloat else { return nil }
        return ImageDeviceKernel(op: self, module: try imageModule(dtype, runtime), runtime: runtime)
    }
}

extension Pool2d: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let dtypes = Set(node.inputs.map(\.dtype))
        guard dtypes.count == 1, let dtype = dtypes.first, dtype.isFloat else { return nil }
        return ImageDeviceKernel(op: self, module: try imageModule(dtype, runtime), runtime: runtime)
    }
}

private func imageModule(_ dtype: DType, _ runtime: any DeviceRuntime) throws -> any DeviceModule {
    try runtime.fixedModule("image.cu", dtype, kernels: [("th_conv", "th_conv_args"), ("th_pool", "th_pool_args")])
}

/// A convolution or a pooling on the device. Shapes are checked as `perform` checks them (by
/// running it on the host when they do not fit).
struct ImageDeviceKernel: Kernel, @unchecked Sendable {
    let op: any Op
    let module: any DeviceModule
    let runtime: any DeviceRuntime
    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        if let conv = op as? Conv2d { return try convolution(conv, inputs, buffers.first ?? nil) }
        if let pool = op as? Pool2d { return try pooling(pool, inputs, buffers.first ?? nil) }
        return try op.perform(inputs, reusing: buffers)
    }

    private func convolution(_ op: Conv2d, _ inputs: [NDArray], _ buffer: NDArray?) throws -> [NDArray] {
        let shapes = inputs.map(\.shape)
        let (x, w) =
            switch op.role {
            case .forward: (shapes[0], shapes[1])
            case .gradInputs: (shapes[2], shapes[1])
            case .gradFilters: (shapes[0], shapes[2])
            }
        let s = ConvShape(input: x, filters: w, geometry: op.geometry)
        let y = [s.batch, s.filters, s.outH, s.outW]
        let (shape, role): ([Int], Int64) =
            switch op.role {
            case .forward: (y, 0)
            case .gradInputs: (x, 1)
            case .gradFilters: (w, 2)
            }
        let gradientFits = op.role == .forward || shapes[op.role == .gradInputs ? 0 : 1] == y
        guard x[1] == w[1], gradientFits, shape.allSatisfy({ $0 > 0 }) else {
            return try op.perform(inputs, reusing: [buffer])
        }
        let (a, b) = try (
            runtime.address(reading: inputs[0].contiguous()), runtime.address(reading: inputs[1].contiguous())
        )
        let (out, po) = try runtime.output(shape, inputs[0].dtype, reusing: buffer)
        let words: [Int64] =
            [Int64(a), Int64(b), Int64(po)]
            + [s.batch, s.channels, s.height, s.width, s.filters, s.kh, s.kw, s.outH, s.outW].map(Int64.init)
            + [s.padH, s.padW, s.strideH, s.strideW, s.dilH, s.dilW].map(Int64.init)
            + [op.geometry.filterFlip ? 1 : 0, role]
        try runtime.launch("th_conv", of: module, items: out.count, arguments: words)
        return [out]
    }

    private func pooling(_ op: Pool2d, _ inputs: [NDArray], _ buffer: NDArray?) throws -> [NDArray] {
        let x = inputs[0].contiguous()
        let g = op.geometry
        guard x.ndim >= 2 else { return try op.perform(inputs, reusing: [buffer]) }
        let (h, w) = (x.shape[x.ndim - 2], x.shape[x.ndim - 1])
        let (oh, ow) = (g.outputLength(h, axis: 0), g.outputLength(w, axis: 1))
        let pooled = Array(x.shape.dropLast(2)) + [oh, ow]
        let grad = op.role == .grad
        let second = op.role == .gradGrad
        let other = grad ? pooled : x.shape
        guard op.role == .forward || inputs[1].shape == other, x.count > 0, oh * ow > 0 else {
            return try op.perform(inputs, reusing: [buffer])
        }
        let b = op.role == .forward ? DevicePointer(address: 0) : try runtime.address(reading: inputs[1].contiguous())
        let (out, po) = try runtime.output(grad ? x.shape : pooled, x.dtype, reusing: buffer)
        let mode: Int64 =
            switch g.mode {
            case .max: 0
            case .averageIncludingPad: 1
            case .averageExcludingPad: 2
            }
        let words: [Int64] =
            [Int64(try runtime.address(reading: x)), Int64(b), Int64(po)]
            + [x.count / (h * w), h, w, oh, ow].map(Int64.init)
            + [g.window[0], g.window[1], g.stride[0], g.stride[1], g.padding[0], g.padding[1]].map(Int64.init)
            + [mode, grad ? 1 : second ? 2 : 0]
        try runtime.launch("th_pool", of: module, items: out.count, arguments: words)
        return [out]
    }
}
