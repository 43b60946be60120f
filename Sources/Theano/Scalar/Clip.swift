import NDArray
import RealModule

/// `clip(x, lo, hi)` = `minimum(maximum(x, lo), hi)`, as NumPy's `clip`.
public struct Clip: ScalarOp {
    public init() {}
    public var arity: Int { 3 }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T {
        if a.isNaN { return a }
        let lo = a < b ? b : a
        return lo > c ? c : lo
    }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { min(max(a, b), c) }
    public func c(_ x: [String], _ t: CDomain) -> String {
        t.isFloat ? "th_clip\(t.f)(\(x[0]), \(x[1]), \(x[2]))" : "th_iclip(\(x[0]), \(x[1]), \(x[2]))"
    }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] {
        [
            g * cast(ge(x[0], x[1]) && le(x[0], x[2]), g.dtype), g * cast(lt(x[0], x[1]), g.dtype),
            g * cast(gt(x[0], x[2]), g.dtype)
        ]
    }
}

/// Limits each element to `[lo, hi]`.
///
/// ```swift
/// let safe = clip(p, 1e-7, 1 - 1e-7)
/// ```
public func clip(_ x: Variable, _ lo: Variable, _ hi: Variable) -> Variable { elemwise(Clip(), x, lo, hi) }
/// Limits each element to `[lo, hi]` (numbers adopt `x`'s dtype).
public func clip(_ x: Variable, _ lo: Double, _ hi: Double) -> Variable {
    elemwise(Clip(), x, literal(lo, like: x), literal(hi, like: x))
}
