import NDArray
import RealModule

/// Conversion to another dtype (floats truncate toward zero when cast to integers).
public struct Cast: ScalarOp {
    public let dtype: DType
    public init(_ dtype: DType) { self.dtype = dtype }
    public var typeRule: ScalarTypeRule { .cast(dtype) }
    public var description: String { "Cast{\(dtype)}" }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { a }
    public func c(_ x: [String], _ t: CDomain) -> String { x[0] }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g] }
}

/// `x` converted to `dtype`; `x` itself when it already has that dtype.
///
/// ```swift
/// let n = cast(y.shape[0], .float32)
/// ```
public func cast(_ x: Variable, _ dtype: DType) -> Variable {
    x.dtype == dtype ? x : elemwise(Cast(dtype), x)
}
