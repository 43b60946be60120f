import NDArray

/// `beta · C + alpha · dot(A, B)` for matrices in one BLAS call (inputs C, alpha, A, B, beta;
/// alpha and beta scalars). C broadcasts to the product's shape. The specialize phase puts it in
/// place of `C − lr · dot(A, B)` and similar updates.
public struct Gemm: DifferentiableOp, AccumulatingOp {
    public init() {}

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let c = inputs[0]
        let alpha = inputs[1]
        let a = inputs[2]
        let b = inputs[3]
        let beta = inputs[4]
        guard a.ndim == 2, b.ndim == 2, c.ndim == 2, alpha.ndim == 0, beta.ndim == 0 else {
            throw OpError("gemm needs matrices C, A, B and scalars alpha, beta, got \(inputs.summary)")
        }
        guard Set([c.dtype, a.dtype, b.dtype, alpha.dtype, beta.dtype]).count == 1, c.dtype.isFloat else {
            throw OpError("gemm needs one float dtype, got \(inputs.summary)")
        }
        if let x = a.shape[1], let y = b.shape[0], x != y {
            throw OpError("A and B are not aligned: \(x) != \(y)", kind: .shape)
        }
        let shape = try broadcastStatic([c.shape, [a.shape[0], b.shape[1]]])
        return [TensorType(c.dtype, shape: shape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] { try perform(inputs, reusing: []) }

    public var reusesBuffers: Bool { true }
    /// The accumulator C becomes the result when nothing else needs it.
    public var inplaceMap: [Int: Int] { [0: 0] }

    /// Every check `perform` makes, without computing: shapes, dtypes and scalar operands.
    func validate(_ inputs: [NDArray]) throws {
        let (c, a, b) = (inputs[0], inputs[2], inputs[3])
        _ = try inputs[1].item()
        _ = try inputs[4].item()
        guard a.ndim == 2, b.ndim == 2, a.shape[1] == b.shape[0] else {
            throw OpError("matrices are not aligned: \(a.shape) · \(b.shape)", kind: .shape)
        }
        _ = try accumulatedShape(c.shape, [a.shape[0], b.shape[1]], what: "C")
    }

    public func perform(_ inputs: [NDArray], reusing buffers: [NDArray?]) throws -> [NDArray] {
        let (c, a, b) = (inputs[0], inputs[2], inputs[3])
        let alpha = try inputs[1].item()
        let beta = try inputs[4].item()
        let target = [a.shape[0], b.shape[1]]
        guard let cb = try? c.broadcast(to: target) else {
            let product = try gemm(a, b, dtype: c.dtype, alpha: alpha)
            return [try broadcastAccumulate(c, beta: beta, product, what: "C")]
        }
        return [try gemm(a, b, dtype: c.dtype, alpha: alpha, beta: beta, c: cb, into: buffers.first ?? nil)]
    }

    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        guard let g = gradients[0] else { return node.inputs.map { _ in .disconnected } }
        let (c, alpha, a, b, beta) = (node.inputs[0], node.inputs[1], node.inputs[2], node.inputs[3], node.inputs[4])
        let gp = reduceToProduct(g, [(a, 0), (b, 1)], accumulator: c)
        return [
            .value(reduceGradient(g * beta, to: c)), .value(sum(g * dot(a, b))),
            .value(dot(gp, b.T) * alpha), .value(dot(a.T, gp) * alpha), .value(sum(g * c))
        ]
    }
}

/// `beta · c + alpha · dot(a, b)` in one call.
public func gemm(_ c: Variable, alpha: Variable, _ a: Variable, _ b: Variable, beta: Variable) -> Variable {
    apply1(Gemm(), [c, alpha, a, b, beta])
}

/// The shape of `beta · c + product`: `c` broadcasts against the product both ways (the type
/// rules of Gemm, Gemv and Ger allow it), or it is an error naming `what`.
func accumulatedShape(_ c: [Int], _ product: [Int], what: String) throws -> [Int] {
    do { return try NDArray.broadcastShapes([c, product]) } catch {
        throw OpError("\(what) of shape \(c) does not broadcast with the product's shape \(product)", kind: .shape)
    }
}

/// `beta · c + product` when `c` is longer than the product along some axis (a product with one
/// column plus a row of biases): the rewrites that build Gemm, Gemv and Ger cannot prove from
/// the types that the accumulator fits in the product's shape, so the ops check at run time and
/// take this path, which BLAS cannot. With `beta` 0, `c` is ignored, as BLAS ignores it.
func broadcastAccumulate(_ c: NDArray, beta: Double, _ product: NDArray, what: String) throws -> NDArray {
    let shape = try accumulatedShape(c.shape, product.shape, what: what)
    let p = try product.broadcast(to: shape).doubles
    guard beta != 0 else { return try NDArray(p, shape: shape).cast(to: c.dtype) }
    let values = zip(try c.broadcast(to: shape).doubles, p).map { beta * $0 + $1 }
    return try NDArray(values, shape: shape).cast(to: c.dtype)
}

/// The gradient of a BLAS update's output summed back to its product's shape, given as the
/// operands' lengths (`(a, 0)`: `a.shape[0]`). The output has the product's shape unless the
/// accumulator is longer along an axis (they broadcast both ways), so this is a run-time check
/// that sums only then; the products' gradients must not see the accumulator's extra lengths.
func reduceToProduct(_ g: Variable, _ lengths: [(Variable, Int)], accumulator c: Variable) -> Variable {
    let known = lengths.map { v, d in v.type.shape[d] }
    if g.type.shape == known, !known.contains(nil) { return g }
    // Only an axis the accumulator has, with a length not known to be 1, can be longer.
    let lead = lengths.count - c.ndim
    let longer = (0..<lengths.count).contains { d in d >= lead && c.type.shape[d - lead] != 1 }
    if !longer { return g }
    let shape = stack(lengths.map { v, d in v.shape[d] })
    return apply1(ReduceTo(staticShape: known), [g, shape])
}

extension Gemm {
    public func outputLength(_ node: Apply, output: Int, dim d: Int) -> Variable? {
        let product = d == 0 ? ShapeInference.length(node.inputs[2], 0) : ShapeInference.length(node.inputs[3], 1)
        return ShapeInference.broadcastLength(accumulator: node.inputs[0], d, of: 2, product: product)
    }
}
