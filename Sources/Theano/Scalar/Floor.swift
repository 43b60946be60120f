import NDArray
import RealModule

/// Largest integer not above x (as a float).
public struct Floor: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a.rounded(.down) }
    public func c(_ x: [String], _ t: CDomain) -> String { "floor\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [nil] }
}

/// Largest integer not above x (as a float).
public func floor(_ x: Variable) -> Variable { elemwise(Floor(), x) }
