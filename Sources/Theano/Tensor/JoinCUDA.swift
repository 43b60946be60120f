import NDArray

// The CUDA kernel of ``Join`` (concatenation) for float arrays of one dtype: each input copied
// into its slice of the output in one block (``DeviceBlocks``).

extension Join: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let dtypes = Set(node.inputs.map(\.dtype))
        guard dtypes.count == 1, let dtype = dtypes.first, dtype.isFloat, node.inputs[0].ndim <= CUDACodeGen.maxDims
        else { return nil }
        return JoinDeviceKernel(op: self, blocks: try DeviceBlocks(dtype, runtime: runtime))
    }
}

struct JoinDeviceKernel: Kernel, @unchecked Sendable {
    let op: Join
    let blocks: DeviceBlocks
    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let nd = inputs[0].ndim
        let a = op.axis < 0 ? op.axis + nd : op.axis
        guard a >= 0, a < nd, inputs.allSatisfy({ $0.ndim == nd && $0.dtype == inputs[0].dtype }) else {
            return try op.perform(inputs)
        }
        var shape = inputs[0].shape
        for x in inputs.dropFirst() where (0..<nd).contains(where: { $0 != a && x.shape[$0] != shape[$0] }) {
            throw OpError("all dimensions but the axis must match: \(inputs.map(\.shape))", kind: .shape)
        }
        shape[a] = inputs.reduce(0) { $0 + $1.shape[a] }
        let (out, _) = try blocks.runtime.output(shape, inputs[0].dtype, reusing: buffers.first ?? nil)
        var start = 0
        for x in inputs {
            var idx = [AxisIndex](repeating: .all, count: nd)
            idx[a] = .range(start: start, stop: start + x.shape[a], step: 1)
            let dst = try out.sliced(idx)
            try blocks.move(
                from: x, [x.offset], x.strides, to: out, [dst.offset], dst.strides, dst.shape, accumulate: false)
            start += x.shape[a]
        }
        return [out]
    }
}
