import NDArray
import RealModule

/// Logical or of bool tensors.
public struct Or: ScalarOp {
    public init() {}
    public var isCommutative: Bool { true }
    public var arity: Int { 2 }
    public var typeRule: ScalarTypeRule { .logical }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a != 0 || b != 0 ? 1 : 0 }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { a != 0 || b != 0 ? 1 : 0 }
    public func c(_ x: [String], _ t: CDomain) -> String { "(\(x[0]) != 0 || \(x[1]) != 0)" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [nil, nil] }
}

/// Logical `||` of bool tensors, element-wise.
public func || (a: Variable, b: Variable) -> Variable { elemwise(Or(), a, b) }
