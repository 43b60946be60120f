import NDArray
import RealModule

/// Nearest integer, halves to even (as NumPy's `round`).
public struct Round: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a.rounded(.toNearestOrEven) }
    public func c(_ x: [String], _ t: CDomain) -> String { "rint\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [nil] }
}

/// Nearest integer, halves to even (as NumPy's `round`).
public func round(_ x: Variable) -> Variable { elemwise(Round(), x) }
