import NDArray
import RealModule

/// Element-wise minimum; NaN propagates. Ties split the gradient evenly.
public struct Minimum: ScalarOp {
    public init() {}
    public var isCommutative: Bool { true }
    public var arity: Int { 2 }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a.isNaN || b.isNaN ? .nan : (a < b ? a : b) }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { min(a, b) }
    public func c(_ x: [String], _ t: CDomain) -> String {
        t.isFloat ? "th_min\(t.f)(\(x[0]), \(x[1]))" : "(\(x[0]) < \(x[1]) ? \(x[0]) : \(x[1]))"
    }
    /// Each input gets `g` where it alone is the smaller and half of it where the two tie (as JAX
    /// and PyTorch split it), so d/dx minimum(x, x) is 1, not 2.
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] {
        let tie = 0.5 * cast(eq(x[0], x[1]), g.dtype)
        return [g * (cast(lt(x[0], x[1]), g.dtype) + tie), g * (cast(gt(x[0], x[1]), g.dtype) + tie)]
    }
}

/// Element-wise minimum; NaN propagates.
public func minimum(_ a: Variable, _ b: Variable) -> Variable { elemwise(Minimum(), a, b) }
/// Element-wise minimum; NaN propagates. A Swift number adopts the tensor's dtype.
public func minimum(_ a: Variable, _ b: Double) -> Variable { elemwise(Minimum(), a, literal(b, like: a)) }
