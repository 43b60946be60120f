import NDArray
import RealModule

/// Natural exponential.
public struct Exp: ScalarOp {
    public init() {}
    public var cost: Int { 12 }
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { T.exp(a) }
    public func c(_ x: [String], _ t: CDomain) -> String { "th_exp\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g * z] }
}

/// Natural exponential.
///
/// ```swift
/// let e = exp(x)
/// ```
public func exp(_ x: Variable) -> Variable { elemwise(Exp(), x) }
