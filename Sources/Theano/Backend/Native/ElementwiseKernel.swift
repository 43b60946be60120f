import Foundation
import NDArray

/// A compiled composite: runs its generated C kernel over broadcast, strided inputs, splitting
/// large loops across cores (on ``WorkerPool``).
struct ElementwiseKernel: Kernel, @unchecked Sendable {
    typealias Entry =
        @convention(c) (
            Int64, Int64, Int32, UnsafePointer<Int64>?, UnsafePointer<UnsafeMutableRawPointer?>?,
            UnsafePointer<Int64>?, Int32
        ) -> Void

    let op: Composite
    let entry: Entry
    /// Per operand (inputs, then outputs): the inner stride in elements the fast loop assumes.
    let fast: [Int]
    /// Rough cost of one element in simple-arithmetic units, to decide on threading.
    let cost: Int
    /// Whether float32 work flushes denormals to zero (``Mode/flushesDenormals``).
    var flush = false

    /// Work (elements × cost) above which a loop is split across threads: below it the hand-off
    /// costs more than it saves. On ``WorkerPool``'s spinning workers that is far lower than it
    /// was on Dispatch's threads (docs/NATIVE.md, "Figures behind the code").
    static let parallelThreshold = 1 << 20

    /// Cores available to this process (asking the system costs ~15 µs, so once).
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// The inner-stride pattern the fast loop assumes: 0 for an input broadcast along the last
    /// dimension (by its static type), 1 otherwise.
    static func fastPattern(_ op: Composite, inputs: [TensorType]) -> [Int] {
        let loop = (try? broadcastStatic(inputs.map(\.shape))) ?? []
        let pattern = inputs.map { t -> Int in
            guard let last = t.shape.last else { return 0 }
            return last == 1 && loop.last != 1 ? 0 : 1
        }
        return pattern + op.outputs.map { _ in op.reduction == nil ? 1 : 0 }
    }

    static func cost(_ op: Composite) -> Int {
        op.instructions.reduce(op.inputDTypes.count + op.outputs.count) { $0 + $1.op.base.cost }
    }

    func run(_ inputs: [NDArray], into provided: [NDArray?] = []) throws -> [NDArray] {
        if let out = try runFlat(inputs, into: provided) { return out }
        let shape: [Int]
        do { shape = try NDArray.broadcastShapes(inputs.map(\.shape)) } catch {
            throw OpError("\(error)", kind: .shape)
        }
        let reducing = op.reduction != nil
        var outputs: [NDArray] = []
        if !reducing {
            outputs.reserveCapacity(op.outputs.count)
            for (j, o) in op.outputs.enumerated() {
                if j < provided.count, let p = provided[j], p.shape == shape, p.dtype == op.instructions[o].dtype,
                    p.isContiguous
                {
                    outputs.append(p)
                } else {
                    outputs.append(try NDArray.empty(shape, dtype: op.instructions[o].dtype))
                }
            }
        }
        let total = shape.reduce(1, *)
        guard total > 0 else { return reducing ? [try reduced([], count: 0)] : outputs }
        let operands = inputs + outputs
        let nops = operands.count + (reducing ? 1 : 0)
        let (dims, st, isFast) = loop(shape, operands)
        let cnd = dims.count
        let base: [UnsafeMutableRawPointer?] = operands.map { $0.storage.pointer + $0.offset * $0.dtype.itemSize }
        let shape64 = dims.map { Int64($0) }
        let strides64 = st.map { Int64($0) }
        let entry = self.entry
        let fastLoop = isFast
        let threads = Config.current.threads ?? Self.cores
        let chunks = splits(total) ? min(threads, max(1, total / 4096)) : 1
        var partials = [Double](repeating: 0, count: chunks)
        // One pointer list per chunk: a reduction's last pointer is that chunk's accumulator.
        var pointers = [UnsafeMutableRawPointer?]()
        pointers.reserveCapacity(chunks * nops)
        withExtendedLifetime(operands) {
            partials.withUnsafeMutableBufferPointer { acc in
                for c in 0..<chunks {
                    pointers += base
                    if reducing { pointers.append(UnsafeMutableRawPointer(acc.baseAddress.map { $0 + c })) }
                }
                shape64.withUnsafeBufferPointer { sp in
                    strides64.withUnsafeBufferPointer { tp in
                        pointers.withUnsafeBufferPointer { pp in
                            let args = KernelArgs(
                                shape: sp.baseAddress, strides: tp.baseAddress, data: pp.baseAddress, nd: Int32(cnd))
                            if chunks == 1 {
                                entry(0, Int64(total), args.nd, args.shape, args.data, args.strides, isFast)
                                return
                            }
                            WorkerPool.shared.run(chunks) { c in
                                // Chunk edges on 64-element boundaries so threads do not share cache lines.
                                let chunk = WorkerPool.block(c, of: total, parts: chunks, multiple: 64)
                                if !chunk.isEmpty {
                                    entry(
                                        Int64(chunk.lowerBound), Int64(chunk.upperBound), args.nd, args.shape,
                                        args.data.map { $0 + c * nops }, args.strides, fastLoop)
                                }
                            }
                        }
                    }
                }
            }
        }
        return reducing ? [try reduced(partials, count: total)] : outputs
    }

