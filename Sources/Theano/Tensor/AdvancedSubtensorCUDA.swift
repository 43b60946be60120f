import NDArray

// The CUDA kernel of ``AdvancedSubtensor`` and ``AdvancedIncSubtensor`` (Backend/CUDA/C/index.cu)
// for float arrays: the host plans the blocks (``AdvancedPlan``, which checks every index as the
// CPU does) from the indices' host memory, uploads the blocks' offsets and the device moves the
// data. Indices that live only on the device come down first (the profiler shows it).

extension AdvancedSubtensor: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let x = node.inputs[0].type
        guard x.dtype.isFloat, x.ndim - count <= CUDACodeGen.maxDims else { return nil }
        return IndexDeviceKernel(op: self, module: try indexModule(x.dtype, runtime), runtime: runtime)
    }
}

extension AdvancedIncSubtensor: CUDALowering {
    func cudaKernel(_ node: Apply, runtime: any DeviceRuntime) throws -> (any Kernel)? {
        let (x, y) = (node.inputs[0].type, node.inputs[1].type)
        guard x.dtype.isFloat, y.dtype == x.dtype, x.ndim - count <= CUDACodeGen.maxDims else { return nil }
        return IndexDeviceKernel(op: self, module: try indexModule(x.dtype, runtime), runtime: runtime)
    }
}

private func indexModule(_ dtype: DType, _ runtime: any DeviceRuntime) throws -> any DeviceModule {
    try runtime.fixedModule("index.cu", dtype, kernels: [("th_blocks", "th_blocks_args")])
}

/// A gather (``AdvancedSubtensor``) or a scatter (``AdvancedIncSubtensor``) on the device.
struct IndexDeviceKernel: Kernel, @unchecked Sendable {
    let op: any Op
    let module: any DeviceModule
    let runtime: any DeviceRuntime
    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        if let gather = op as? AdvancedSubtensor {
            let x = inputs[0]
            let plan = try AdvancedPlan(x: x, idx: Array(inputs.dropFirst()), first: gather.first)
            let (out, po) = try runtime.output(plan.resultShape, x.dtype, reusing: buffers.first ?? nil)
            try move(
                from: x, plan.offsets, plan.trailingStrides, to: po, plan.contiguousOffsets,
                NDArray.contiguousStrides(plan.trailing), plan.trailing, accumulate: false)
            return [out]
        }
        guard let scatter = op as? AdvancedIncSubtensor, inputs[0].isContiguous else {
            return try op.perform(inputs)
        }
        let x = inputs[0]
        let (out, po) = try runtime.output(x.shape, x.dtype, reusing: nil)
        try runtime.copy(try runtime.address(reading: x), to: po, bytes: x.count * x.dtype.itemSize)
        let plan = try AdvancedPlan(x: out, idx: Array(inputs.dropFirst(2)), first: scatter.first)
        let y = try broadcastValue(inputs[1], to: plan.resultShape, dtype: x.dtype)
        let blocks = allOffsets(
            shape: Array(plan.resultShape.prefix(plan.resultShape.count - plan.trailing.count)),
            strides: Array(y.strides.prefix(y.ndim - plan.trailing.count)), base: y.offset)
        try move(
            from: y, blocks, Array(y.strides.suffix(plan.trailing.count)), to: po, plan.offsets,
            plan.trailingStrides, plan.trailing, accumulate: !scatter.set)
        return [out]
    }

    /// Launches th_blocks: block `b` of `shape` from `src` at element offset `from[b]` (relative to
    /// its storage) to `dst` (an output's first element) at `to[b]`.
    private func move(
        from src: NDArray, _ from: [Int], _ srcStrides: [Int], to dst: DevicePointer, _ to: [Int],
        _ dstStrides: [Int], _ shape: [Int], accumulate: Bool
    ) throws {
        let blockSize = shape.reduce(1, *)
        guard !from.isEmpty, blockSize > 0 else { return }
        // Offsets in the plan count from the storage's start; the kernel's src is element 0.
        let base = try runtime.address(reading: src).advanced(by: -src.offset * src.dtype.itemSize)
        var pairs: [Int64] = []
        pairs.reserveCapacity(2 * from.count)
        for (s, d) in zip(from, to) { pairs += [Int64(s), Int64(d)] }
        let table = try DeviceBuffer(runtime: runtime, bytes: pairs.count * 8)
        try pairs.withUnsafeBytes { raw in
            guard let p = raw.baseAddress else { return }
            try runtime.upload(p, to: table.pointer, bytes: raw.count)
        }
        NDStorage.count(upload: pairs.count * 8)
        let maxDims = CUDACodeGen.maxDims
        func padded(_ v: [Int], _ fill: Int) -> [Int64] {
            v.map(Int64.init) + [Int64](repeating: Int64(fill), count: maxDims - v.count)
        }
        let words: [Int64] =
            [Int64(base), Int64(dst), Int64(table.pointer), Int64(from.count), Int64(blockSize), Int64(shape.count)]
            + padded(shape, 1) + padded(srcStrides, 0) + padded(dstStrides, 0) + [accumulate ? 1 : 0]
        try runtime.launch("th_blocks", of: module, items: from.count * blockSize, arguments: words)
    }
}
