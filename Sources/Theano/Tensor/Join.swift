import NDArray

/// Concatenation along an axis (NumPy's `concatenate`); inputs promote to a common dtype.
public struct Join: DifferentiableOp {
    public let axis: Int
    public var description: String { "Join{axis=\(axis)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard let first = inputs.first else { throw OpError("concatenate needs at least one tensor") }
        let nd = first.ndim
        guard nd > 0, inputs.allSatisfy({ $0.ndim == nd }) else {
            throw OpError("concatenate needs tensors of one rank ≥ 1, got \(inputs.summary)")
        }
        let a = axis < 0 ? axis + nd : axis
        guard a >= 0 && a < nd else { throw OpError("axis \(axis) is out of range for \(nd)-d tensors") }
        let dtype = inputs.dropFirst().reduce(first.dtype) { DType.promote($0, $1.dtype) }
        var shape = first.shape
        for t in inputs.dropFirst() {
            for d in 0..<nd where d != a {
                if let x = shape[d], let y = t.shape[d], x != y {
                    throw OpError("all dimensions but the axis must match: \(inputs.summary)", kind: .shape)
                }
                shape[d] = shape[d] ?? t.shape[d]
            }
        }
        shape[a] = inputs.allSatisfy { $0.shape[a] != nil } ? inputs.reduce(0) { $0 + ($1.shape[a] ?? 0) } : nil
        return [TensorType(dtype, shape: shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let nd = inputs[0].ndim
        let a = axis < 0 ? axis + nd : axis
        let dtype = inputs.dropFirst().reduce(inputs[0].dtype) { DType.promote($0, $1.dtype) }
        var shape = inputs[0].shape
        for x in inputs.dropFirst() {
            for d in 0..<nd where d != a && x.shape[d] != shape[d] {
                throw OpError("all dimensions but the axis must match: \(inputs.map(\.shape))", kind: .shape)
            }
        }
        shape[a] = inputs.reduce(0) { $0 + $1.shape[a] }
        let out = try NDArray.zeros(shape, dtype: dtype)
        var start = 0
        for x in inputs {
            let n = x.shape[a]
            var idx = [AxisIndex](repeating: .all, count: nd)
            idx[a] = .range(start: start, stop: start + n, step: 1)
            let dst = try out.sliced(idx)
            let src = x.dtype == dtype ? x : x.cast(to: dtype)
            transferBlocks(
                from: src, offsets: [src.offset], strides: src.strides, to: dst, offsets: [dst.offset],
                strides: dst.strides, shape: dst.shape, accumulate: false)
            start += n
        }
        return [out]
    }
}

/// Joins tensors along an existing axis.
///
/// ```swift
/// let xy = concatenate([x, y], axis: 1)
/// ```
public func concatenate(_ tensors: [Variable], axis: Int = 0) -> Variable {
    if tensors.count == 1 { return tensors[0] }
    return apply1(Join(axis: axis), tensors)
}

/// Joins tensors along a new axis.
public func stack(_ tensors: [Variable], axis: Int = 0) -> Variable {
    concatenate(tensors.map { $0.expandDims(axis) }, axis: axis)
}

extension Join {
    /// Each input gets its slice of the gradient along the axis.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let g = gradients[0] else { return node.inputs.map { _ in .disconnected } }
        let a = axis < 0 ? axis + g.ndim : axis
        var start: Variable = Constant(NDArray(scalar: Int64(0)))
        var result: [InputGradient] = []
        for x in node.inputs {
            let stop = start + x.shape[a]
            var parts: [IndexComponent] = Array(repeating: .slice(nil, nil, nil), count: g.ndim)
            parts[a] = .slice(.variable(start), .variable(stop), nil)
            result.append(x.isDifferentiable ? .value(cast(g.index(parts), x.dtype)) : .disconnected)
            start = stop
        }
        return result
    }
}
