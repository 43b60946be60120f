import NDArray
import RealModule

/// `log(1 + x)`, accurate for tiny x.
public struct Log1p: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { T.log(onePlus: a) }
}

/// `log(1 + x)`, accurate for tiny x.
public func log1p(_ x: Variable) -> Variable { elemwise(Log1p(), x) }
