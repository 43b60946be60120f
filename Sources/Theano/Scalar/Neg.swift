import NDArray
import RealModule

/// Negation.
public struct Neg: ScalarOp {
    public init() {}
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { -a }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { 0 &- a }
    public func c(_ x: [String], _ t: CDomain) -> String { t.isFloat ? "(-\(x[0]))" : "th_wsub(0, \(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [-g] }
}

/// Negation.
public func neg(_ x: Variable) -> Variable { elemwise(Neg(), x) }

/// `-x`. Note Swift binds prefix operators tighter than `**`: `-x ** 2` is `(-x) ** 2`.
public prefix func - (x: Variable) -> Variable { elemwise(Neg(), x) }
