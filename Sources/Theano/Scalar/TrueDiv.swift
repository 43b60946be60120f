import NDArray
import RealModule

/// True division; integers are divided as floats.
public struct TrueDiv: ScalarOp {
    public init() {}
    public var identity: Double? { 1 }
    public var arity: Int { 2 }
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a / b }
    public func c(_ x: [String], _ t: CDomain) -> String { "(\(x[0]) / \(x[1]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g / x[1], -g * z / x[1]] }
}

/// `a / b`, element-wise with broadcasting.
public func / (a: Variable, b: Variable) -> Variable { elemwise(TrueDiv(), a, b) }
/// `a / b` with a Swift number that adopts `a`'s dtype.
public func / (a: Variable, b: Double) -> Variable { elemwise(TrueDiv(), a, literal(b, like: a)) }
/// `a / b` with a Swift number that adopts `b`'s dtype.
public func / (a: Double, b: Variable) -> Variable { elemwise(TrueDiv(), literal(a, like: b), b) }
