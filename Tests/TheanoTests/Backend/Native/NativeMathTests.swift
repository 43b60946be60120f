import Foundation
import NDArray
import RealModule
import Testing

@testable import Theano

/// One transcendental of the generated C: the graph that computes it, its extended-precision
/// reference, and the largest error allowed (in units in the last place).
struct MathCase: CustomTestStringConvertible, Sendable {
    let name: String
    let build: @Sendable (Variable) -> Variable
    let reference: @Sendable (Float80) -> Float80
    let maxULP: Double
    var testDescription: String { name }
}

let mathCases: [MathCase] = [
    MathCase(name: "exp", build: { exp($0) }, reference: { Float80.exp($0) }, maxULP: 1),
    MathCase(name: "log", build: { log($0) }, reference: { Float80.log($0) }, maxULP: 1.5),
    MathCase(name: "log1p", build: { log1p($0) }, reference: { Float80.log(onePlus: $0) }, maxULP: 3),
    MathCase(name: "expm1", build: { expm1($0) }, reference: { Float80.expMinusOne($0) }, maxULP: 4),
    MathCase(name: "tanh", build: { tanh($0) }, reference: { Float80.tanh($0) }, maxULP: 4),
    MathCase(
        name: "sigmoid", build: { sigmoid($0) },
        reference: { x in
            x >= 0 ? 1 / (1 + Float80.exp(-x)) : Float80.exp(x) / (1 + Float80.exp(x))
        }, maxULP: 2.5),
    MathCase(
        name: "softplus", build: { softplus($0) },
        reference: { x in
            (x > 0 ? x : 0) + Float80.log(onePlus: Float80.exp(-Swift.abs(x)))
        }, maxULP: 3)
]

/// Inputs over the whole range: special values, random bit patterns (every exponent), and a
/// dense sweep of the region where the functions change fastest.
func mathInputs<T: BinaryFloatingPoint>(_: T.Type) -> [T] {
    var values: [T] = [
        0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
        .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1, -1, .ulpOfOne
    ]
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<60_000 {
        let v: T
        if T.self == Float.self {
            v = T(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)))
        } else {
            v = T(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng)))
        }
        if !v.isNaN { values.append(v) }
    }
    for i in 0..<40_000 { values.append(T(-100 + Double(i) * 200 / 40_000)) }
    for i in 0..<10_000 { values.append(T(-1e-3 + Double(i) * 2e-3 / 10_000)) }
    return values
}

/// Distance from `got` to the exact `want` in units of `T`'s last place at `want`.
func ulpError<T: BinaryFloatingPoint>(_ got: T, _ want: Float80) -> Double {
    if got.isNaN || want.isNaN { return got.isNaN && want.isNaN ? 0 : .infinity }
    let rounded = T(want)
    if rounded.isInfinite || got.isInfinite { return got == rounded ? 0 : .infinity }
    let ulp = Swift.max(rounded.ulp, T.leastNonzeroMagnitude)
    return Double(Swift.abs(Float80(got) - want) / Float80(ulp))
}

@Suite("Native transcendentals: accuracy against extended-precision libm")
struct NativeMathTests {
    @Test("float32", arguments: mathCases)
    func float32(_ c: MathCase) throws {
        try check(c, Float.self, .float32)
    }

    @Test("float64", arguments: mathCases)
    func float64(_ c: MathCase) throws {
        try check(c, Double.self, .float64)
    }

    private func check<T: BinaryFloatingPoint & NDElement>(_ c: MathCase, _: T.Type, _ dtype: DType) throws {
        let xs = mathInputs(T.self)
        let x = vector("x", dtype: dtype)
        let f = try function(inputs: [x], outputs: [c.build(x)])
        #expect(f.program.steps.allSatisfy { $0.kernel != nil }, "the function did not run natively")
        let got = try f(NDArray(vector: xs))[0]
        var worst = 0.0
        var at: T = 0
        for (x, y) in zip(xs, got.scalars(as: T.self)) {
            let e = ulpError(y, c.reference(Float80(x)))
            if e > worst {
                worst = e
                at = x
            }
        }
        #expect(worst <= c.maxULP, "\(c.name) \(dtype): max error \(worst) ulp at x = \(at)")
    }
}
