import NDArray
import RealModule

/// Comparison `a == b`, giving a bool tensor.
public struct EQ: ScalarOp {
    public init() {}
    public var isCommutative: Bool { true }
    public var arity: Int { 2 }
    public var typeRule: ScalarTypeRule { .predicate }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a == b ? 1 : 0 }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { a == b ? 1 : 0 }
    public func c(_ x: [String], _ t: CDomain) -> String { "(\(x[0]) == \(x[1]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [nil, nil] }
}

/// Comparison `a == b`, giving a bool tensor.
public func eq(_ a: Variable, _ b: Variable) -> Variable { elemwise(EQ(), a, b) }
/// Comparison `a == b`, giving a bool tensor. A Swift number adopts the tensor's dtype.
public func eq(_ a: Variable, _ b: Double) -> Variable { elemwise(EQ(), a, literal(b, like: a)) }
