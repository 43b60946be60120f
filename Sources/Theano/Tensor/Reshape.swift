import NDArray

/// Same elements in a new shape given by an int vector input (one entry may be -1). A view when
/// the input is contiguous.
public struct Reshape: DifferentiableOp {
    public let ndim: Int
    /// The target shape where known when the graph was built.
    public let staticShape: [Int?]

    public var description: String { "Reshape{\(ndim)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let s = inputs[1]
        guard s.ndim == 1, s.dtype.isInteger, s.shape[0] == nil || s.shape[0] == ndim else {
            throw OpError("the shape must be an integer vector of length \(ndim), got \(s)")
        }
        var shape = staticShape
        if let known = inputs[0].shape.allKnown, shape.filter({ $0 == -1 }).count == 1 {
            let total = known.reduce(1, *)
            let rest = shape.compactMap { $0 }.filter { $0 != -1 }.reduce(1, *)
            if shape.allSatisfy({ $0 != nil }) {
                guard rest != 0, total % rest == 0 else {
                    throw OpError(
                        "cannot reshape \(inputs[0]) into \(staticShape.map { $0.map(String.init) ?? "?" })",
                        kind: .shape)
                }
                shape = shape.map { $0 == -1 ? total / rest : $0 }
            }
        }
        shape = shape.map { $0 == -1 ? nil : $0 }
        if let known = inputs[0].shape.allKnown, let target = shape.allKnown, known.reduce(1, *) != target.reduce(1, *)
        {
            throw OpError("cannot reshape \(inputs[0]) (\(known.reduce(1, *)) elements) into \(target)", kind: .shape)
        }
        return [TensorType(inputs[0].dtype, shape: shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let target = inputs[1].scalars(as: Int64.self).map(Int.init)
        do { return [try inputs[0].reshaped(target)] } catch { throw OpError("\(error)", kind: .shape) }
    }
}

/// Collapses the trailing axes so the result has `ndim` dimensions (Theano's `flatten(ndim)`).
public struct Flatten: DifferentiableOp {
    public let ndim: Int
    public var description: String { "Flatten{\(ndim)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        guard ndim >= 1 && ndim <= max(x.ndim, 1) else {
            throw OpError("cannot flatten a \(x.ndim)-d tensor to \(ndim) dimensions")
        }
        let tail = x.shape[(ndim - 1)...]
        let merged: Int? = tail.allSatisfy { $0 != nil } ? tail.reduce(1) { $0 * ($1 ?? 1) } : nil
        return [TensorType(x.dtype, shape: Array(x.shape[..<(ndim - 1)]) + [merged])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        // The merged length spelled out: -1 is ambiguous when the array is empty.
        let merged = x.shape[(ndim - 1)...].reduce(1, *)
        return [try x.reshaped(Array(x.shape[..<(ndim - 1)]) + [merged])]
    }
}

extension Variable {
    /// Reshaped to `shape` (Swift integers, one may be -1).
    ///
    /// ```swift
    /// let img = x.reshape([batch, 1, 28, 28])
    /// ```
    public func reshape(_ shape: [Int]) -> Variable {
        if shape.filter({ $0 == -1 }).count > 1 || shape.contains(where: { $0 < -1 }) {
            return invalid("reshape to \(shape): lengths must be ≥ 0, with at most one -1", self, op: "Reshape")
        }
        let v = Constant(NDArray(vector: shape.map(Int64.init)))
        return apply1(Reshape(ndim: shape.count, staticShape: shape), [self, v])
    }

    /// Reshaped to a symbolic shape (an integer vector of static length).
    public func reshape(_ shape: Variable) -> Variable {
        guard shape.ndim == 1, let n = shape.type.shape[0] else {
            return invalid(
                "reshape needs an integer vector of known length, got \(shape.label)", self, shape, op: "Reshape")
        }
        if let c = shape as? Constant { return reshape(c.value.scalars(as: Int64.self).map(Int.init)) }
        return apply1(Reshape(ndim: n, staticShape: Array(repeating: nil, count: n)), [self, shape])
    }

    /// Reshaped to a mix of symbolic scalars and Swift integers.
    public func reshape(_ dims: [IndexValue]) -> Variable {
        let parts: [Variable] = dims.map {
            switch $0 {
            case .int(let i): return Constant(NDArray(scalar: Int64(i)))
            case .variable(let v): return cast(v, .int64)
            }
        }
        return reshape(stack(parts))
    }

    /// The first `ndim - 1` axes kept, the rest merged (default: a vector).
    public func flatten(_ ndim: Int = 1) -> Variable {
        apply1(Flatten(ndim: ndim), [self])
    }
}

extension Reshape {
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        let x = node.inputs[0]
        guard let g = gradients[0], x.isDifferentiable else { return [.disconnected, .disconnected] }
        return [.value(g.reshape(x.shape)), .disconnected]
    }
}

extension Flatten {
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        let x = node.inputs[0]
        guard let g = gradients[0], x.isDifferentiable else { return [.disconnected] }
        return [.value(g.reshape(x.shape))]
    }
}

extension Reshape {
    public var replayRole: ReplayRole { .view }
}
