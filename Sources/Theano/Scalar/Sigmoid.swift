import NDArray
import RealModule

/// Logistic sigmoid `1 / (1 + exp(-x))`, computed without overflow.
public struct Sigmoid: ScalarOp {
    public init() {}
    public var cost: Int { 12 }
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T {
        a >= 0 ? 1 / (1 + T.exp(-a)) : T.exp(a) / (1 + T.exp(a))
    }
    public func c(_ x: [String], _ t: CDomain) -> String { "th_sigmoid\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g * z * (1 - z)] }
}

/// Logistic sigmoid `1 / (1 + exp(-x))`, computed without overflow.
///
/// ```swift
/// let p = sigmoid(dot(x, w) + b)
/// ```
public func sigmoid(_ x: Variable) -> Variable { elemwise(Sigmoid(), x) }
