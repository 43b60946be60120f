import NDArray

/// `beta · y + alpha · dot(A, x)` for a matrix A and vectors x, y, in one BLAS gemv (inputs y,
/// alpha, A, x, beta; y broadcasts to A's rows). The specialize phase puts it in place of
/// matrix·vector products and their scaled accumulations.
public struct Gemv: DifferentiableOp {
    public init() {}

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let y = inputs[0]
        let alpha = inputs[1]
        let a = inputs[2]
        let x = inputs[3]
        let beta = inputs[4]
        guard a.ndim == 2, x.ndim == 1, y.ndim <= 1, alpha.ndim == 0, beta.ndim == 0 else {
            throw OpError("gemv needs a matrix, a vector, an accumulator vector and two scalars, got \(inputs.summary)")
        }
        guard Set([y.dtype, a.dtype, x.dtype, alpha.dtype, beta.dtype]).count == 1, a.dtype.isFloat else {
            throw OpError("gemv needs one float dtype, got \(inputs.summary)")
        }
        if let k = a.shape[1], let n = x.shape[0], k != n {
            throw OpError("A and x are not aligned: \(k) != \(n)", kind: .shape)
        }
        return [TensorType(a.dtype, shape: try broadcastStatic([y.shape, [a.shape[0]]]))]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (y, a, x) = (inputs[0], inputs[2], inputs[3])
        let alpha = try inputs[1].item()
        let beta = try inputs[4].item()
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
        return [
            .value(reduceGradient(g * beta, to: y)), .value(sum(g * dot(a, x))), .value(outer(gp, x) * alpha),
            .value(dot(a.T, gp) * alpha), .value(sum(g * y))
        ]
    }
}

/// A small gemv written down for replay (strides in elements).
private struct PlannedGemv {
    let rows: Int, columns: Int, rowStride: Int, columnStride: Int, yStride: Int
}

extension Gemv: ReplayPlanning {
    /// Small float products with a contiguous x run ``smallGemv`` on the plan's pointers
    /// (operands y, alpha, A, x, beta, out).
    func replayCall(_ step: ReplayStep, _ memory: inout ReplayMemory) -> ReplayCall? {
        let (y, a, x) = (step.args[0], step.args[2], step.args[3])
        guard a.dtype == .float32 || a.dtype == .float64, a.shape[0] * a.shape[1] <= smallGemvLimit,
            x.shape[0] <= 1 || x.strides[0] == 1, y.count == 1 || y.shape == [a.shape[0]]
        else { return nil }
        let planned = PlannedGemv(
            rows: a.shape[0], columns: a.shape[1], rowStride: a.strides[0],
            columnStride: a.strides[1], yStride: y.count == 1 ? 0 : y.strides[0])
        let parameters = memory.parameters(planned)
        if a.dtype == .float32 {
            return ReplayCall(name: "gemv", body: { p, q in Self.replay(Float.self, p, q) }, parameters: parameters)
        }
        return ReplayCall(name: "gemv", body: { p, q in Self.replay(Double.self, p, q) }, parameters: parameters)
    }

    private static func replay<T: BinaryFloatingPoint & SIMDScalar>(
        _: T.Type, _ pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ parameters: UnsafeRawPointer
    ) {
        let q = parameters.assumingMemoryBound(to: PlannedGemv.self).pointee
        guard let py = pointers[0], let alpha = pointers[1], let pa = pointers[2], let px = pointers[3],
            let beta = pointers[4], let po = pointers[5]
        else { return }
        let out = po.assumingMemoryBound(to: T.self)
        let y = py.assumingMemoryBound(to: T.self)
        let al = alpha.load(as: T.self)
        let be = beta.load(as: T.self)
        if be != 0 { for i in 0..<q.rows { out[i] = y[i * q.yStride] } }
        smallGemv(
            UnsafePointer(pa.assumingMemoryBound(to: T.self)), rows: q.rows, columns: q.columns,
            rowStride: q.rowStride, columnStride: q.columnStride,
            UnsafePointer(px.assumingMemoryBound(to: T.self)), out, alpha: al, beta: be)
    }
}

/// `A + alpha · outer(x, y)` in one BLAS ger (inputs A, alpha, x, y): the rank-1 update.
public struct Ger: DifferentiableOp {
    public init() {}

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let a = inputs[0]
        let alpha = inputs[1]
        let x = inputs[2]
        let y = inputs[3]
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
        return [
            .value(reduceGradient(g, to: a)), .value(sum(g * outer(x, y))), .value(dot(gp, y) * alpha),
            .value(dot(x, gp) * alpha)
        ]
    }
}

extension Gemv {
    public func outputLength(_ node: Apply, output: Int, dim d: Int) -> Variable? {
        let rows = ShapeInference.length(node.inputs[2], 0)
        return ShapeInference.broadcastLength(accumulator: node.inputs[0], 0, of: 1, product: rows)
    }
}
