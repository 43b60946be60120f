import NDArray
import RealModule

/// Logical not of a bool tensor.
public struct Not: ScalarOp {
    public init() {}
    public var typeRule: ScalarTypeRule { .logical }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a == 0 ? 1 : 0 }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { a == 0 ? 1 : 0 }
    public func c(_ x: [String], _ t: CDomain) -> String { "(\(x[0]) == 0)" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [nil] }
}

/// Logical not of a bool tensor.
public prefix func ! (x: Variable) -> Variable { elemwise(Not(), x) }
