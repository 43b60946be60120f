import NDArray
import RealModule

/// `1 / x`.
public struct Reciprocal: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { 1 / a }
    public func c(_ x: [String], _ t: CDomain) -> String { "(\(t.literal(1)) / \(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [-g * z * z] }
}

/// `1 / x`.
public func reciprocal(_ x: Variable) -> Variable { elemwise(Reciprocal(), x) }
