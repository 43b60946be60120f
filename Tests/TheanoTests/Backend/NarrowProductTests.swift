import Foundation
import NDArray
import Testing

@testable import Theano

/// The narrow-product kernels (`Sources/CKernels`): every layout they take, on every instruction
/// set this CPU has, against a float64 loop. Operands are small integers, so every product and
/// sum is exact in float32 and the results must match exactly.
struct NarrowProductTests {
    /// (rows, narrow columns, inner size): single-threaded and split across cores, column counts
    /// hitting whole groups (5, 10, 15) and partial ones (3, 13), and sizes that leave tails of
    /// rows and of k.
    static let shapes: [(Int, Int, Int)] = [
        (300, 3, 500), (300, 5, 437), (600, 10, 784), (517, 13, 301), (257, 15, 521)
    ]

    static func integers(_ count: Int, _ g: inout SplitMix64) -> [Double] {
        (0..<count).map { _ in (g.unit() * 8).rounded() - 4 }
    }

    /// `alpha · A·B + beta · C` in float64, A given by an element function.
    static func reference(
        m: Int, n: Int, k: Int, a: (Int, Int) -> Double, b: [Double], c: [Double], alpha: Double, beta: Double
    ) -> [Double] {
        var out = c.map { beta * $0 }
        for i in 0..<m {
            for p in 0..<k {
                let x = alpha * a(i, p)
                for j in 0..<n { out[i * n + j] += x * b[p * n + j] }
            }
        }
        return out
    }

    @Test(arguments: shapes)
    func wideOperandByRowsOrColumns(_ shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        var g = SplitMix64(seed: UInt64(m * n + k))
        let av = Self.integers(m * k, &g)
        let bv = Self.integers(k * n, &g)
        let cv = Self.integers(m * n, &g)
        let want = Self.reference(m: m, n: n, k: k, a: { av[$0 * k + $1] }, b: bv, c: cv, alpha: 2, beta: -0.5)
        let wantNoC = Self.reference(m: m, n: n, k: k, a: { av[$0 * k + $1] }, b: bv, c: cv, alpha: 1, beta: 0)
        for dtype in [DType.float32, .float64] {
            let a = try NDArray(av, shape: [m, k]).cast(to: dtype)
            let aColumns = try NDArray(av, shape: [m, k]).transposed().contiguous(forceCopy: true).transposed().cast(
                to: dtype)
            let b = try NDArray(bv, shape: [k, n]).cast(to: dtype)
            let bTransposed = try NDArray(bv, shape: [k, n]).transposed().contiguous(forceCopy: true).transposed().cast(
                to: dtype)
            for level in 0...NarrowProduct.level {
                for (x, y, layout) in [(a, b, "rows"), (aColumns, bTransposed, "columns")] {
                    let out = try NDArray(cv, shape: [m, n]).cast(to: dtype).contiguous(forceCopy: true)
                    #expect(NarrowProduct.run(x, y, into: out, alpha: 2, beta: -0.5, dtype: dtype, level: level))
                    let same = out.doubles == want
                    #expect(same, "\(dtype) \(m)×\(n)×\(k) \(layout) level \(level)")
                    // beta 0: C is not read (NaN there must not leak into the result).
                    let fresh = try NDArray([Double](repeating: .nan, count: m * n), shape: [m, n]).cast(to: dtype)
                    #expect(NarrowProduct.run(x, y, into: fresh, alpha: 1, beta: 0, dtype: dtype, level: level))
                    let sameNoC = fresh.doubles == wantNoC
                    #expect(sameNoC, "\(dtype) \(m)×\(n)×\(k) \(layout) level \(level), beta 0")
                }
            }
        }
    }

