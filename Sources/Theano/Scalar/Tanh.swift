import NDArray
import RealModule

/// Hyperbolic tangent.
public struct Tanh: ScalarOp {
    public init() {}
    public var cost: Int { 24 }
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { T.tanh(a) }
    public func c(_ x: [String], _ t: CDomain) -> String { "th_tanh\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g * (1 - z * z)] }
}

/// Hyperbolic tangent.
public func tanh(_ x: Variable) -> Variable { elemwise(Tanh(), x) }
