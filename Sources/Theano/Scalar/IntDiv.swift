import NDArray
import RealModule

/// Floor division (Python's `//`): rounds toward negative infinity; integer division by zero
/// gives 0, as NumPy does.
public struct IntDiv: ScalarOp {
    public init() {}
    public var arity: Int { 2 }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { (a / b).rounded(.down) }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        if b == 0 { return 0 }
        let (q, overflow) = a.dividedReportingOverflow(by: b)
        if overflow { return q }
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
    public func c(_ x: [String], _ t: CDomain) -> String {
        t.isFloat ? "floor\(t.f)(\(x[0]) / \(x[1]))" : "th_ifloordiv(\(x[0]), \(x[1]))"
    }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [nil, nil] }
}

/// Floor division `a // b`, element-wise.
///
/// ```swift
/// let row = intdiv(i, 28)
/// ```
public func intdiv(_ a: Variable, _ b: Variable) -> Variable { elemwise(IntDiv(), a, b) }
/// Floor division by a Swift number.
public func intdiv(_ a: Variable, _ b: Double) -> Variable { elemwise(IntDiv(), a, literal(b, like: a)) }
