import NDArray

// The native kernel of ``Reduce`` (C/reduce.c), and its replayed call.

extension Reduce: NativeLowering {
    func nativeCode(_ node: Apply) -> NativeSource? { .fixed(.reduce, forFloat: node) }
    func nativeKernel(_ node: Apply, _ code: LinkedCode) -> (any Kernel)? { ReduceKernel(fixed: code.fixed, op: self) }
}

/// `sum`, `mean`, `max` or `min` of a float array over a block of adjacent axes through the
/// native reduction kernel (other cases: the reference).
extension Reduce {
    /// The kernel call for `x`: the (outer, n, inner) block, the kind code and the result's
    /// shape; nil when the reference handles it (other kinds, integers, scattered axes, empty).
    func block(_ x: NDArray) -> (outer: Int, n: Int, inner: Int, code: Int32, shape: [Int])? {
        let code: Int32
        switch kind {
        case .sum: code = 0
        case .mean: code = 1
        case .max: code = 2
        case .min: code = 3
        default: return nil
        }
        guard x.dtype.isFloat, x.count > 0, let first = axes.first, let last = axes.last,
            axes == Array(first...last)
        else { return nil }
        let outer = x.shape[..<first].reduce(1, *)
        let n = x.shape[first...last].reduce(1, *)
        let inner = x.shape[(last + 1)...].reduce(1, *)
        return (outer, n, inner, code, Array(x.shape[..<first]) + Array(x.shape[(last + 1)...]))
    }
}

struct ReduceKernel: Kernel {
    let fixed: FixedKernels
    let op: Reduce

    /// The kernel call for `x` (``Reduce/block(_:)``).
    func block(_ x: NDArray) -> (outer: Int, n: Int, inner: Int, code: Int32, shape: [Int])? { op.block(x) }

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let x = inputs[0]
        guard let (outer, n, inner, code, shape) = block(x), let f = fixed[x.dtype]?.reduce else {
            return try op.perform(inputs)
        }
        let src = x.contiguous()
        let out = try reusable(buffers, 0, shape: shape, dtype: x.dtype) ?? NDArray.empty(shape, dtype: x.dtype)
        withExtendedLifetime(src) { f(Int64(outer), Int64(n), Int64(inner), src.rawBase, out.rawBase, code) }
        return [out]
    }
}

/// A reduction written down for replay.
struct PlannedReduction {
    let reduce: FixedKernels.Table.Reduction
    let outer: Int64, n: Int64, inner: Int64
    let code: Int32
    /// The output's operand: after every input (a ``ReduceTo``'s target shape among them).
    let output: Int
}

extension ReduceKernel: ReplayPlanning {
    /// A contiguous float input over one block of axes: the kernel call with its block.
    func replayCall(_ step: ReplayStep, _ memory: inout ReplayMemory) -> ReplayCall? {
        let x = step.args[0]
        guard x.isContiguous, let block = block(x), block.shape.reduce(1, *) == step.results[0].count,
            step.results[0].dtype == x.dtype, let f = fixed[x.dtype]?.reduce
        else { return nil }
        let planned = PlannedReduction(
            reduce: f, outer: Int64(block.outer), n: Int64(block.n),
            inner: Int64(block.inner), code: block.code, output: step.args.count)
        return ReplayCall(
            name: "reduce",
            body: { pointers, parameters in
                let q = parameters.assumingMemoryBound(to: PlannedReduction.self).pointee
                q.reduce(q.outer, q.n, q.inner, pointers[0], pointers[q.output], q.code)
            }, parameters: memory.parameters(planned))
    }
}
