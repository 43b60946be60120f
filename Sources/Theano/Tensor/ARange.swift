import NDArray

/// `[start, start + step, …)` below `stop` (NumPy's `arange`); bounds are scalar inputs.
public struct ARange: Op {
    public let dtype: DType
    public let staticLength: Int?
    public var description: String { "ARange{\(dtype)}" }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == 3, inputs.allSatisfy({ $0.ndim == 0 }) else {
            throw OpError("arange needs scalar start, stop and step, got \(inputs.summary)")
        }
        return [TensorType(dtype, shape: [staticLength])]
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let v = try inputs.map { try $0.item() }
        guard v[2] != 0 else { throw OpError("arange step must not be zero", kind: .shape) }
        return [try NDArray.arange(v[0], v[1], step: v[2], dtype: dtype)]
    }
}

/// `0, 1, …, n - 1` for a symbolic `n` (int64), as used in `p[arange(n), y]`.
///
/// ```swift
/// let nll = -mean(log(p)[arange(y.shape[0]), y])
/// ```
public func arange(_ n: Variable) -> Variable {
    arange(Constant(NDArray(scalar: Int64(0))), n, step: Constant(NDArray(scalar: Int64(1))))
}

/// `start ..< stop` by `step` with symbolic bounds; the dtype follows the bounds.
public func arange(_ start: Variable, _ stop: Variable, step: Variable) -> Variable {
    let dtype = DType.promote(DType.promote(start.dtype, stop.dtype), step.dtype)
    return apply1(ARange(dtype: dtype == .bool ? .int64 : dtype, staticLength: nil), [start, stop, step])
}

/// `0 ..< stop` with a Swift number (int64 when integral, else floatX).
public func arange(_ stop: Double) -> Variable { arange(0, stop) }

/// `start ..< stop` by `step` with Swift numbers (int64 when all are integral, else floatX).
public func arange(_ start: Double, _ stop: Double, step: Double = 1) -> Variable {
    let integral = [start, stop, step].allSatisfy { $0 == $0.rounded() }
    let dtype: DType = integral ? .int64 : Config.current.floatX
    let n = step == 0 ? nil : Swift.max(0, Int(((stop - start) / step).rounded(.up)))
    let c = { (v: Double) in Constant(NDArray(scalar: v, dtype: dtype)) }
    return apply1(ARange(dtype: dtype, staticLength: n), [c(start), c(stop), c(step)])
}
