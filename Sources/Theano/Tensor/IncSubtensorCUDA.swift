import NDArray

// The CUDA kernel of ``IncSubtensor`` (basic indexing) for float arrays: a copy of `x` on the
// device, then `y` added to (or written into) the selected view in one block (``DeviceBlocks``).

extension IncSubtensor: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let (x, y) = (node.inputs[0].type, node.inputs[1].type)
        guard x.dtype.isFloat, y.dtype == x.dtype, x.ndim <= CUDACodeGen.maxDims else { return nil }
        return IncSubtensorDeviceKernel(op: self, blocks: try DeviceBlocks(x.dtype, runtime: runtime))
    }
}

struct IncSubtensorDeviceKernel: Kernel, @unchecked Sendable {
    let op: IncSubtensor
    let blocks: DeviceBlocks
    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        guard inputs[0].isContiguous else { return try op.perform(inputs) }
        let out = try blocks.runtime.deviceCopy(inputs[0])
        let view: NDArray
        do { view = try out.sliced(try Subtensor(op.entries).axisIndices(inputs.dropFirst(2))) } catch let e
            as NDArrayError
        {
            throw OpError("\(e)", kind: .shape)
        }
        let y = try broadcastValue(inputs[1], to: view.shape, dtype: out.dtype)
        try blocks.move(
            from: y, [y.offset], y.strides, to: out, [view.offset], view.strides, view.shape, accumulate: !op.set)
        return [out]
    }
}
