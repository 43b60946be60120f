import NDArray

/// A symbolic input of any dtype (default floatX) and static shape (`nil` = unknown length).
///
/// ```swift
/// let x = tensor(.float32, shape: [nil, 784], name: "x")
/// ```
public func tensor(_ dtype: DType? = nil, shape: [Int?], name: String? = nil) -> Variable {
    Variable(
        type: TensorType(dtype ?? Config.current.floatX, shape: shape), name: name, owner: nil, index: 0,
        location: .capture())
}

private func rank(_ n: Int, _ dtype: DType?, _ name: String?) -> Variable {
    tensor(dtype, shape: Array(repeating: nil, count: n), name: name)
}

/// A 0-d input (default floatX). `lscalar`, `iscalar`, `fscalar`, `dscalar`, … fix the dtype.
public func scalar(_ name: String? = nil, dtype: DType? = nil) -> Variable { rank(0, dtype, name) }
/// A 1-d input (default floatX).
public func vector(_ name: String? = nil, dtype: DType? = nil) -> Variable { rank(1, dtype, name) }
/// A 2-d input (default floatX).
///
/// ```swift
/// let x = matrix("x"), y = ivector("y")
/// ```
public func matrix(_ name: String? = nil, dtype: DType? = nil) -> Variable { rank(2, dtype, name) }
/// A 3-d input (default floatX).
public func tensor3(_ name: String? = nil, dtype: DType? = nil) -> Variable { rank(3, dtype, name) }
/// A 4-d input (default floatX), e.g. images as (batch, channels, rows, cols).
public func tensor4(_ name: String? = nil, dtype: DType? = nil) -> Variable { rank(4, dtype, name) }

// Theano's dtype-prefixed constructors: f = float32, d = float64, i = int32, l = int64,
// b = int8, w = int16.
public func fscalar(_ name: String? = nil) -> Variable { rank(0, .float32, name) }
public func dscalar(_ name: String? = nil) -> Variable { rank(0, .float64, name) }
public func iscalar(_ name: String? = nil) -> Variable { rank(0, .int32, name) }
public func lscalar(_ name: String? = nil) -> Variable { rank(0, .int64, name) }
public func bscalar(_ name: String? = nil) -> Variable { rank(0, .int8, name) }
public func wscalar(_ name: String? = nil) -> Variable { rank(0, .int16, name) }
public func fvector(_ name: String? = nil) -> Variable { rank(1, .float32, name) }
public func dvector(_ name: String? = nil) -> Variable { rank(1, .float64, name) }
public func ivector(_ name: String? = nil) -> Variable { rank(1, .int32, name) }
public func lvector(_ name: String? = nil) -> Variable { rank(1, .int64, name) }
public func bvector(_ name: String? = nil) -> Variable { rank(1, .int8, name) }
public func wvector(_ name: String? = nil) -> Variable { rank(1, .int16, name) }
public func fmatrix(_ name: String? = nil) -> Variable { rank(2, .float32, name) }
public func dmatrix(_ name: String? = nil) -> Variable { rank(2, .float64, name) }
public func imatrix(_ name: String? = nil) -> Variable { rank(2, .int32, name) }
public func lmatrix(_ name: String? = nil) -> Variable { rank(2, .int64, name) }
public func bmatrix(_ name: String? = nil) -> Variable { rank(2, .int8, name) }
public func wmatrix(_ name: String? = nil) -> Variable { rank(2, .int16, name) }
public func ftensor3(_ name: String? = nil) -> Variable { rank(3, .float32, name) }
public func dtensor3(_ name: String? = nil) -> Variable { rank(3, .float64, name) }
public func itensor3(_ name: String? = nil) -> Variable { rank(3, .int32, name) }
public func ltensor3(_ name: String? = nil) -> Variable { rank(3, .int64, name) }
public func ftensor4(_ name: String? = nil) -> Variable { rank(4, .float32, name) }
public func dtensor4(_ name: String? = nil) -> Variable { rank(4, .float64, name) }
public func itensor4(_ name: String? = nil) -> Variable { rank(4, .int32, name) }
public func ltensor4(_ name: String? = nil) -> Variable { rank(4, .int64, name) }
/// A bool input of the given rank.
public func btensor(_ name: String? = nil, ndim: Int) -> Variable { rank(ndim, .bool, name) }
