import NDArray
import RealModule

/// Natural logarithm.
public struct Log: ScalarOp {
    public init() {}
    public var cost: Int { 12 }
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { T.log(a) }
    public func c(_ x: [String], _ t: CDomain) -> String { "th_log\(t.f)(\(x[0]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g / x[0]] }
}

/// Natural logarithm.
///
/// ```swift
/// let nll = -mean(log(p))
/// ```
public func log(_ x: Variable) -> Variable { elemwise(Log(), x) }
