import NDArray
import RealModule

/// Square root.
public struct Sqrt: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a.squareRoot() }
    public func c(_ x: [String], _ t: CDomain) -> String { "sqrt\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g * 0.5 / z] }
}

/// Square root.
public func sqrt(_ x: Variable) -> Variable { elemwise(Sqrt(), x) }
