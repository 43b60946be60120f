import NDArray
import RealModule

/// Element-wise maximum; NaN propagates. Ties split the gradient evenly.
public struct Maximum: ScalarOp {
    public init() {}
    public var isCommutative: Bool { true }
    public var arity: Int { 2 }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a.isNaN || b.isNaN ? .nan : (a > b ? a : b) }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { max(a, b) }
    public func c(_ x: [String], _ t: CDomain) -> String {
        t.isFloat ? "th_max\(t.f)(\(x[0]), \(x[1]))" : "(\(x[0]) > \(x[1]) ? \(x[0]) : \(x[1]))"
    }
    /// Each input gets `g` where it alone is the larger and half of it where the two tie (as JAX
    /// and PyTorch split it), so d/dx maximum(x, x) is 1, not 2.
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] {
        let tie = 0.5 * cast(eq(x[0], x[1]), g.dtype)
        return [g * (cast(gt(x[0], x[1]), g.dtype) + tie), g * (cast(lt(x[0], x[1]), g.dtype) + tie)]
    }
}

/// Element-wise maximum; NaN propagates.
public func maximum(_ a: Variable, _ b: Variable) -> Variable { elemwise(Maximum(), a, b) }
/// Element-wise maximum; NaN propagates. A Swift number adopts the tensor's dtype.
public func maximum(_ a: Variable, _ b: Double) -> Variable { elemwise(Maximum(), a, literal(b, like: a)) }
