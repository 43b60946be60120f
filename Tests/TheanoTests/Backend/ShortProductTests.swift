import Foundation
import NDArray
import Testing

@testable import Theano

/// The short-product kernels (`Sources/CKernels/short_body.h`): few rows (a minibatch's forward
/// product) and a short inner size (a weight update), every instruction set this CPU has,
/// against a float64 loop. Operands are small integers, so every product and partial sum is
/// exact in float32 and the results must match exactly.
struct ShortProductTests {
    /// (m, n, k): split across cores and not, a short last tile of rows (7, 300 and 1003 rows are
    /// not multiples of 10 or 6), a last block of columns that overlaps the one before (230, 257,
    /// 290, 500 columns).
    static let shapes: [(Int, Int, Int)] = [
        (20, 500, 784), (7, 230, 300), (64, 256, 1000),  // few rows
        (784, 500, 20), (300, 257, 5), (1003, 290, 64)  // short inner size
    ]

    @Test(arguments: shapes)
    func matchesAFloat64Loop(_ shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        #expect(ShortProduct.kind(m: m, n: n, k: k) != nil, "\(shape) must qualify")
        var g = SplitMix64(seed: UInt64(m * n + k))
        let av = NarrowProductTests.integers(m * k, &g)
        let bv = NarrowProductTests.integers(k * n, &g)
        let cv = NarrowProductTests.integers(m * n, &g)
        let want = NarrowProductTests.reference(
            m: m, n: n, k: k, a: { av[$0 * k + $1] }, b: bv, c: cv, alpha: 2, beta: -0.5)
        let wantNoC = NarrowProductTests.reference(
            m: m, n: n, k: k, a: { av[$0 * k + $1] }, b: bv, c: cv, alpha: -1, beta: 0)
        for dtype in [DType.float32, .float64] {
            // A by rows (`x · W`) and stored transposed (`xᵀ · g`, the weight gradient).
            let a = try NDArray(av, shape: [m, k]).cast(to: dtype)
            let aTransposed = try NDArray(av, shape: [m, k]).transposed().contiguous(forceCopy: true).transposed().cast(
                to: dtype)
            let b = try NDArray(bv, shape: [k, n]).cast(to: dtype)
            for level in 0...NarrowProduct.level {
                for (x, layout) in [(a, "rows"), (aTransposed, "transposed")] {
                    let out = try NDArray(cv, shape: [m, n]).cast(to: dtype).contiguous(forceCopy: true)
                    #expect(ShortProduct.run(x, b, into: out, alpha: 2, beta: -0.5, dtype: dtype, level: level))
                    let same = out.doubles == want
                    #expect(same, "\(dtype) \(m)×\(n)×\(k) \(layout) level \(level)")
                    // beta 0: C is not read (NaN there must not leak into the result).
                    let fresh = try NDArray([Double](repeating: .nan, count: m * n), shape: [m, n]).cast(to: dtype)
                    #expect(ShortProduct.run(x, b, into: fresh, alpha: -1, beta: 0, dtype: dtype, level: level))
                    let sameNoC = fresh.doubles == wantNoC
                    #expect(sameNoC, "\(dtype) \(m)×\(n)×\(k) \(layout) level \(level), beta 0")
                }
            }
        }
    }

