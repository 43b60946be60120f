import NDArray
import RealModule

/// Rectifier `max(x, 0)`.
public struct Relu: ScalarOp {
    public init() {}
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a > 0 ? a : (a.isNaN ? a : 0) }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { a > 0 ? a : 0 }
    public func c(_ x: [String], _ t: CDomain) -> String {
        t.isFloat ? "th_relu\(t.f)(\(x[0]))" : "(\(x[0]) > 0 ? \(x[0]) : 0)"
    }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] {
        [g * cast(gt(x[0], 0), g.dtype)]
    }
}

/// Rectifier `max(x, 0)`.
public func relu(_ x: Variable) -> Variable { elemwise(Relu(), x) }
