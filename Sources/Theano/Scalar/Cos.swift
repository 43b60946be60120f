import NDArray
import RealModule

/// Cosine.
public struct Cos: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { T.cos(a) }
}

/// Cosine.
public func cos(_ x: Variable) -> Variable { elemwise(Cos(), x) }
