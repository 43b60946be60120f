import NDArray

/// A new tensor of the shape given by scalar inputs, filled by broadcasting a value (Theano's
/// `alloc`). `staticShape` records lengths known when the graph was built.
public struct Alloc: DifferentiableOp {
    public let staticShape: [Int?]
    public var description: String { "Alloc" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let v = inputs[0]
        let dims = inputs.dropFirst()
        guard dims.count == staticShape.count, dims.allSatisfy({ $0.ndim == 0 && $0.dtype.isInteger }) else {
            throw OpError("alloc needs one integer scalar per dimension, got \(Array(dims).summary)")
        }
        guard v.ndim <= staticShape.count else {
            throw OpError("value \(v) has more dimensions than the requested \(staticShape.count)", kind: .shape)
        }
        _ = try broadcastStatic([staticShape, v.shape])
        return [TensorType(v.dtype, shape: staticShape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let shape = try inputs.dropFirst().map { Int(try $0.item()) }
        if let bad = shape.first(where: { $0 < 0 }) {
            throw OpError("negative dimension \(bad) in alloc", kind: .shape)
        }
        // One value (the usual case: a scalar gradient spread over a shape): a plain fill.
        // int64 does not round-trip through Double
        if inputs[0].count == 1 && inputs[0].ndim <= shape.count && inputs[0].dtype != .int64 {
            return [try NDArray.full(shape, value: try inputs[0].item(), dtype: inputs[0].dtype)]
        }
        let out = try NDArray.zeros(shape, dtype: inputs[0].dtype)
        let v = try broadcastValue(inputs[0], to: shape, dtype: out.dtype)
        transferBlocks(
            from: v, offsets: [v.offset], strides: v.strides, to: out, offsets: [out.offset],
            strides: out.strides, shape: shape, accumulate: false)
        return [out]
    }
}

/// A tensor of `shape` filled with `value` (broadcast).
///
/// ```swift
/// let h0 = alloc(constant(0), [n, 500])
/// ```
public func alloc(_ value: Variable, _ shape: [IndexValue]) -> Variable {
    var known: [Int?] = []
    var dims: [Variable] = []
    for d in shape {
        switch d {
        case .int(let i):
            known.append(i)
            dims.append(Constant(NDArray(scalar: Int64(i))))
        case .variable(let v):
            known.append((v as? Constant).flatMap { try? $0.value.item() }.map { Int($0) })
            dims.append(v)
        }
    }
    return apply1(Alloc(staticShape: known), [value] + dims)
}

/// ``alloc(_:_:)`` with Swift integer dimensions.
public func alloc(_ value: Variable, _ shape: [Int]) -> Variable { alloc(value, shape.map(IndexValue.int)) }

/// Zeros of `shape` (default dtype floatX).
public func zeros(_ shape: [Int], dtype: DType? = nil) -> Variable {
    alloc(Constant(NDArray(scalar: 0, dtype: dtype ?? Config.current.floatX)), shape)
}

/// Ones of `shape` (default dtype floatX).
public func ones(_ shape: [Int], dtype: DType? = nil) -> Variable {
    alloc(Constant(NDArray(scalar: 1, dtype: dtype ?? Config.current.floatX)), shape)
}

/// A tensor shaped like `model` filled with `value` (Theano's `fill`); the value keeps its dtype.
public func fill(_ model: Variable, _ value: Variable) -> Variable {
    let dims: [IndexValue] = (0..<model.ndim).map { i in
        if let n = model.type.shape[i] { return .int(n) }
        return .variable(model.shape[i])
    }
    return alloc(value, dims)
}

/// Zeros with `x`'s shape and dtype.
public func zerosLike(_ x: Variable, dtype: DType? = nil) -> Variable {
    fill(x, Constant(NDArray(scalar: 0, dtype: dtype ?? x.dtype)))
}

/// Ones with `x`'s shape and dtype.
public func onesLike(_ x: Variable, dtype: DType? = nil) -> Variable {
    fill(x, Constant(NDArray(scalar: 1, dtype: dtype ?? x.dtype)))
}

extension Alloc {
    /// The value's gradient is the output gradient summed back to the value's shape.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        let v = node.inputs[0]
        let rest = node.inputs.dropFirst().map { _ in InputGradient.disconnected }
        guard let g = gradients[0], v.isDifferentiable else { return [.disconnected] + rest }
        return [.value(reduceGradient(g, to: v))] + rest
    }
}

extension Alloc {
    public func outputLength(_ node: Apply, output: Int, dim d: Int) -> Variable? {
        d + 1 < node.inputs.count && node.inputs[d + 1].dtype == .int64 ? node.inputs[d + 1] : nil
    }
}