    /// The loop over `operands` (inputs, then outputs) broadcast to `shape`: the coalesced
    /// dimensions, each operand's byte strides along them (a reduction's accumulator last, never
    /// advanced), and the call flags (fast loop, denormal flushing).
    func loop(_ shape: [Int], _ operands: [NDArray]) -> (dims: [Int], strides: [Int], flags: Int32) {
        let nops = operands.count + (op.reduction != nil ? 1 : 0)
        var (dims, st) = Self.coalesce(shape, Self.byteStrides(shape, operands, count: nops), nops)
        let cnd = dims.count
        // The fast loop applies when every inner stride is the predicted 0 or 1 element.
        var isFast: Int32 = 1
        for k in 0..<nops {
            let want = fast[k] * (k < operands.count ? operands[k].dtype.itemSize : 8)
            if st[k * cnd + cnd - 1] != want {
                if dims[cnd - 1] == 1 { st[k * cnd + cnd - 1] = want } else { isFast = 0 }
            }
        }
        return (dims, st, isFast | flushBit(op.outputs.first.map { op.instructions[$0].dtype } ?? .float64))
    }

    /// Whether a loop of `total` elements is split across threads.
    func splits(_ total: Int) -> Bool {
        total.multipliedReportingOverflow(by: cost).partialValue >= Self.parallelThreshold
    }

