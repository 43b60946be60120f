import NDArray
import RealModule

/// Sine.
public struct Sin: ScalarOp {
    public init() {}
    public var cost: Int { 40 }
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { T.sin(a) }
    public func c(_ x: [String], _ t: CDomain) -> String { "sin\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g * cos(x[0])] }
}

/// Sine.
public func sin(_ x: Variable) -> Variable { elemwise(Sin(), x) }
