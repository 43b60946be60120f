import NDArray

/// The static type of a symbolic tensor: a dtype and a shape whose entries are known lengths or
/// `nil` (unknown until run time). A dimension is broadcastable when its static length is 1.
///
/// ```swift
/// let t = TensorType(.float32, shape: [nil, 784])   // a minibatch of MNIST rows
/// t.ndim                                           // 2
/// ```
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var shape: [Int?]

    public init(_ dtype: DType, shape: [Int?]) {
        self.dtype = dtype
        self.shape = shape
    }

    public var ndim: Int { shape.count }
    /// Which dimensions are statically of length 1.
    public var broadcastable: [Bool] { shape.map { $0 == 1 } }

    /// `float32(?, 784)`.
    public var description: String {
        "\(dtype)(" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + (ndim == 1 ? ",)" : ")")
    }

    /// Whether a runtime value fits: same dtype, same ndim, equal lengths where static.
    public func accepts(_ a: NDArray) -> Bool {
        a.dtype == dtype && a.ndim == ndim && zip(shape, a.shape).allSatisfy { $0 == nil || $0 == $1 }
    }

    /// Whether every value of `other` is a value of `self` (same dtype/ndim, `self` no more specific).
    public func isSupertype(of other: TensorType) -> Bool {
        dtype == other.dtype && ndim == other.ndim && zip(shape, other.shape).allSatisfy { $0 == nil || $0 == $1 }
    }

    /// A copy with another dtype.
    public func with(dtype: DType) -> TensorType { TensorType(dtype, shape: shape) }
}
