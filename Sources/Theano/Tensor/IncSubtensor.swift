import NDArray

/// `x` with `y` written into (or added to) the basic selection `x[entries]`; the output is a
/// copy, `x` is unchanged. Symbolic bounds follow `y` as inputs.
public struct IncSubtensor: DifferentiableOp {
    public let entries: [IndexEntry]
    public let set: Bool

    public var description: String {
        "\(set ? "Set" : "Inc")Subtensor{\(entries.map(\.description).joined(separator: ", "))}"
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        let y = inputs[1]
        let selected = try Subtensor(entries).outputTypes([x] + inputs.dropFirst(2))[0]
        try checkIncValue(x: x, y: y)
        guard y.ndim <= selected.ndim else {
            throw OpError("value \(y) has more dimensions than the selection \(selected)", kind: .shape)
        }
        _ = try broadcastStatic([selected.shape, y.shape])
        return [x]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let out = inputs[0].freshCopy()
        let view: NDArray
        do { view = try out.sliced(try Subtensor(entries).axisIndices(inputs.dropFirst(2))) } catch let e
            as NDArrayError
        {
            throw OpError("\(e)", kind: .shape)
        }
        let y = try broadcastValue(inputs[1], to: view.shape, dtype: out.dtype)
        transferBlocks(
            from: y, offsets: [y.offset], strides: y.strides, to: view, offsets: [view.offset],
            strides: view.strides, shape: view.shape, accumulate: !set)
        return [out]
    }
}

/// `x` with `value` written at the positions `target` selects, where `target` is an indexing
/// of `x` (`setSubtensor(x[2..<5], y)`, `setSubtensor(W[idx], rows)`). Returns a new tensor.
///
/// ```swift
/// let z = setSubtensor(x[.all, 0], zeros([3]))
/// ```
public func setSubtensor(_ target: Variable, _ value: Variable) -> Variable {
    writeSubtensor(target, value, set: true)
}

/// `x` with `value` added at the positions `target` selects; repeated advanced indices
/// accumulate (`incSubtensor(W[[0, 0]], g)` adds `g` twice to row 0).
public func incSubtensor(_ target: Variable, _ value: Variable) -> Variable {
    writeSubtensor(target, value, set: false)
}

private func writeSubtensor(_ target: Variable, _ value: Variable, set: Bool) -> Variable {
    guard let node = target.owner else {
        return invalid(
            "\(set ? "setSubtensor" : "incSubtensor") needs an indexed tensor such as x[1..<3], got \(target.label)",
            target, value, op: set ? "SetSubtensor" : "IncSubtensor")
    }
    if let op = node.op as? Subtensor {
        return apply1(IncSubtensor(entries: op.entries, set: set), [node.inputs[0], value] + node.inputs.dropFirst())
    }
    if let op = node.op as? AdvancedSubtensor {
        let base = node.inputs[0]
        let updated = apply1(
            AdvancedIncSubtensor(first: op.first, count: op.count, set: set),
            [base, value] + node.inputs.dropFirst())
        // x[slices, arrays], indexed in one step: write the updated slice back into x.
        if op.sliced, let inner = base.owner, let sub = inner.op as? Subtensor {
            return apply1(
                IncSubtensor(entries: sub.entries, set: true), [inner.inputs[0], updated] + inner.inputs.dropFirst())
        }
        return updated
    }
    return invalid(
        "\(set ? "setSubtensor" : "incSubtensor") needs an indexed tensor such as x[1..<3], got the output of "
            + "\(node.op)",
        target, value, op: set ? "SetSubtensor" : "IncSubtensor")
}

extension IncSubtensor {
    /// `x`: the gradient (with the selection zeroed when setting); `y`: the selected gradient.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        let x = node.inputs[0]
        let y = node.inputs[1]
        let bounds = Array(node.inputs.dropFirst(2))
        let rest = bounds.map { _ in InputGradient.disconnected }
        guard let g = gradients[0] else { return [.disconnected, .disconnected] + rest }
        let gx: InputGradient =
            !x.isDifferentiable
            ? .disconnected
            : .value(
                set
                    ? apply1(
                        IncSubtensor(entries: entries, set: true),
                        [g, Constant(NDArray(scalar: 0, dtype: g.dtype))] + bounds) : g)
        let gy: InputGradient =
            !y.isDifferentiable
            ? .disconnected
            : .value(reduceGradient(cast(apply1(Subtensor(entries), [g] + bounds), y.dtype), to: y))
        return [gx, gy] + rest
    }
}
