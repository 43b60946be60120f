import NDArray
import RealModule

/// Whether each element is ±infinity.
public struct IsInf: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .predicate }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a.isInfinite ? 1 : 0 }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { 0 }
    public func c(_ x: [String], _ t: CDomain) -> String { t.isFloat ? "(fabs\(t.f)(\(x[0])) == INFINITY)" : "0" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [nil] }
}

/// Whether each element is ±infinity.
public func isinf(_ x: Variable) -> Variable { elemwise(IsInf(), x) }
