import NDArray

/// The run-time shape of a tensor as an int64 vector.
public struct Shape: Op {
    public init() {}
    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        [TensorType(.int64, shape: [inputs[0].ndim])]
    }
    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        [NDArray(vector: inputs[0].shape.map(Int64.init))]
    }
}

extension Variable {
    /// The symbolic shape: an int64 vector; `x.shape[0]` is a symbolic scalar.
    ///
    /// ```swift
    /// let n = y.shape[0]
    /// ```
    public var shape: Variable {
        if let known = type.shape.allKnown {
            return Constant(NDArray(vector: known.map(Int64.init)))
        }
        return apply1(Shape(), [self])
    }
}

extension Array where Element == Int? {
    /// All lengths, when every one is known.
    var allKnown: [Int]? {
        var out: [Int] = []
        for d in self {
            guard let d else { return nil }
            out.append(d)
        }
        return out
    }
}

extension Shape {
    public var replayRole: ReplayRole { .shapeOnly }
}
