import NDArray
import RealModule

/// Sine.
public struct Sin: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { T.sin(a) }
}

/// Sine.
public func sin(_ x: Variable) -> Variable { elemwise(Sin(), x) }
