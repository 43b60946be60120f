import NDArray

/// Sums a gradient back to the run-time shape of the input it belongs to: over leading axes the
/// input lacks and over axes where the input has length 1 (broadcast). Because it works on the
/// run-time shape, a length-1 dimension that was not known statically still gets a correct
/// gradient.
public struct ReduceTo: DifferentiableOp {
    public let staticShape: [Int?]
    public var description: String { "ReduceTo\(staticShapeText(staticShape))" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[1].ndim == 1, inputs[1].dtype.isInteger else {
            throw OpError("ReduceTo needs an integer shape vector")
        }
        guard inputs[0].ndim >= staticShape.count else {
            throw OpError("cannot reduce \(inputs[0]) to \(staticShape.count) dimensions", kind: .shape)
        }
        return [TensorType(inputs[0].dtype, shape: staticShape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let g = inputs[0]
        guard let (axes, target) = try Self.plan(g, inputs[1]) else { return [g] }
        let summed = try Reduce(kind: .sum, axes: axes).perform([g])[0]
        return [try summed.reshaped(target).cast(to: g.dtype)]
    }

    /// The axes of `g` to sum and the target shape; nil when `g` already has the shape in
    /// `shapeInput` (the common case: nothing to read or sum).
    static func plan(_ g: NDArray, _ shapeInput: NDArray) throws -> (axes: [Int], target: [Int])? {
        if shapeInput.dtype == .int64, shapeInput.count == g.ndim, shapeInput.isContiguous {
            let p = shapeInput.basePointer(as: Int64.self)
            if (0..<g.ndim).allSatisfy({ Int(p[$0]) == g.shape[$0] }) { return nil }
        }
        let target = shapeInput.scalars(as: Int64.self).map(Int.init)
        let lead = g.ndim - target.count
        guard lead >= 0 else { throw OpError("cannot reduce shape \(g.shape) to \(target)", kind: .shape) }
        var axes = Array(0..<lead)
        for (i, n) in target.enumerated() {
            let m = g.shape[lead + i]
            if n == m { continue }
            guard n == 1 else { throw OpError("cannot reduce shape \(g.shape) to \(target)", kind: .shape) }
            axes.append(lead + i)
        }
        return axes.isEmpty ? nil : (axes, target)
    }

    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let g = gradients[0] else { return [.zero, .disconnected] }
        let x = node.inputs[0]
        // Broadcast back: align g's axes to the right of x's, then alloc to x's shape.
        let dims: [IndexValue] = (0..<x.ndim).map { i in x.type.shape[i].map(IndexValue.int) ?? .variable(x.shape[i]) }
        return [.value(alloc(g, dims)), .disconnected]
    }
}

/// `g` summed to `x`'s run-time shape, or `g` itself when static shapes prove no broadcast.
func reduceGradient(_ g: Variable, to x: Variable) -> Variable {
    let gs = g.type.shape
    let xs = x.type.shape
    if gs.count == xs.count, zip(gs, xs).allSatisfy({ a, b in a != nil && a == b }) { return g }
    if gs.count == xs.count, zip(gs, xs).allSatisfy({ a, b in b != nil && b != 1 }) { return g }
    return apply1(ReduceTo(staticShape: xs), [g, x.shape])
}

extension ReduceTo {
    public var replayRole: ReplayRole { .view }
}

// MARK: - Native kernel (C/reduce.c)

extension ReduceTo: NativeLowering {
    func nativeCode(_ node: Apply) -> NativeSource? { .fixed(.reduce, forFloat: node) }
    func nativeKernel(_ node: Apply, _ code: LinkedCode) -> (any Kernel)? { ReduceToKernel(fixed: code.fixed) }
}

/// ``ReduceTo`` (a gradient summed back to its input's shape) through the native reduction
/// kernel.
struct ReduceToKernel: Kernel {
    let fixed: FixedKernels

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        let g = inputs[0]
        guard let (axes, target) = try ReduceTo.plan(g, inputs[1]) else { return [g] }
        let summed = try ReduceKernel(fixed: fixed, op: Reduce(kind: .sum, axes: axes)).run([g], into: buffers)[0]
        return [try summed.reshaped(target)]
    }
}

extension ReduceToKernel: ReplayPlanning {
    /// With its target shape fixed, a sum back to it is the reduction it runs, planned like one.
    func replayCall(_ step: ReplayStep, _ memory: inout ReplayMemory) -> ReplayCall? {
        guard step.args.count == 2, step.fixed[1],
            let (axes, _) = (try? ReduceTo.plan(step.args[0], step.args[1])) ?? nil
        else { return nil }
        return ReduceKernel(fixed: fixed, op: Reduce(kind: .sum, axes: axes)).replayCall(step, &memory)
    }
}