    /// Products left to BLAS: a single row (a matrix-vector product), few columns, small
    /// products, B strided along its rows, an output that overlaps an operand, mixed dtypes.
    @Test func otherProductsAreLeftToBLAS() throws {
        func declined(_ m: Int, _ n: Int, _ k: Int, stridedB: Bool = false, dtype: DType = .float32) throws -> Bool {
            let a = try NDArray.zeros([m, k], dtype: dtype)
            let b =
                stridedB
                ? try NDArray.zeros([k, 2 * n], dtype: .float32).sliced([.all, .range(start: nil, stop: nil, step: 2)])
                : try NDArray.zeros([k, n], dtype: .float32)
            return !ShortProduct.run(
                a, b, into: try NDArray.zeros([m, n], dtype: .float32), alpha: 1, beta: 0, dtype: .float32)
        }
        #expect(try declined(1, 500, 784))
        #expect(try declined(20, 100, 784))
        #expect(try declined(20, 576, 25))
        #expect(try declined(100, 100, 20))
        #expect(try declined(200, 500, 20))
        #expect(try declined(20, 500, 784, stridedB: true))
        #expect(try declined(20, 500, 784, dtype: .float64))
        #expect(try !declined(20, 500, 784))
        #expect(try !declined(784, 500, 20))
        // C over the memory of B: BLAS's contract (no overlap) is not ours to break.
        let storage = try NDArray.zeros([800, 500], dtype: .float32)
        let b = try storage.sliced([.range(start: 0, stop: 784, step: 1), .all])
        let c = try storage.sliced([.range(start: 780, stop: 800, step: 1), .all])
        #expect(
            !ShortProduct.run(
                try NDArray.zeros([20, 784], dtype: .float32), b, into: c, alpha: 1, beta: 0, dtype: .float32))
    }

    /// A forward product split along k and the update split along rows take the same rows of W
    /// on the same part.
    @Test func forwardAndUpdateBlocksAgree() {
        for (length, parts) in [(784, 2), (784, 3), (500, 4), (1000, 7)] {
            let blocks = (0..<parts).map { ShortProduct.block($0, of: length, parts: parts) }
            #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == length, "\(length) in \(parts)")
            #expect(
                zip(blocks, blocks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "\(length) in \(parts)")
            #expect(blocks.dropLast().allSatisfy { $0.upperBound % 8 == 0 }, "edges on multiples of 8")
        }
    }

    /// A tanh layer trained by SGD with an L2 penalty — `W ← (1 − 2λη)·W − η·xᵀ·δ`, the update
    /// the MLP tutorial's hidden layer runs — against the same three steps by hand in float64.
    @Test func tanhLayerStepsMatchHandWrittenSteps() throws {
        let (m, k, n) = (20, 300, 256)
        #expect(ShortProduct.kind(m: m, n: n, k: k) == .fewRows)
        #expect(ShortProduct.kind(m: k, n: n, k: m) == .shortInner)
        var g = SplitMix64(seed: 5)
        let xs = (0..<(m * k)).map { _ in g.unit() }
        let w0 = (0..<(k * n)).map { _ in (g.unit() - 0.5) * 0.1 }
        let W = shared(try NDArray(w0, shape: [k, n]).cast(to: .float32), name: "W")
        let x = matrix("x")
        let h = tanh(dot(x, W))
        let cost = sum(h * h) / Double(m) + 1e-3 * sum(W * W)
        let step = try function(inputs: [x], outputs: [cost], updates: [W: W - 0.05 * (try grad(cost, wrt: W))])
        let xv = try NDArray(xs, shape: [m, k]).cast(to: .float32)
        let x32 = xv.doubles
        var w = try NDArray(w0, shape: [k, n]).cast(to: .float32).doubles
        for _ in 0..<3 {
            _ = try step(xv)
            var delta = [Double](repeating: 0, count: m * n)
            for i in 0..<m {
                var z = [Double](repeating: 0, count: n)
                for p in 0..<k {
                    let v = x32[i * k + p]
                    for j in 0..<n { z[j] += v * w[p * n + j] }
                }
                for j in 0..<n {
                    let y = Foundation.tanh(z[j])
                    delta[i * n + j] = 2 * y / Double(m) * (1 - y * y)
                }
            }
            var next = w.map { $0 * (1 - 2 * 1e-3 * 0.05) }
            for i in 0..<m {
                for p in 0..<k {
                    let v = 0.05 * x32[i * k + p]
                    for j in 0..<n { next[p * n + j] -= v * delta[i * n + j] }
                }
            }
            w = next
        }
        let got = W.value.doubles
        let worst = zip(got, w).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5, "largest difference \(worst)")
        #expect(zip(got, w0).contains { abs($0 - $1) > 1e-4 }, "the steps changed W")
    }
}
