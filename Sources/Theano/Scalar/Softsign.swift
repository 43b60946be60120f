import NDArray
import RealModule

/// `x / (1 + |x|)`: a sigmoid-shaped squashing to (−1, 1) whose tails approach their limits
/// polynomially rather than exponentially.
public struct Softsign: ScalarOp {
    public init() {}
    public var cost: Int { 4 }
    public var typeRule: ScalarTypeRule { .upgradeToFloat }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a / (1 + Swift.abs(a)) }
    public func c(_ x: [String], _ t: CDomain) -> String {
        "(\(x[0]) / (\(t.literal(1)) + fabs\(t.f)(\(x[0]))))"
    }
    /// d/dx x / (1 + |x|) = 1 / (1 + |x|)².
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] {
        [g / sqr(1 + abs(x[0]))]
    }
}

/// `x / (1 + |x|)`, elementwise: a cheaper squashing than `tanh`, to (−1, 1).
///
/// ```swift
/// let h = softsign(dot(x, w) + b)
/// ```
public func softsign(_ x: Variable) -> Variable { elemwise(Softsign(), x) }
