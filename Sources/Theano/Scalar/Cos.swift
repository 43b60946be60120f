import NDArray
import RealModule

/// Cosine.
public struct Cos: ScalarOp {
    public init() {}
    public var cost: Int { 40 }
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { T.cos(a) }
    public func c(_ x: [String], _ t: CDomain) -> String { "cos\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [-g * sin(x[0])] }
}

/// Cosine.
public func cos(_ x: Variable) -> Variable { elemwise(Cos(), x) }
