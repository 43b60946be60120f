import NDArray
import RealModule

/// `exp(x) - 1`, accurate for tiny x.
public struct Expm1: ScalarOp {
    public init() {}
    public var cost: Int { 12 }
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { T.expMinusOne(a) }
    public func c(_ x: [String], _ t: CDomain) -> String { "th_expm1\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g * (z + 1)] }
}

/// `exp(x) - 1`, accurate for tiny x.
public func expm1(_ x: Variable) -> Variable { elemwise(Expm1(), x) }