    /// The common small case without any array work: no reduction, every input either
    /// contiguous with the output's shape or a single element, a loop too small to split.
    /// Pointers and strides live on the stack; nil when the case does not apply.
    private func runFlat(_ inputs: [NDArray], into provided: [NDArray?]) throws -> [NDArray]? {
        guard op.reduction == nil else { return nil }
        var shape: [Int] = []
        for a in inputs where a.count != 1 {
            if shape.isEmpty { shape = a.shape } else if a.shape != shape { return nil }
        }
        if shape.isEmpty { shape = inputs.max { $0.ndim < $1.ndim }?.shape ?? [] }
        // A one-element input of higher rank would add leading axes to the result.
        guard inputs.allSatisfy({ $0.ndim <= shape.count }) else { return nil }
        let total = shape.reduce(1, *)
        guard total > 0, !splits(total),
            inputs.allSatisfy({ $0.count == 1 || $0.isContiguous })
        else { return nil }
        var outputs: [NDArray] = []
        outputs.reserveCapacity(op.outputs.count)
        for (j, o) in op.outputs.enumerated() {
            let dtype = op.instructions[o].dtype
            if j < provided.count, let p = provided[j], p.shape == shape, p.dtype == dtype, p.isContiguous {
                outputs.append(p)
            } else {
                outputs.append(try NDArray.empty(shape, dtype: dtype))
            }
        }
        let nin = inputs.count
        let nops = nin + outputs.count
        // Inputs of one element are read with stride 0, the others with stride 1: the pattern
        // the fast loop assumes unless a static type predicted otherwise.
        var isFast: Int32 = 1
        for (k, a) in inputs.enumerated() where fast[k] != (a.count == 1 ? 0 : 1) && total > 1 { isFast = 0 }
        isFast |= flushBit(outputs[0].dtype)
        withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: nops) { pointers in
            withUnsafeTemporaryAllocation(of: Int64.self, capacity: nops + 1) { numbers in
                for (k, a) in inputs.enumerated() {
                    pointers[k] = a.storage.pointer + a.offset * a.dtype.itemSize
                    numbers[k + 1] = a.count == 1 ? 0 : Int64(a.dtype.itemSize)
                }
                for (j, out) in outputs.enumerated() {
                    pointers[nin + j] = out.storage.pointer + out.offset * out.dtype.itemSize
                    numbers[nin + j + 1] = Int64(out.dtype.itemSize)
                }
                numbers[0] = Int64(total)
                withExtendedLifetime((inputs, outputs)) {
                    entry(
                        0, Int64(total), 1, UnsafePointer(numbers.baseAddress), UnsafePointer(pointers.baseAddress),
                        UnsafePointer(numbers.baseAddress.map { $0 + 1 }), isFast)
                }
            }
        }
        return outputs
    }

    /// The call flag asking float32 kernels to flush denormals.
    private func flushBit(_ dtype: DType) -> Int32 { flush && dtype == .float32 ? 2 : 0 }

    /// The scalar result of a reducing composite from its per-chunk float64 sums.
    private func reduced(_ partials: [Double], count: Int) throws -> NDArray {
        guard let kind = op.reduction, let o = op.outputs.first else { throw OpError("not a reduction") }
        let sum = partials.reduce(0, +)
        let value = kind == .mean ? sum / Double(count) : sum
        return NDArray(scalar: value, dtype: kind.outputDType(op.instructions[o].dtype))
    }

    /// Byte strides of `operands` along `shape`, operand by operand (`count` operands, the ones
    /// past `operands` — a reduction's accumulator — all 0): aligned right, broadcast with 0.
    static func byteStrides(_ shape: [Int], _ operands: [NDArray], count: Int) -> [Int] {
        let nd = shape.count
        var strides = [Int](repeating: 0, count: count * nd)
        for (k, a) in operands.enumerated() {
            let lead = nd - a.ndim
            for d in 0..<a.ndim where a.shape[d] != 1 { strides[k * nd + lead + d] = a.strides[d] * a.dtype.itemSize }
        }
        return strides
    }

    /// Drops length-1 dimensions and merges neighbours that every operand walks contiguously.
    static func coalesce(_ shape: [Int], _ strides: [Int], _ nops: Int) -> ([Int], [Int]) {
        let nd = shape.count
        let keep = (0..<nd).filter { shape[$0] != 1 }
        var dims: [Int] = []
        var cols: [[Int]] = []  // per kept dimension, the strides of every operand
        for d in keep {
            let col = (0..<nops).map { strides[$0 * nd + d] }
            if let last = cols.last, let n = dims.last,
                (0..<nops).allSatisfy({ last[$0] == col[$0] * shape[d] })
            {
                dims[dims.count - 1] = n * shape[d]
                cols[cols.count - 1] = col
            } else {
                dims.append(shape[d])
                cols.append(col)
            }
        }
        if dims.isEmpty { return ([1], [Int](repeating: 0, count: nops)) }
        var out = [Int](repeating: 0, count: nops * dims.count)
        for (d, col) in cols.enumerated() {
            for k in 0..<nops { out[k * dims.count + d] = col[k] }
        }
        return (dims, out)
    }
}

/// The pointers a kernel call reads, shared with worker threads for the call's duration.
private struct KernelArgs: @unchecked Sendable {
    let shape: UnsafePointer<Int64>?
    let strides: UnsafePointer<Int64>?
    let data: UnsafePointer<UnsafeMutableRawPointer?>?
    let nd: Int32
}
