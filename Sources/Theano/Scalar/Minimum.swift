import NDArray
import RealModule

/// Element-wise minimum; NaN propagates.
public struct Minimum: ScalarOp {
    public init() {}
    public var arity: Int { 2 }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a.isNaN || b.isNaN ? .nan : (a < b ? a : b) }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { min(a, b) }
    public func c(_ x: [String], _ t: CDomain) -> String { t.isFloat ? "th_min\(t.f)(\(x[0]), \(x[1]))" : "(\(x[0]) < \(x[1]) ? \(x[0]) : \(x[1]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] {
        [g * cast(eq(z, x[0]), g.dtype), g * cast(eq(z, x[1]), g.dtype)]
    }
}

/// Element-wise minimum; NaN propagates.
public func minimum(_ a: Variable, _ b: Variable) -> Variable { elemwise(Minimum(), a, b) }
/// Element-wise minimum; NaN propagates. A Swift number adopts the tensor's dtype.
public func minimum(_ a: Variable, _ b: Double) -> Variable { elemwise(Minimum(), a, literal(b, like: a)) }
