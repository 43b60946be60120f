import NDArray
import RealModule

/// `log(1 + exp(x))`, computed without overflow.
public struct Softplus: ScalarOp {
    public init() {}
    public var cost: Int { 12 }
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T {
        (a > 0 ? a : 0) + T.log(onePlus: T.exp(-Swift.abs(a)))
    }
    public func c(_ x: [String], _ t: CDomain) -> String { "th_softplus\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g * sigmoid(x[0])] }
}

/// `log(1 + exp(x))`, computed without overflow.
public func softplus(_ x: Variable) -> Variable { elemwise(Softplus(), x) }
