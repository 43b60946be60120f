import NDArray
import RealModule

/// Subtraction.
public struct Sub: ScalarOp {
    public init() {}
    public var identity: Double? { 0 }
    public var arity: Int { 2 }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a - b }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { a &- b }
    public func c(_ x: [String], _ t: CDomain) -> String {
        t.isFloat ? "(\(x[0]) - \(x[1]))" : "th_wsub(\(x[0]), \(x[1]))"
    }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g, -g] }
}

/// `a - b`, element-wise with broadcasting.
public func - (a: Variable, b: Variable) -> Variable { elemwise(Sub(), a, b) }
/// `a - b` with a Swift number that adopts `a`'s dtype.
public func - (a: Variable, b: Double) -> Variable { elemwise(Sub(), a, literal(b, like: a)) }
/// `a - b` with a Swift number that adopts `b`'s dtype.
public func - (a: Double, b: Variable) -> Variable { elemwise(Sub(), literal(a, like: b), b) }
