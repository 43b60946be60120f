import NDArray

/// Reorders, drops (length-1) and inserts (`'x'`, here `nil`) axes: a view, never a copy.
/// `pattern[i]` is the input axis that becomes output axis `i`, or `nil` for a new length-1 axis.
public struct DimShuffle: DifferentiableOp {
    public let pattern: [Int?]

    public init(_ pattern: [Int?]) { self.pattern = pattern }
    public var description: String {
        "DimShuffle{" + pattern.map { $0.map(String.init) ?? "x" }.joined(separator: ",") + "}"
    }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let x = inputs[0]
        let used = pattern.compactMap { $0 }
        guard Set(used).count == used.count, used.allSatisfy({ $0 >= 0 && $0 < x.ndim }) else {
            throw OpError("pattern \(description) is invalid for a \(x.ndim)-d tensor")
        }
        for axis in 0..<x.ndim where !used.contains(axis) {
            if let n = x.shape[axis], n != 1 {
                throw OpError(
                    "cannot drop axis \(axis) of length \(n); only length-1 axes can be dropped", kind: .shape)
            }
        }
        return [TensorType(x.dtype, shape: pattern.map { $0.map { x.shape[$0] } ?? 1 })]
    }

    /// The output is a view of the input (no copy).
    public var viewMap: [Int: Int] { [0: 0] }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let x = inputs[0]
        let used = pattern.compactMap { $0 }
        for axis in 0..<x.ndim where !used.contains(axis) && x.shape[axis] != 1 {
            throw OpError(
                "cannot drop axis \(axis) of length \(x.shape[axis]); only length-1 axes can be dropped", kind: .shape)
        }
        let shape = pattern.map { $0.map { x.shape[$0] } ?? 1 }
        let strides = pattern.map { $0.map { x.strides[$0] } ?? 0 }
        return [try x.view(shape: shape, strides: strides)]
    }
}

extension Variable {
    /// Theano's `dimshuffle`: `x.dimshuffle(1, 0)` transposes, `b.dimshuffle("x", 0)` makes a row.
    /// Entries are axis numbers or `"x"` for a new broadcastable axis.
    public func dimshuffle(_ pattern: DimShuffleEntry...) -> Variable { dimshuffle(pattern) }

    /// ``dimshuffle(_:)-(DimShuffleEntry...)`` with a pattern built at run time.
    ///
    /// ```swift
    /// let row = b.dimshuffle(["x", 0] as [DimShuffleEntry])
    /// ```
    public func dimshuffle(_ pattern: [DimShuffleEntry]) -> Variable {
        let p = pattern.map(\.axis)
        if p == Array(0..<ndim).map(Optional.some) { return self }
        return apply1(DimShuffle(p), [self])
    }

    /// The transpose (all axes reversed).
    public var T: Variable { transpose() }

    /// Axes permuted; by default reversed.
    public func transpose(_ axes: [Int]? = nil) -> Variable {
        let p = axes ?? Array((0..<ndim).reversed())
        if p == Array(0..<ndim) { return self }
        return apply1(DimShuffle(p.map { $0 < 0 ? $0 + ndim : $0 }), [self])
    }

    /// Drops length-1 axes: the given ones, or all statically known length-1 axes.
    public func squeeze(_ axes: [Int]? = nil) -> Variable {
        let drop = Set((axes ?? type.shape.indices.filter { type.shape[$0] == 1 }).map { $0 < 0 ? $0 + ndim : $0 })
        return apply1(DimShuffle((0..<ndim).filter { !drop.contains($0) }), [self])
    }

    /// Inserts a length-1 axis at `axis` (negative counts from the end of the result).
    public func expandDims(_ axis: Int) -> Variable {
        let a = axis < 0 ? axis + ndim + 1 : axis
        var p: [Int?] = Array(0..<ndim)
        guard a >= 0 && a <= ndim else {
            return invalid("axis \(axis) is out of range for expandDims of a \(ndim)-d tensor", self, op: "DimShuffle")
        }
        p.insert(nil, at: a)
        return apply1(DimShuffle(p), [self])
    }
}

/// An axis number or `"x"` in ``Variable/dimshuffle(_:)``.
public struct DimShuffleEntry: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    let axis: Int?
    public init(integerLiteral value: Int) { axis = value }
    public init(stringLiteral value: String) { axis = nil }
    /// An axis of the input, or nil for a new broadcastable axis (`"x"`).
    public init(_ axis: Int?) { self.axis = axis }
}

extension DimShuffle {
    /// The inverse shuffle: new axes dropped, dropped (length-1) axes restored.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let g = gradients[0], node.inputs[0].isDifferentiable else { return [.disconnected] }
        let inverse: [Int?] = (0..<node.inputs[0].ndim).map { axis in pattern.firstIndex(of: axis) }
        return [.value(apply1(DimShuffle(inverse), [g]))]
    }
}

extension DimShuffle {
    public func outputLength(_ node: Apply, output: Int, dim d: Int) -> Variable? {
        guard d < pattern.count else { return nil }
        return pattern[d].map { ShapeInference.length(node.inputs[0], $0) } ?? Constant(NDArray(scalar: Int64(1)))
    }

    public var replayRole: ReplayRole { .view }
}
