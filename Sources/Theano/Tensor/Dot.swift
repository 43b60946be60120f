import NDArray

/// NumPy's `dot` for a right operand of rank 1 or 2: vector·vector → scalar, matrix·vector →
/// vector, vector·matrix → vector, matrix·matrix → matrix, and (…, k)·(k, n) → (…, n). Runs on
/// BLAS GEMM for floats.
public struct Dot: DifferentiableOp {
    public init() {}

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let a = inputs[0]
        let b = inputs[1]
        guard a.ndim >= 1, b.ndim == 1 || b.ndim == 2 else {
            throw OpError(
                "dot needs a tensor of rank ≥ 1 and a vector or matrix, got \(a) · \(b) (use batchedDot for stacks "
                    + "of matrices)"
            )
        }
        guard a.dtype != .bool && b.dtype != .bool else {
            throw OpError("dot of bool tensors is not supported; cast first")
        }
        let ka = a.shape[a.ndim - 1]
        let kb = b.shape[0]
        if let ka, let kb, ka != kb {
            throw OpError(
                "shapes \(a) and \(b) are not aligned: \(ka) (dim \(a.ndim - 1)) != \(kb) (dim 0)", kind: .shape)
        }
        let shape = Array(a.shape.dropLast()) + (b.ndim == 2 ? [b.shape[1]] : [])
        return [TensorType(DType.promote(a.dtype, b.dtype), shape: shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { try perform(inputs, reusing: []) }

    public var reusesBuffers: Bool { true }

    public func perform(_ inputs: [NDArray], reusing buffers: [NDArray?]) throws -> [NDArray] {
        let a = inputs[0]
        let b = inputs[1]
        let dtype = DType.promote(a.dtype, b.dtype)
        let k = a.shape[a.ndim - 1]
        guard b.shape[0] == k else {
            throw OpError(
                "shapes \(a.shape) and \(b.shape) are not aligned: \(k) (dim \(a.ndim - 1)) != \(b.shape[0]) (dim 0)",
                kind: .shape)
        }
        let lead = Array(a.shape.dropLast())
        let a2 = a.ndim == 2 ? a : try a.reshaped([lead.reduce(1, *), k])
        let b2 = b.ndim == 2 ? b : try b.reshaped([k, 1])
        let shape = lead + (b.ndim == 2 ? [b.shape[1]] : [])
        let buffer = reusable(buffers, 0, shape: shape, dtype: dtype).flatMap {
            try? $0.reshaped([a2.shape[0], b2.shape[1]])
        }
        let c = try gemm(a2, b2, dtype: dtype, into: buffer)
        return [try c.reshaped(shape)]
    }
}

/// Matrix products over a leading batch axis: (b, m, k)·(b, k, n) → (b, m, n).
public struct BatchedDot: DifferentiableOp {
    public init() {}

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let a = inputs[0]
        let b = inputs[1]
        guard a.ndim == 3, b.ndim == 3 else { throw OpError("batchedDot needs two 3-d tensors, got \(a) · \(b)") }
        if let x = a.shape[0], let y = b.shape[0], x != y {
            throw OpError("batch sizes differ: \(x) and \(y)", kind: .shape)
        }
        if let x = a.shape[2], let y = b.shape[1], x != y {
            throw OpError("shapes \(a) and \(b) are not aligned: \(x) != \(y)", kind: .shape)
        }
        return [TensorType(DType.promote(a.dtype, b.dtype), shape: [a.shape[0] ?? b.shape[0], a.shape[1], b.shape[2]])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let a = inputs[0]
        let b = inputs[1]
        guard a.shape[0] == b.shape[0] else {
            throw OpError("batch sizes differ: \(a.shape[0]) and \(b.shape[0])", kind: .shape)
        }
        let dtype = DType.promote(a.dtype, b.dtype)
        let out = try NDArray.zeros([a.shape[0], a.shape[1], b.shape[2]], dtype: dtype)
        for i in 0..<a.shape[0] {
            let c = try matmul(try a.sliced([.at(i)]), try b.sliced([.at(i)]), dtype: dtype)
            let dst = try out.sliced([.at(i)])
            transferBlocks(
                from: c, offsets: [c.offset], strides: c.strides, to: dst, offsets: [dst.offset],
                strides: dst.strides, shape: dst.shape, accumulate: false)
        }
        return [out]
    }
}

/// Matrix/vector product (NumPy's `dot` with a vector or matrix on the right).
///
/// ```swift
/// let h = tanh(dot(x, W) + b)
/// ```
public func dot(_ a: Variable, _ b: Variable) -> Variable { apply1(Dot(), [a, b]) }

/// Batched matrix product of two 3-d tensors.
public func batchedDot(_ a: Variable, _ b: Variable) -> Variable { apply1(BatchedDot(), [a, b]) }

/// Outer product of two vectors.
public func outer(_ x: Variable, _ y: Variable) -> Variable {
    x.flatten().dimshuffle(0, "x") * y.flatten().dimshuffle("x", 0)
}

extension Dot {
    /// `dot(g, bᵀ)` and `dot(aᵀ, g)`, specialised to the vector cases.
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        let a = node.inputs[0]
        let b = node.inputs[1]
        guard let g = gradients[0] else { return [.disconnected, .disconnected] }
        var ga: Variable
        var gb: Variable
        switch (a.ndim, b.ndim) {
        case (1, 1):
            ga = g * b
            gb = g * a
        case (2, 1):
            ga = outer(g, b)
            gb = dot(a.T, g)
        case (1, 2):
            ga = dot(b, g)
            gb = outer(a, g)
        case (2, 2):
            ga = dot(g, b.T)
            gb = dot(a.T, g)
        case (_, 2):
            ga = dot(g, b.T)
            let k: IndexValue = a.type.shape[a.ndim - 1].map(IndexValue.int) ?? .variable(a.shape[a.ndim - 1])
            let n: IndexValue = b.type.shape[1].map(IndexValue.int) ?? .variable(b.shape[1])
            gb = dot(a.reshape([.int(-1), k]).T, g.reshape([.int(-1), n]))
        default:
            ga = apply1(DimShuffle(Array(0..<g.ndim) + [nil]), [g]) * b
            let k: IndexValue = a.type.shape[a.ndim - 1].map(IndexValue.int) ?? .variable(a.shape[a.ndim - 1])
            gb = dot(a.reshape([.int(-1), k]).T, g.flatten())
        }
        return [
            a.isDifferentiable ? .value(cast(ga, a.dtype)) : .disconnected,
            b.isDifferentiable ? .value(cast(gb, b.dtype)) : .disconnected
        ]
    }
}

extension BatchedDot {
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        let a = node.inputs[0]
        let b = node.inputs[1]
        guard let g = gradients[0] else { return [.disconnected, .disconnected] }
        return [
            a.isDifferentiable ? .value(cast(batchedDot(g, b.transpose([0, 2, 1])), a.dtype)) : .disconnected,
            b.isDifferentiable ? .value(cast(batchedDot(a.transpose([0, 2, 1]), g), b.dtype)) : .disconnected
        ]
    }
}

extension Dot {
    public func outputLength(_ node: Apply, output: Int, dim d: Int) -> Variable? {
        let (a, b) = (node.inputs[0], node.inputs[1])
        switch (a.ndim, b.ndim) {
        case (2, 2): return d == 0 ? ShapeInference.length(a, 0) : ShapeInference.length(b, 1)
        case (2, 1): return ShapeInference.length(a, 0)
        case (1, 2): return ShapeInference.length(b, 1)
        default: return nil
        }
    }
}
