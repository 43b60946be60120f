import NDArray
import RealModule

/// Natural exponential.
public struct Exp: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { T.exp(a) }
}

/// Natural exponential.
///
/// ```swift
/// let e = exp(x)
/// ```
public func exp(_ x: Variable) -> Variable { elemwise(Exp(), x) }
