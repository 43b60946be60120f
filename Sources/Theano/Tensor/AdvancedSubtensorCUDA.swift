import NDArray

// The CUDA kernel of ``AdvancedSubtensor`` and ``AdvancedIncSubtensor`` (``DeviceBlocks``) for
// float arrays: the host plans the blocks (``AdvancedPlan``, which checks every index as the CPU
// does) from the indices' host memory, uploads the blocks' offsets and the device moves the data.
// Indices that live only on the device come down first (the profiler shows it).

extension AdvancedSubtensor: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let x = node.inputs[0].type
        guard x.dtype.isFloat, x.ndim - count <= CUDACodeGen.maxDims else { return nil }
        return IndexDeviceKernel(op: self, blocks: try DeviceBlocks(x.dtype, runtime: runtime))
    }
}

extension AdvancedIncSubtensor: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let (x, y) = (node.inputs[0].type, node.inputs[1].type)
        guard x.dtype.isFloat, y.dtype == x.dtype, x.ndim - count <= CUDACodeGen.maxDims else { return nil }
        return IndexDeviceKernel(op: self, blocks: try DeviceBlocks(x.dtype, runtime: runtime))
    }
}

/// A gather (``AdvancedSubtensor``) or a scatter (``AdvancedIncSubtensor``) on the device.
struct IndexDeviceKernel: Kernel, @unchecked Sendable {
    let op: any Op
    let blocks: DeviceBlocks
    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let runtime = blocks.runtime
        if let gather = op as? AdvancedSubtensor {
            let x = inputs[0]
            let plan = try AdvancedPlan(x: x, idx: Array(inputs.dropFirst()), first: gather.first)
            let (out, _) = try runtime.output(plan.resultShape, x.dtype, reusing: buffers.first ?? nil)
            try blocks.move(
                from: x, plan.offsets, plan.trailingStrides, to: out, plan.contiguousOffsets,
                NDArray.contiguousStrides(plan.trailing), plan.trailing, accumulate: false)
            return [out]
        }
        guard let scatter = op as? AdvancedIncSubtensor, inputs[0].isContiguous else { return try op.perform(inputs) }
        let out = try runtime.deviceCopy(inputs[0])
        let plan = try AdvancedPlan(x: out, idx: Array(inputs.dropFirst(2)), first: scatter.first)
        let y = try broadcastValue(inputs[1], to: plan.resultShape, dtype: out.dtype)
        let starts = allOffsets(
            shape: Array(plan.resultShape.prefix(plan.resultShape.count - plan.trailing.count)),
            strides: Array(y.strides.prefix(y.ndim - plan.trailing.count)), base: y.offset)
        try blocks.move(
            from: y, starts, Array(y.strides.suffix(plan.trailing.count)), to: out, plan.offsets,
            plan.trailingStrides, plan.trailing, accumulate: !scatter.set)
        return [out]
    }
}
