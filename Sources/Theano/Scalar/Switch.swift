import NDArray
import RealModule

/// `switch(cond, a, b)`: `a` where `cond` is true, else `b` (NumPy's `where`).
public struct Switch: ScalarOp {
    public init() {}
    public var arity: Int { 3 }
    public var typeRule: ScalarTypeRule { .select }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a != 0 ? b : c }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { a != 0 ? b : c }
    public func c(_ x: [String], _ t: CDomain) -> String { "(\(x[0]) != 0 ? \(x[1]) : \(x[2]))" }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] {
        [nil, select(x[0], g, 0), select(x[0], zerosLike(g), g)]
    }
}

/// Element-wise choice: `a` where `cond` holds, `b` elsewhere (all three broadcast). This is
/// Theano's `switch` and NumPy's `where` (both Swift keywords).
///
/// ```swift
/// let y = select(gt(x, 0), x, 0.01 * x)     // leaky ReLU
/// ```
public func select(_ cond: Variable, _ a: Variable, _ b: Variable) -> Variable {
    elemwise(Switch(), cond.dtype == .bool ? cond : neq(cond, 0), a, b)
}

/// ``select(_:_:_:)`` with a Swift number for the `else` branch, adopting `a`'s dtype.
public func select(_ cond: Variable, _ a: Variable, _ b: Double) -> Variable { select(cond, a, literal(b, like: a)) }
