import NDArray
import RealModule

/// Sign: -1, 0 or 1 (NaN stays NaN).
public struct Sign: ScalarOp {
    public init() {}
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T { a.isNaN ? a : (a > 0 ? 1 : (a < 0 ? -1 : 0)) }
    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 { a > 0 ? 1 : (a < 0 ? -1 : 0) }
    public func c(_ x: [String], _ t: CDomain) -> String {
        t.isFloat ? "th_sign\(t.f)(\(x[0]))" : "(int64_t)((\(x[0]) > 0) - (\(x[0]) < 0))"
    }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] { [nil] }
}

/// Sign: -1, 0 or 1 (NaN stays NaN).
public func sign(_ x: Variable) -> Variable { elemwise(Sign(), x) }
