import NDArray

/// `beta · y + alpha · dot(A, x)` for a matrix A and vectors x, y, in one BLAS gemv (inputs y,
/// alpha, A, x, beta; y broadcasts to A's rows). The specialize phase puts it in place of
/// matrix·vector products and their scaled accumulations.
public struct Gemv: DifferentiableOp {
    public init() {}

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let y = inputs[0], alpha = inputs[1], a = inputs[2], x = inputs[3], beta = inputs[4]
        guard a.ndim == 2, x.ndim == 1, y.ndim <= 1, alpha.ndim == 0, beta.ndim == 0 else {
            throw OpError("gemv needs a matrix, a vector, an accumulator vector and two scalars, got \(inputs.summary)")
        }
        guard Set([y.dtype, a.dtype, x.dtype, alpha.dtype, beta.dtype]).count == 1, a.dtype.isFloat else {
            throw OpError("gemv needs one float dtype, got \(inputs.summary)")
        }
        if let k = a.shape[1], let n = x.shape[0], k != n { throw OpError("A and x are not aligned: \(k) != \(n)", kind: .shape) }
        return [TensorType(a.dtype, shape: try broadcastStatic([y.shape, [a.shape[0]]]))]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (y, a, x) = (inputs[0], inputs[2], inputs[3])
        let alpha = try inputs[1].item(), beta = try inputs[4].item()
        guard let yb = try? y.broadcast(to: [a.shape[0]]) else {
            let zeros = try NDArray.zeros([a.shape[0]], dtype: a.dtype)
            let product = try gemv(a, x, y: zeros, alpha: alpha, beta: 0, dtype: a.dtype)
            return [try broadcastAccumulate(y, beta: beta, product, what: "y")]
        }
        return [try gemv(a, x, y: yb, alpha: alpha, beta: beta, dtype: a.dtype)]
    }

    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let g = gradients[0] else { return node.inputs.map { _ in .disconnected } }
        let (y, alpha, a, x, beta) = (node.inputs[0], node.inputs[1], node.inputs[2], node.inputs[3], node.inputs[4])
        let gp = reduceToProduct(g, [(a, 0)], accumulator: y)
        return [.value(reduceGradient(g * beta, to: y)), .value(sum(g * dot(a, x))), .value(outer(gp, x) * alpha),
                .value(dot(a.T, gp) * alpha), .value(sum(g * y))]
    }
}

/// `A + alpha · outer(x, y)` in one BLAS ger (inputs A, alpha, x, y): the rank-1 update.
public struct Ger: DifferentiableOp {
    public init() {}

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let a = inputs[0], alpha = inputs[1], x = inputs[2], y = inputs[3]
        guard a.ndim == 2, alpha.ndim == 0, x.ndim == 1, y.ndim == 1 else {
            throw OpError("ger needs a matrix, a scalar and two vectors, got \(inputs.summary)")
        }
        guard Set([a.dtype, alpha.dtype, x.dtype, y.dtype]).count == 1, a.dtype.isFloat else {
            throw OpError("ger needs one float dtype, got \(inputs.summary)")
        }
        _ = try broadcastStatic([a.shape, [x.shape[0], y.shape[0]]])
        return [TensorType(a.dtype, shape: [a.shape[0] ?? x.shape[0], a.shape[1] ?? y.shape[0]])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (a, x, y) = (inputs[0], inputs[2], inputs[3])
        let alpha = try inputs[1].item()
        guard let ab = try? a.broadcast(to: [x.shape[0], y.shape[0]]) else {
            let zeros = try NDArray.zeros([x.shape[0], y.shape[0]], dtype: a.dtype)
            return [try broadcastAccumulate(a, beta: 1, try ger(zeros, alpha: alpha, x, y, dtype: a.dtype), what: "A")]
        }
        return [try ger(ab, alpha: alpha, x, y, dtype: a.dtype)]
    }

    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let g = gradients[0] else { return node.inputs.map { _ in .disconnected } }
        let (a, alpha, x, y) = (node.inputs[0], node.inputs[1], node.inputs[2], node.inputs[3])
        let gp = reduceToProduct(g, [(x, 0), (y, 0)], accumulator: a)
        return [.value(reduceGradient(g, to: a)), .value(sum(g * outer(x, y))), .value(dot(gp, y) * alpha),
                .value(dot(x, gp) * alpha)]
    }
}

extension Gemv {
    public func outputLength(_ node: Apply, output: Int, dim d: Int) -> Variable? {
        let rows = ShapeInference.length(node.inputs[2], 0)
        return ShapeInference.broadcastLength(accumulator: node.inputs[0], 0, of: 1, product: rows)
    }
}