    /// A narrow left operand: `g.T · x`-style products run as the transposed problem.
    @Test func narrowLeftOperandRunsTransposed() throws {
        let (m, n, k) = (10, 400, 600)
        var g = SplitMix64(seed: 9)
        let av = Self.integers(m * k, &g)
        let bv = Self.integers(k * n, &g)
        let want = Self.reference(
            m: m, n: n, k: k, a: { av[$0 * k + $1] }, b: bv, c: [Double](repeating: 0, count: m * n), alpha: 1, beta: 0)
        for dtype in [DType.float32, .float64] {
            let a = try NDArray(av, shape: [m, k]).cast(to: dtype)
            let b = try NDArray(bv, shape: [k, n]).cast(to: dtype)
            let out = try NDArray.zeros([m, n], dtype: dtype)
            #expect(NarrowProduct.run(a, b, into: out, alpha: 1, beta: 0, dtype: dtype))
            let same = out.doubles == want
            #expect(same, "\(dtype)")
            // Through a compiled `dot`, with the operand handed in transposed.
            let x = matrix("x", dtype: dtype)
            let y = matrix("y", dtype: dtype)
            let f = try function(inputs: [x, y], outputs: [dot(x.T, y)])
            let got = try f(a.transposed().contiguous(forceCopy: true), b)[0]
            let sameCompiled = got.doubles == want
            #expect(sameCompiled, "\(dtype) compiled")
        }
    }

    /// Products the kernels leave to BLAS: 8 and 16 columns (OpenBLAS's own fast widths), small
    /// ones, a wide operand strided both ways, and a mixed dtype.
    @Test func otherProductsAreLeftToBLAS() throws {
        func declined(_ m: Int, _ n: Int, _ k: Int, strided: Bool = false, dtype: DType = .float32) throws -> Bool {
            let a =
                strided
                ? try NDArray.zeros([m, 2 * k], dtype: dtype).sliced([.all, .range(start: nil, stop: nil, step: 2)])
                : try NDArray.zeros([m, k], dtype: dtype)
            let b = try NDArray.zeros([k, n], dtype: .float32)
            return !NarrowProduct.run(
                a, b, into: try NDArray.zeros([m, n], dtype: .float32), alpha: 1, beta: 0, dtype: .float32)
        }
        #expect(try declined(600, 8, 784))
        #expect(try declined(600, 16, 784))
        #expect(try declined(600, 2, 784))
        #expect(try declined(60, 10, 784))
        #expect(try declined(600, 10, 32))
        #expect(try declined(600, 10, 784, strided: true))
        #expect(try declined(600, 10, 784, dtype: .float64))
        #expect(try !declined(600, 10, 784))
    }

    /// The logistic-regression step end to end (forward product, its gradient, W updated in
    /// place by a gemm) against the same three SGD steps in float64 by hand.
    @Test func trainingStepMatchesAHandWrittenStep() throws {
        let (m, k, n) = (600, 300, 10)
        var g = SplitMix64(seed: 21)
        let xs = (0..<(m * k)).map { _ in g.unit() - 0.5 }
        let ys = (0..<m).map { _ in Int(g.unit() * 10) % 10 }
        let W = shared(try NDArray.zeros([k, n], dtype: .float32), name: "W")
        let x = matrix("x")
        let y = ivector("y")
        let cost = -mean(log(softmax(dot(x, W)))[arange(y.shape[0]), y])
        let step = try function(inputs: [x, y], outputs: [cost], updates: [W: W - 0.5 * (try grad(cost, wrt: W))])
        let xv = try NDArray(xs, shape: [m, k]).cast(to: .float32)
        let yv = try NDArray(ys.map(Double.init), shape: [m]).cast(to: .int32)
        var w = [Double](repeating: 0, count: k * n)
        let x32 = xv.doubles
        for _ in 0..<3 {
            _ = try step(xv, yv)
            var d = [Double](repeating: 0, count: m * n)
            for i in 0..<m {
                var z = [Double](repeating: 0, count: n)
                for p in 0..<k {
                    let v = x32[i * k + p]
                    for j in 0..<n { z[j] += v * w[p * n + j] }
                }
                let top = z.max() ?? 0
                let e = z.map { Foundation.exp($0 - top) }
                let sum = e.reduce(0, +)
                for j in 0..<n { d[i * n + j] = (e[j] / sum - (j == ys[i] ? 1 : 0)) / Double(m) }
            }
            for i in 0..<m {
                for p in 0..<k {
                    let v = 0.5 * x32[i * k + p]
                    for j in 0..<n { w[p * n + j] -= v * d[i * n + j] }
                }
            }
        }
        let got = W.value.doubles
        #expect(w.contains { $0 != 0 })
        let worst = zip(got, w).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5, "largest difference \(worst)")
    }
}
