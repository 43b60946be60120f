import NDArray
import RealModule

/// Logical exclusive or of bool tensors.
public struct Xor: ScalarOp {
    public init() {}
    public var isCommutative: Bool { true }
    public var arity: Int { 2 }
    public var typeRule: ScalarTypeRule { .logical }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { (a != 0) != (b != 0) ? 1 : 0 }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { (a != 0) != (b != 0) ? 1 : 0 }
    public func c(_ x: [String], _ t: CDomain) -> String { "((\(x[0]) != 0) != (\(x[1]) != 0))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [nil, nil] }
}

/// Logical exclusive or of bool tensors.
public func xor(_ a: Variable, _ b: Variable) -> Variable { elemwise(Xor(), a, b) }
/// Logical exclusive or of bool tensors. A Swift number adopts the tensor's dtype.
public func xor(_ a: Variable, _ b: Double) -> Variable { elemwise(Xor(), a, literal(b, like: a)) }
