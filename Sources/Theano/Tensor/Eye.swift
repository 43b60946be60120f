import NDArray

/// An `n × m` matrix with ones on the `k`-th diagonal (NumPy's `eye`); n, m, k are scalar inputs.
public struct Eye: Op {
    public let dtype: DType
    public let staticShape: [Int?]
    public var description: String { "Eye{\(dtype)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.allSatisfy({ $0.ndim == 0 && $0.dtype.isInteger }) else {
            throw OpError("eye needs integer scalars n, m, k, got \(inputs.summary)")
        }
        return [TensorType(dtype, shape: staticShape)]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let v = try inputs.map { Int(try $0.item()) }
        guard v[0] >= 0 && v[1] >= 0 else {
            throw OpError("eye dimensions must be non-negative, got \(v[0])×\(v[1])", kind: .shape)
        }
        var out = try NDArray.zeros([v[0], v[1]], dtype: dtype)
        for i in 0..<v[0] where i + v[2] >= 0 && i + v[2] < v[1] {
            try out.setElement(at: [i, i + v[2]], to: 1)
        }
        return [out]
    }
}

/// The identity-like matrix: `n × (m ?? n)` with ones on diagonal `k`.
///
/// ```swift
/// let I = eye(3)
/// ```
public func eye(_ n: Int, _ m: Int? = nil, k: Int = 0, dtype: DType? = nil) -> Variable {
    let c = { (i: Int) in Constant(NDArray(scalar: Int64(i))) }
    return apply1(Eye(dtype: dtype ?? Config.current.floatX, staticShape: [n, m ?? n]), [c(n), c(m ?? n), c(k)])
}

/// ``eye(_:_:k:dtype:)`` with a symbolic size.
public func eye(_ n: Variable, dtype: DType? = nil) -> Variable {
    apply1(
        Eye(dtype: dtype ?? Config.current.floatX, staticShape: [nil, nil]), [n, n, Constant(NDArray(scalar: Int64(0)))]
    )
}
