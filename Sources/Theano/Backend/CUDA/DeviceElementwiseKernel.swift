import NDArray

/// A fused composite run on a device: each call uploads its inputs, launches the composite's
/// kernel over the broadcast shape and downloads its outputs (values do not stay on the device
/// between nodes yet; see docs/GPU.md).
struct DeviceElementwiseKernel: Kernel, @unchecked Sendable {
    let op: Composite
    let name: String
    let module: any DeviceModule
    let runtime: any DeviceRuntime
    /// Per operand (inputs, then outputs): the inner stride the flat kernel assumes (0 or 1).
    let fast: [Int]
    /// The most blocks a launch uses; the grid-stride loop covers the rest.
    static let maxBlocks = 1024

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let shape = try NDArray.broadcastShapes(inputs.map(\.shape))
        let total = shape.reduce(1, *)
        let reducing = op.reduction != nil
        guard total > 0, shape.count <= CUDACodeGen.maxDims else { return try op.perform(inputs) }
        let outputs: [NDArray] =
            reducing
            ? [] : try op.outputs.map { try NDArray.empty(shape, dtype: op.instructions[$0].dtype) }
        // Inputs go up contiguous at their own shapes; broadcasting is a stride of 0.
        let hosts = inputs.map { $0.contiguous() }
        var allocations: [DevicePointer] = []
        defer { for p in allocations { runtime.free(p) } }
        func allocate(_ bytes: Int) throws -> DevicePointer {
            let p = try runtime.allocate(bytes: bytes)
            allocations.append(p)
            return p
        }
        var pointers: [DevicePointer] = []
        for a in hosts {
            let bytes = a.count * a.dtype.itemSize
            let p = try allocate(bytes)
            try withExtendedLifetime(a) { try runtime.upload(a.rawBase, to: p, bytes: bytes) }
            pointers.append(p)
        }
        for out in outputs { pointers.append(try allocate(out.count * out.dtype.itemSize)) }
        if reducing {
            let p = try allocate(8)
            try runtime.zero(p, bytes: 8)
            pointers.append(p)
        }
        let operands = hosts + outputs
        let (dims, strides) = loop(shape, operands, count: pointers.count)
        let kernel = flat(shape, operands) ? name + "_flat" : name
        let threads = runtime.threadsPerBlock
        let blocks = min((total + threads - 1) / threads, Self.maxBlocks)
        let arguments = Self.arguments(pointers, dims: dims, strides: strides, count: total)
        try arguments.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            try module.launch(kernel, blocks: blocks, arguments: base)
        }
        for (out, p) in zip(outputs, pointers[hosts.count...]) {
            try runtime.download(p, to: out.rawBase, bytes: out.count * out.dtype.itemSize)
        }
        guard reducing, let kind = op.reduction, let o = op.outputs.first, let p = pointers.last else { return outputs }
        var sum = 0.0
        try runtime.download(p, to: &sum, bytes: 8)
        let value = kind == .mean ? sum / Double(total) : sum
        return [NDArray(scalar: value, dtype: kind.outputDType(op.instructions[o].dtype))]
    }

    /// Whether every operand is contiguous at the loop's shape or a single element, as the flat
    /// kernel's pattern (``fast``) predicts for it.
    private func flat(_ shape: [Int], _ operands: [NDArray]) -> Bool {
        operands.enumerated().allSatisfy { k, a in
            fast[k] == 0 ? a.count == 1 : a.shape == shape
        }
    }

    /// The coalesced loop: its lengths and, per operand, its byte strides along them (a
    /// reduction's accumulator last, never advanced).
    private func loop(_ shape: [Int], _ operands: [NDArray], count: Int) -> (dims: [Int], strides: [Int]) {
        let strides = ElementwiseKernel.byteStrides(shape, operands, count: count)
        let (dims, st) = ElementwiseKernel.coalesce(shape, strides, count)
        return dims.isEmpty ? ([1], [Int](repeating: 0, count: count)) : (dims, st)
    }

    /// The kernel's argument struct, laid out as C lays out `struct <name>_args`.
    static func arguments(_ pointers: [DevicePointer], dims: [Int], strides: [Int], count: Int) -> [Int64] {
        let n = pointers.count
        let nd = dims.count
        let maxDims = CUDACodeGen.maxDims
        var words = pointers.map { Int64(bitPattern: $0.address) }
        for k in 0..<n {
            for d in 0..<maxDims { words.append(d < nd ? Int64(strides[k * nd + d]) : 0) }
        }
        for d in 0..<maxDims { words.append(d < nd ? Int64(dims[d]) : 1) }
        words.append(Int64(count))
        words.append(Int64(nd))  // `int nd` and its padding, little-endian
        return words
    }
}
