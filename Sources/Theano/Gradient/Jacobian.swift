import NDArray

/// The Jacobian of a vector (or scalar) `expression` with respect to `wrt`: shape
/// `expression.shape + wrt.shape`. A vector of statically known length gets one `grad` per
/// element; any other length, a ``scan`` over its elements (one gradient graph, run per row).
///
/// ```swift
/// let x = dvector("x")
/// let J = try jacobian(x ** 2, wrt: x)        // diag(2x), whatever x's length
/// ```
public func jacobian(_ expression: Variable, wrt: Variable) throws -> Variable {
    if expression.ndim == 0 { return try grad(expression, wrt: wrt) }
    guard expression.ndim == 1 else {
        throw TheanoError(
            .gradient, "jacobian needs a scalar or a vector, got \(expression.label) of rank \(expression.ndim)",
            location: expression.owner?.location ?? expression.location)
    }
    guard let n = expression.type.shape[0] else {
        let (rows, _) = try scan(
            { v in [try grad(expression[v[0]], wrt: [wrt], disconnectedInputs: .ignore)[0]] },
            sequences: [arange(cast(expression.shape[0], .int64))], outputsInfo: [nil])
        return rows[0]
    }
    if n == 0 { return invalid("jacobian of an empty vector", expression, op: "Jacobian") }
    let rows = try (0..<n).map { i in try grad(expression[i], wrt: [wrt], disconnectedInputs: .ignore)[0] }
    return stack(rows)
}

/// The Hessian of a scalar `cost` with respect to a vector `wrt` (of any length).
public func hessian(_ cost: Variable, wrt: Variable) throws -> Variable {
    try jacobian(try grad(cost, wrt: wrt), wrt: wrt)
}

/// The vector-Jacobian product `vᵀ J` (Theano's `Lop`): for each `wrt`, the gradient of
/// `sum(expression * v)`.
public func Lop(_ expression: Variable, wrt: [Variable], _ v: Variable) throws -> [Variable] {
    try grad(sum(expression * v), wrt: wrt, disconnectedInputs: .ignore)
}

/// The Jacobian-vector product `J v` (Theano's `Rop`) with one tangent per `wrt`, computed by
/// differentiating the (linear) vector-Jacobian product with respect to its cotangent.
public func Rop(_ expression: Variable, wrt: [Variable], _ v: [Variable]) throws -> Variable {
    guard wrt.count == v.count else {
        throw TheanoError(.gradient, "Rop needs one tangent per variable: \(wrt.count) variables, \(v.count) tangents")
    }
    let u = Variable(type: expression.type, name: "u", owner: nil, index: 0, location: .capture())
    let vjp = try Lop(expression, wrt: wrt, u)
    let inner = zip(vjp, v).map { sum($0 * $1) }.reduce(Constant(NDArray(scalar: 0, dtype: expression.dtype))) {
        $0 + $1
    }
    // J v does not depend on u (the product is linear in u), so u can be given any value.
    let jv = try grad(inner, wrt: [u])[0]
    return Graph.clone([jv], replacing: [u: zerosLike(expression)])[0]
}
