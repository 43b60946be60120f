import NDArray
import RealModule

/// Remainder with the sign of the divisor (Python's and NumPy's `%`); integer `x % 0` is 0.
public struct Mod: ScalarOp {
    public init() {}
    public var arity: Int { 2 }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T {
        let r = a.truncatingRemainder(dividingBy: b)
        return (r != 0 && (r < 0) != (b < 0)) ? r + b : r
    }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        if b == 0 { return 0 }
        let (r, overflow) = a.remainderReportingOverflow(dividingBy: b)
        if overflow { return 0 }
        return (r != 0 && (r < 0) != (b < 0)) ? r + b : r
    }
    public func c(_ x: [String], _ t: CDomain) -> String {
        t.isFloat ? "th_mod\(t.f)(\(x[0]), \(x[1]))" : "th_imod(\(x[0]), \(x[1]))"
    }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [g, -g * intdiv(x[0], x[1])] }
}

/// `a % b` with the sign of `b`, element-wise.
public func % (a: Variable, b: Variable) -> Variable { elemwise(Mod(), a, b) }
/// `a % b` with a Swift number that adopts `a`'s dtype.
public func % (a: Variable, b: Double) -> Variable { elemwise(Mod(), a, literal(b, like: a)) }
/// `a % b` with a Swift number that adopts `b`'s dtype.
public func % (a: Double, b: Variable) -> Variable { elemwise(Mod(), literal(a, like: b), b) }
