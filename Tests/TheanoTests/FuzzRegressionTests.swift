import NDArray
import Testing

@testable import Theano

/// Graphs the differential fuzzer (`bench/fuzz`) found failing, kept as they were found.
struct FuzzRegressionTests {
    static let modes: [Mode] = [.fastRun, .fastCompile, .debug]

    /// `C + s·dot(A, B)` where the product has one column at run time and C is a row of three:
    /// the result broadcasts both ways, which the gemm rewrite cannot prove from the types
    /// (it threw "Gemm: C … does not broadcast to the product's shape").
    @Test(arguments: modes) func gemmWhoseAccumulatorIsWiderThanTheProduct(mode: Mode) throws {
        let a = dmatrix("a")
        let b = dmatrix("b")
        let c = dmatrix("c")
        let f = try function(inputs: [a, b, c], outputs: [c + 0.5 * dot(a, b)], mode: mode)
        let got = try f.call([[[1, 2], [3, 4]], [[1], [1]], [[10, 20, 30]]])[0]
        #expect(got.shape == [2, 3])
        #expect(got.doubles == [11.5, 21.5, 31.5, 13.5, 23.5, 33.5])
        let empty = try f.call([try NDArray.zeros([0, 2], dtype: .float64), [[1], [1]], [[1, 2, 3]]])[0]
        #expect(empty.shape == [0, 3])
    }

    /// The same for `y + s·dot(A, x)` (gemv: one row, y of two) and `A − outer(x, y)` (ger).
    @Test(arguments: modes) func gemvAndGerWhoseAccumulatorIsLonger(mode: Mode) throws {
        let a = dmatrix("a")
        let x = dvector("x")
        let y = dvector("y")
        let gv = try function(inputs: [a, x, y], outputs: [y + 2 * dot(a, x)], mode: mode)
        #expect(try gv.call([[[1, 2]], [1, 1], [10, 20]])[0].doubles == [16, 26])
        let m = dmatrix("m")
        let u = dvector("u")
        let v = dvector("v")
        let gr = try function(inputs: [m, u, v], outputs: [m - outer(u, v)], mode: mode)
        let r = try gr.call([[[10, 20, 30]], [2], [1]])[0]
        #expect(r.shape == [1, 3] && r.doubles == [8, 18, 28])
    }

    /// Flatten of an empty array: its merged length is 0, which `-1` cannot express.
    @Test(arguments: modes) func flattenOfEmptyArrays(mode: Mode) throws {
        let x = dtensor3("x")
        let f = try function(inputs: [x], outputs: [x.flatten(2)], mode: mode)
        #expect(try f.call([try NDArray.zeros([0, 2, 3], dtype: .float64)])[0].shape == [0, 6])
        #expect(try f.call([try NDArray.zeros([3, 0, 2], dtype: .float64)])[0].shape == [3, 0])
    }

    /// A float64 result computed from a float32 `exp`: DEBUG compared the native kernel and the
    /// unoptimized graph at float64 tolerance, though both carry float32 rounding.
    @Test func debugComparesFloat32RoundingAtFloat32Tolerance() throws {
        let x = fvector("x")
        let s = dscalar("s")
        let f = try function(inputs: [x, s], outputs: [s / exp(x)], mode: .debug)
        let xs: [Float] = [-0.21497077, -1.4919908, -1.0206193, 0.7674319]
        let got = try f.call([try NDArray(xs, shape: [4]), -0.8514010934713745])[0].doubles
        #expect(Swift.abs(got[3] - -0.39522347747777953) < 1e-6)
    }
}

extension FuzzRegressionTests {
    /// `setSubtensor(x[-2][idx], v)`, indexed in two steps, sets into the row `x[-2]` and returns
    /// it (as Theano and NumPy); `x[1..<3, idx]` in one step still returns the whole `x`.
    @Test(arguments: modes) func setThroughTwoIndexingSteps(mode: Mode) throws {
        let x = dmatrix("x")
        let i = lvector("i")
        let v = dvector("v")
        let row = try function(inputs: [x, i, v], outputs: [setSubtensor(x[-2][i], v)], mode: mode)
        let r = try row.call([[[1, 2, 3], [4, 5, 6]], [0, 2], [9, 8]])[0]
        #expect(r.shape == [3] && r.doubles == [9, 2, 8])
        let whole = try function(inputs: [x, i, v], outputs: [setSubtensor(x[0..<1, i], v)], mode: mode)
        let w = try whole.call([[[1, 2, 3], [4, 5, 6]], [0, 2], [9, 8]])[0]
        #expect(w.shape == [2, 3] && w.doubles == [9, 2, 8, 4, 5, 6])
    }
}

extension FuzzRegressionTests {
    /// The gradients through Gemm, Gemv and Ger when the accumulator is longer than the product:
    /// `grad` differentiates the stabilized graph, where these ops already stand, and their
    /// pullbacks gave the products the output's gradient unsummed (d/dB of sum(C + x·B) with
    /// C (3, 3) and x·B (3, 1) came out (2, 3)).
    @Test func gradientsThroughBroadcastingBLASUpdates() throws {
        let x = GradTests.rand([3, 2], seed: 1)
        let B = GradTests.rand([2, 1], seed: 2)
        let C = GradTests.rand([3, 3], seed: 3)
        try verifyGrad({ v in v[2] + 0.5 * dot(v[0], v[1]) }, at: [x, B, C])
        let W = dmatrix("W")
        let Bv = dmatrix("B")
        let Cv = dmatrix("C")
        let g = try grad(sum(Cv + dot(W, Bv)), wrt: Bv)
        let r = try function(inputs: [W, Bv, Cv], outputs: [g]).call([
            [[1, 2], [3, 4], [5, 6]], [[1], [2]],
            [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
        ])[0]
        #expect(r.shape == [2, 1] && r.doubles == [27, 36])
        let A = GradTests.rand([1, 2], seed: 4)
        let xv = GradTests.rand([2], seed: 5)
        let y = GradTests.rand([2], seed: 6)
        try verifyGrad({ v in v[2] + 2 * dot(v[0], v[1]) }, at: [A, xv, y])
        let m = GradTests.rand([1, 3], seed: 7)
        let u = GradTests.rand([1], seed: 8)
        let w = GradTests.rand([1], seed: 9)
        try verifyGrad({ v in v[0] - outer(v[1], v[2]) }, at: [m, u, w])
    }
}
