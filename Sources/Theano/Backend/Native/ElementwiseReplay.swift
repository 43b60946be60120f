import NDArray

/// A fused loop written down for replay: the generated entry and its coalesced loop.
private struct PlannedLoop {
    let entry: ElementwiseKernel.Entry
    let total: Int64
    let nd: Int32
    let dims: UnsafePointer<Int64>
    let strides: UnsafePointer<Int64>
    let flags: Int32
    /// Reductions: where the accumulator goes among the operands (after the inputs), whether
    /// the result is a mean and whether it is float32.
    let inputs: Int
    let mean: Bool
    let single: Bool
}

extension ElementwiseKernel: ReplayPlanning {
    /// A loop small enough to run on this thread, whose outputs are contiguous at the broadcast
    /// shape; a reduction to a float scalar accumulates into a local double.
    func replayCall(_ step: ReplayStep, _ memory: inout ReplayMemory) -> ReplayCall? {
        guard let shape = try? NDArray.broadcastShapes(step.args.map(\.shape)), case let total = shape.reduce(1, *),
            total > 0, !splits(total)
        else { return nil }
        let reducing = op.reduction != nil
        let outputs = reducing ? [] : step.results
        guard outputs.allSatisfy({ $0.shape == shape && $0.isContiguous }),
            !reducing || step.results[0].dtype.isFloat
        else { return nil }
        let (dims, strides, flags) = loop(shape, step.args + outputs)
        let planned = PlannedLoop(
            entry: entry, total: Int64(total), nd: Int32(dims.count),
            dims: memory.store(dims.map(Int64.init)), strides: memory.store(strides.map(Int64.init)),
            flags: flags, inputs: step.args.count, mean: op.reduction == .mean,
            single: step.results[0].dtype == .float32)
        let parameters = memory.parameters(planned)
        guard reducing else {
            return ReplayCall(
                name: "kernel",
                body: { pointers, parameters in
                    let q = parameters.assumingMemoryBound(to: PlannedLoop.self).pointee
                    q.entry(0, q.total, q.nd, q.dims, pointers, q.strides, q.flags)
                }, parameters: parameters)
        }
        return ReplayCall(
            name: "reducingKernel",
            body: { pointers, parameters in
                let q = parameters.assumingMemoryBound(to: PlannedLoop.self).pointee
                // The kernel adds into a double in the accumulator's operand; the output goes back
                // there after the loop.
                guard let out = pointers[q.inputs] else { return }
                var sum = 0.0
                withUnsafeMutablePointer(to: &sum) { acc in
                    pointers[q.inputs] = UnsafeMutableRawPointer(acc)
                    q.entry(0, q.total, q.nd, q.dims, pointers, q.strides, q.flags)
                }
                pointers[q.inputs] = out
                let value = q.mean ? sum / Double(q.total) : sum
                if q.single {
                    out.storeBytes(of: Float(value), as: Float.self)
                } else {
                    out.storeBytes(of: value, as: Double.self)
                }
            }, parameters: parameters)
    }
}
