import NDArray
import RealModule

precedencegroup PowerPrecedence {
    higherThan: MultiplicationPrecedence
    associativity: right
}

/// Exponentiation, as Python's `**`.
infix operator ** : PowerPrecedence

/// `a ** b`: integral exponents of negative bases are exact (`(-2) ** 3 == -8`); integer
/// powers wrap on overflow and negative integer exponents give 0 unless the base is ±1.
public struct Pow: ScalarOp {
    public init() {}
    public var cost: Int { 40 }
    public var arity: Int { 2 }
    public func float<T: FloatElement>(_ a: T, _ b: T, _ c: T) -> T {
        // C99's pow, as NumPy: x ** 0 and 1 ** y are 1 even for NaN; negative bases follow the
        // exponent's parity; (-inf) ** y and x ** ±inf are limits.
        if b == 0 || a == 1 || (a == -1 && b.isInfinite) { return 1 }
        if b.isNaN { return b }
        if b.isInfinite { return T.pow(Swift.abs(a), b) }
        if b == b.rounded() {
            if Swift.abs(b) < T(1 << 30) { return T.pow(a, Int(b)) }
            let m = T.pow(Swift.abs(a), b)
            return a < 0 && b.truncatingRemainder(dividingBy: 2) != 0 ? -m : m
        }
        if a == -.infinity { return b > 0 ? .infinity : 0 }
        return T.pow(a, b)
    }
    /// With one integral exponent for every element (`x ** 2`), the exponent is read once.
    public func run(_ args: [NDArray], into out: NDArray) {
        let b = args[1]
        guard out.dtype.isFloat, b.strides.allSatisfy({ $0 == 0 }),
            let e = try? b.element(at: Array(repeating: 0, count: b.ndim)), e == e.rounded(), Swift.abs(e) <= 64
        else {
            return runElementwise(args, into: out)
        }
        let n = Int(e)
        if out.dtype == .float32 {
            Pow.fixed(Float.self, n, args[0], out)
        } else {
            Pow.fixed(Double.self, n, args[0], out)
        }
    }

    private static func fixed<T: FloatElement>(_: T.Type, _ n: Int, _ x: NDArray, _ out: NDArray) {
        switch n {
        case 1: mapElements(T.self, x, out) { $0 }
        case 2: mapElements(T.self, x, out) { $0 * $0 }
        case -1: mapElements(T.self, x, out) { 1 / $0 }
        default: mapElements(T.self, x, out) { Pow.power($0, n) }
        }
    }

    @inline(__always)
    static func power<T: FloatElement>(_ a: T, _ b: Int) -> T {
        var e = Swift.abs(b)
        var base = a
        var result: T = 1
        while e > 0 {
            if e & 1 == 1 { result *= base }
            base *= base
            e >>= 1
        }
        return b < 0 ? 1 / result : result
    }

    public func int(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        if b < 0 { return a == 1 ? 1 : (a == -1 ? (b % 2 == 0 ? 1 : -1) : 0) }
        var result: Int64 = 1
        var base = a
        var e = b
        while e > 0 {
            if e & 1 == 1 { result = result &* base }
            base = base &* base
            e >>= 1
        }
        return result
    }
    public func c(_ x: [String], _ t: CDomain) -> String {
        t.isFloat ? "pow\(t.f)(\(x[0]), \(x[1]))" : "th_ipow(\(x[0]), \(x[1]))"
    }
    public func gradient(_ x: [Variable], _ z: Variable, _ g: Variable) -> [Variable?] {
        [g * x[1] * x[0] ** (x[1] - 1), g * z * log(x[0])]
    }
}

/// `a ** b`, element-wise.
///
/// ```swift
/// let b = a + a ** 10
/// ```
public func ** (a: Variable, b: Variable) -> Variable { elemwise(Pow(), a, b) }
/// `a ** b` with a Swift number that adopts `a`'s dtype.
public func ** (a: Variable, b: Double) -> Variable { elemwise(Pow(), a, literal(b, like: a)) }
/// `a ** b` with a Swift number that adopts `b`'s dtype.
public func ** (a: Double, b: Variable) -> Variable { elemwise(Pow(), literal(a, like: b), b) }
