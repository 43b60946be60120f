import NDArray
import RealModule

/// `log(1 + x)`, accurate for tiny x.
public struct Log1p: ScalarOp {
    public init() {}
    public var cost: Int { 12 }
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { T.log(onePlus: a) }
    public func c(_ x: [String], _ t: CDomain) -> String { "th_log1p\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g / (1 + x[0])] }
}

/// `log(1 + x)`, accurate for tiny x.
public func log1p(_ x: Variable) -> Variable { elemwise(Log1p(), x) }
