import NDArray
import RealModule

/// Absolute value.
public struct Abs: ScalarOp {
    public init() {}
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { Swift.abs(a) }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { a < 0 ? 0 &- a : a }
    public func c(_ x: [String], _ t: CDomain) -> String { t.isFloat ? "fabs\(t.f)(\(x[0]))" : "th_iabs(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g * sign(x[0])] }
}

/// Absolute value.
public func abs(_ x: Variable) -> Variable { elemwise(Abs(), x) }
