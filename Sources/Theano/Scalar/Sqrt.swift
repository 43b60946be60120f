import NDArray
import RealModule

/// Square root.
public struct Sqrt: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a.squareRoot() }
}

/// Square root.
public func sqrt(_ x: Variable) -> Variable { elemwise(Sqrt(), x) }
