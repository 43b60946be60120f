import NDArray

/// A fused composite run on a device: its operands are read where they live on the device
/// (uploaded only when host memory holds newer bytes) and its outputs stay there; a sum or mean
/// to a scalar comes back to the host.
struct DeviceElementwiseKernel: Kernel, @unchecked Sendable {
    let op: Composite
    let name: String
    let module: any DeviceModule
    let runtime: any DeviceRuntime
    /// Per operand (inputs, then outputs): the inner stride the flat kernel assumes (0 or 1).
    let fast: [Int]
    /// The most blocks a launch uses; the grid-stride loop covers the rest.
    static let maxBlocks = 1024

    var runsOnDevice: Bool { true }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let shape = try NDArray.broadcastShapes(inputs.map(\.shape))
        let total = shape.reduce(1, *)
        let reducing = op.reduction != nil
        guard total > 0, shape.count <= CUDACodeGen.maxDims else { return try op.perform(inputs) }
        var pointers = try inputs.map { try runtime.address(reading: $0) }
        var outputs: [NDArray] = []
        if !reducing {
            for (k, o) in op.outputs.enumerated() {
                let (array, p) = try runtime.output(
                    shape, op.instructions[o].dtype, reusing: buffers.count > k ? buffers[k] : nil)
                outputs.append(array)
                pointers.append(p)
            }
        }
        let accumulator = reducing ? try DeviceBuffer(runtime: runtime, bytes: 8) : nil
        if let accumulator {
            try runtime.zero(accumulator.pointer, bytes: 8)
            pointers.append(accumulator.pointer)
        }
        let operands = inputs + outputs
        let (dims, strides) = loop(shape, operands, count: pointers.count)
        let kernel = flat(shape, operands) ? name + "_flat" : name
        let arguments = Self.arguments(pointers, dims: dims, strides: strides, count: total)
        try runtime.launch(kernel, of: module, items: total, arguments: arguments)
        guard let kind = op.reduction, let o = op.outputs.first, let accumulator else { return outputs }
        var sum = 0.0
        try runtime.download(accumulator.pointer, to: &sum, bytes: 8)
        NDStorage.count(download: 8)
        let value = kind == .mean ? sum / Double(total) : sum
        return [NDArray(scalar: value, dtype: kind.outputDType(op.instructions[o].dtype))]
    }

    /// Whether every operand is contiguous at the loop's shape or a single element, as the flat
    /// kernel's pattern (``fast``) predicts for it.
    private func flat(_ shape: [Int], _ operands: [NDArray]) -> Bool {
        operands.enumerated().allSatisfy { k, a in
            fast[k] == 0 ? a.count == 1 : a.shape == shape && a.isContiguous
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
