import NDArray
import RealModule

/// Smallest integer not below x (as a float).
public struct Ceil: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a.rounded(.up) }
    public func c(_ x: [String], _ t: CDomain) -> String { "ceil\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [nil] }
}

/// Smallest integer not below x (as a float).
public func ceil(_ x: Variable) -> Variable { elemwise(Ceil(), x) }
