import NDArray

/// Turns a Swift number met in an expression into a constant, Python-literal style: it adopts
/// the float dtype of the tensor it meets (`0.13 * gW` stays float32); with an integer tensor
/// an integral value becomes the smallest integer dtype holding it (so `a ** 10` stays int) and
/// a fractional one float64, as NumPy does.
func literal(_ value: Double, like x: Variable) -> Variable {
    let d = x.dtype
    let dtype: DType
    if d.isFloat {
        dtype = d
    } else if value == value.rounded(), abs(value) < 9.2e18 {
        let i = Int64(value)
        dtype =
            Int64(Int8.min)...Int64(Int8.max) ~= i
            ? .int8
            : Int64(Int16.min)...Int64(Int16.max) ~= i
                ? .int16
                : Int64(Int32.min)...Int64(Int32.max) ~= i ? .int32 : .int64
    } else {
        dtype = .float64
    }
    return Constant(NDArray(scalar: value, dtype: dtype))
}

/// A constant tensor from an array value.
///
/// ```swift
/// let w = constant(try NDArray([1, 2, 3] as [Float]))
/// let k = constant(3, dtype: .int32)
/// ```
public func constant(_ value: NDArray, name: String? = nil) -> Constant { Constant(value, name: name) }

/// A 0-d constant of the given dtype (default floatX).
public func constant(_ value: Double, dtype: DType? = nil, name: String? = nil) -> Constant {
    Constant(NDArray(scalar: value, dtype: dtype ?? Config.current.floatX), name: name)
}
