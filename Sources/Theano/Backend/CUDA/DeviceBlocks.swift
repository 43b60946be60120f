import NDArray

/// index.cu's block transfers: equally shaped strided blocks copied (or added) from one device
/// array's storage to another's, as the CPU's `transferBlocks`, for the ops that index, increment
/// or concatenate on the device.
struct DeviceBlocks: @unchecked Sendable {
    let module: any DeviceModule
    let runtime: any DeviceRuntime

    /// index.cu for a float `dtype`.
    init(_ dtype: DType, runtime: any DeviceRuntime) throws {
        module = try runtime.fixedModule("index.cu", dtype, kernels: [("th_blocks", "th_blocks_args")])
        self.runtime = runtime
    }

    /// Moves block `b` of `shape` from element offset `from[b]` of `src`'s storage to `to[b]` of
    /// `dst`'s (which a kernel already wrote, or is an output: its device copy is current), adding
    /// when `accumulate`. One block travels in the arguments; more, in a table uploaded for the call.
    func move(
        from src: NDArray, _ from: [Int], _ srcStrides: [Int], to dst: NDArray, _ to: [Int], _ dstStrides: [Int],
        _ shape: [Int], accumulate: Bool
    ) throws {
        let blockSize = shape.reduce(1, *)
        guard !from.isEmpty, blockSize > 0 else { return }
        let maxDims = CUDACodeGen.maxDims
        guard shape.count <= maxDims else {
            throw TheanoError(.runtime, "index.cu moves blocks of at most \(maxDims) dims")
        }
        // Both pointers are the storages' starts: the offsets count from there.
        let s = try runtime.address(reading: src).advanced(by: -src.offset * src.dtype.itemSize)
        let d = try runtime.address(updating: dst).advanced(by: -dst.offset * dst.dtype.itemSize)
        var table: DeviceBuffer?
        if from.count > 1 {
            var pairs: [Int64] = []
            pairs.reserveCapacity(2 * from.count)
            for (a, b) in zip(from, to) { pairs += [Int64(a), Int64(b)] }
            let buffer = try DeviceBuffer(runtime: runtime, bytes: pairs.count * 8)
            try pairs.withUnsafeBytes { raw in
                guard let p = raw.baseAddress else { return }
                try runtime.upload(p, to: buffer.pointer, bytes: raw.count)
            }
            NDStorage.count(upload: pairs.count * 8)
            table = buffer
        }
        func padded(_ v: [Int], _ fill: Int) -> [Int64] {
            v.map(Int64.init) + [Int64](repeating: Int64(fill), count: maxDims - v.count)
        }
        let pairs: Int64 = table.map { Int64($0.pointer) } ?? 0
        var words: [Int64] = [Int64(s), Int64(d), pairs, Int64(from[0]), Int64(to[0])]
        words += [Int64(from.count), Int64(blockSize), Int64(shape.count)]
        words += padded(shape, 1)
        words += padded(srcStrides, 0)
        words += padded(dstStrides, 0)
        words.append(accumulate ? 1 : 0)
        try runtime.launch("th_blocks", of: module, items: from.count * blockSize, arguments: words)
    }
}
