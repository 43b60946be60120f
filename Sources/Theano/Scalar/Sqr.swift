import NDArray
import RealModule

/// Square, `x * x`.
public struct Sqr: ScalarOp {
    public init() {}
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a * a }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { a &* a }
    public func c(_ x: [String], _ t: CDomain) -> String {
        t.isFloat ? "(\(x[0]) * \(x[0]))" : "th_wmul(\(x[0]), \(x[0]))"
    }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g * 2 * x[0]] }
}

/// Square, `x * x`.
public func sqr(_ x: Variable) -> Variable { elemwise(Sqr(), x) }
