import Foundation
import NDArray
import Testing
import TheanoTestSupport

@testable import Theano

/// docs/SCAN.md's examples (Theano's scan documentation in Swift), each against a plain loop.
@Suite struct ScanExampleTests {
    @Test("A**k by repeated multiplication, with an Int and a symbolic number of steps")
    func powerByRepeatedMultiplication() throws {
        let A = dvector("A")
        let k = lscalar("k")
        let (out, updates) = try scan({ v in [v[0] * v[1]] }, outputsInfo: [onesLike(A)], nonSequences: [A], nSteps: k)
        #expect(updates.isEmpty)
        let f = try function(inputs: [A, k], outputs: [out[0][-1]])
        let a: [Double] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        let got = try f(try NDArray(a), 2)[0].doubles
        #expect(got == a.map { $0 * $0 })
        // DEBUG mode checks the loop as any node (inputs intact, the unoptimized graph agrees).
        let checked = try function(inputs: [A, k], outputs: [out[0][-1]], mode: .debug)
        #expect(try checked(try NDArray(a), 3)[0].doubles == a.map { $0 * $0 * $0 })
        let (fixed, _) = try scan({ v in [v[0] * v[1]] }, outputsInfo: [onesLike(A)], nonSequences: [A], nSteps: 4)
        let g = try function(inputs: [A], outputs: [fixed[0]])
        let all = try g(try NDArray(a))[0]
        #expect(all.shape == [4, 10])
        #expect(try all.sliced([.at(3)]).doubles == a.map { $0 * $0 * $0 * $0 })
    }

    @Test("a polynomial from its coefficients: outputs not fed back, two sequences, a non-sequence")
    func polynomialFromCoefficients() throws {
        let coefficients = dvector("coefficients")
        let x = dscalar("x")
        let (components, _) = try scan(
            { v in [v[0] * (v[2] ** cast(v[1], .float64))] },
            sequences: [coefficients, arange(10)], outputsInfo: [nil], nonSequences: [x])
        let f = try function(inputs: [coefficients, x], outputs: [sum(components[0])])
        let c: [Double] = [1, 0, 2]
        let want = c.enumerated().reduce(0.0) { $0 + $1.element * Foundation.pow(3, Double($1.offset)) }
        #expect(try f(try NDArray(c), 3.0)[0].item() == want)  // 19: the shorter sequence sets the length
    }

    @Test("the sum of a sequence, forwards and backwards")
    func sumOfASequence() throws {
        let x = dvector("x")
        let zero = Constant(NDArray(scalar: 0, dtype: .float64))
        let (forward, _) = try scan({ v in [v[0] + v[1]] }, sequences: [x], outputsInfo: [zero])
        let (backward, _) = try scan({ v in [v[0] + v[1]] }, sequences: [x], outputsInfo: [zero], goBackwards: true)
        let f = try function(inputs: [x], outputs: [forward[0], backward[0]])
        let values: [Double] = [1, 2, 3, 4]
        let r = try f(try NDArray(values))
        #expect(r[0].doubles == [1, 3, 6, 10])
        #expect(r[1].doubles == [4, 7, 9, 10])
    }

    @Test("a Fibonacci-like recurrence with taps −2 and −1")
    func fibonacciWithTwoTaps() throws {
        let start = lvector("start")
        let (out, _) = try scan(
            { v in [v[0] + v[1]] }, outputsInfo: [InitialTaps(initial: start, taps: [-2, -1])], nSteps: 8)
        let f = try function(inputs: [start], outputs: [out[0]])
        let got = try f(try NDArray([0, 1] as [Int64]))[0].doubles
        var (a, b) = (0.0, 1.0)
        let want = (0..<8).map { _ -> Double in
            (a, b) = (b, a + b)
            return b
        }
        #expect(got == want)  // 1 2 3 5 8 13 21 34
    }

    @Test("debugprint shows a loop's step graph and a branch's two graphs after the graph")
    func debugprintShowsInnerGraphs() throws {
        let x = dvector("x")
        let (out, _) = try scan({ v in [tanh(v[0]) * 2] }, outputsInfo: [x], nSteps: 3)
        let text = debugprint(ifelse(gt(sum(x), 0), out[0][-1], x * 3))
        #expect(text.contains("Inner graph of Scan{1 recurrent, 0 other} [id") && text.contains("(step):"), "\(text)")
        #expect(text.contains("(then):") && text.contains("(else):"), "\(text)")
        let step = try #require(text.components(separatedBy: "(step):").last)
        #expect(step.contains("Tanh") || step.contains("tanh"), "\(text)")
    }

    @Test("a while loop: doubling until the value exceeds 100, at most 20 steps")
    func whileLoopStopsOnItsCondition() throws {
        let x = dscalar("x")
        let (out, _) = try scan({ v in [v[0] * 2, until(gt(v[0] * 2, 100))] }, outputsInfo: [x], nSteps: 20)
        let f = try function(inputs: [x], outputs: [out[0]])
        #expect(try f(3.0)[0].doubles == [6, 12, 24, 48, 96, 192])
        #expect(try f(1e6)[0].doubles == [2e6])
    }
}

/// Back-propagation through time, checked against finite differences and closed forms.
@Suite struct ScanGradientTests {
    static func rnn(_ v: [Variable]) throws -> Variable {
        // v: x (steps × 3), W (3 × 4), U (4 × 4), b (4), h0 (4)
        let (hs, _) = try scan(
            { s in [tanh(dot(s[0], s[2]) + dot(s[1], s[3]) + s[4])] }, sequences: [v[0]], outputsInfo: [v[4]],
            nonSequences: [v[1], v[2], v[3]])
        return hs[0]
    }

    @Test("an RNN's gradients reach its inputs, weights and initial state")
    func rnnGradients() throws {
        var rng = SplitMix64(seed: 5)
        let shapes = [[5, 3], [3, 4], [4, 4], [4], [4]]
        let points = try shapes.map { try NDArray.uniform($0, in: -0.8...0.8, dtype: .float64, using: &rng) }
        let report = try verifyGrad({ v in (try? Self.rnn(v)) ?? v[0] }, at: points)
        #expect(report.passed, "\(report)")
    }

    @Test("weights used inside the step without passing them (captured) get gradients too")
    func capturedWeights() throws {
        var rng = SplitMix64(seed: 6)
        let points = try [[4, 2], [2, 2]].map { try NDArray.uniform($0, in: -1...1, dtype: .float64, using: &rng) }
        let report = try verifyGrad(
            { v in
                let h0 = zerosLike(v[0][0])
                return (try? scan({ s in [sin(s[0] + dot(s[1], v[1]))] }, sequences: [v[0]], outputsInfo: [h0]).0[0])
                    ?? v[0]
            }, at: points)
        #expect(report.passed, "\(report)")
    }

    @Test("taps on sequences and outputs, and outputs not fed back")
    func tapsAndPlainOutputs() throws {
        var rng = SplitMix64(seed: 7)
        let points = try [[6, 2], [2, 2]].map { try NDArray.uniform($0, in: -1...1, dtype: .float64, using: &rng) }
        let report = try verifyGrad(
            { v in
                let start = v[1]  // two rows: steps −2 and −1
                let result = try? scan(
                    { s in [tanh(s[0] * s[1] + s[2] - 0.5 * s[3]), s[0] * s[3]] },
                    sequences: [SequenceTaps(v[0], taps: [-1, 1])],
                    outputsInfo: [InitialTaps(initial: start, taps: [-2, -1]), nil])
                guard let out = result?.0 else { return v[0] }
                return out[0] * 2 + out[1]
            }, at: points)
        #expect(report.passed, "\(report)")
    }

    @Test("a while loop's gradient follows the steps it ran")
    func whileLoopGradient() throws {
        let report = try verifyGrad(
            { v in
                (try? scan({ s in [s[0] * 1.5, until(gt(s[0] * 1.5, 10))] }, outputsInfo: [v[0]], nSteps: 30).0[0])
                    ?? v[0]
            }, at: [NDArray(scalar: 1.3, dtype: .float64)])
        #expect(report.passed, "\(report)")
    }

    @Test("truncateGradient stops back-propagation after that many steps")
    func truncatedGradient() throws {
        // h_t = 0.5 h_{t−1} + x_t, cost = h_3: ∂cost/∂x_t = 0.5^(3−t).
        let x = dvector("x")
        let h0 = dscalar("h0")
        for (truncate, want) in [(-1, [0.125, 0.25, 0.5, 1]), (2, [0, 0, 0.5, 1])] {
            let (hs, _) = try scan(
                { s in [s[1] * 0.5 + s[0]] }, sequences: [x], outputsInfo: [h0], truncateGradient: truncate)
            let (gx, gh) = try grad(hs[0][-1], wrt: x, h0)
            let f = try function(inputs: [x, h0], outputs: [gx, gh])
            let r = try f(try NDArray([1, 2, 3, 4] as [Double]), 0.0)
            #expect(r[0].doubles == want, "truncate \(truncate)")
            #expect(try r[1].item() == (truncate < 0 ? 0.0625 : 0))
        }
    }

    @Test("jacobian and hessian of vectors whose length is known only at run time, through scan")
    func jacobianAndHessianOfAnyLength() throws {
        let x = dvector("x")
        let W = dmatrix("W")
        let J = try jacobian(tanh(dot(W, x)), wrt: x)
        let H = try hessian(sum(x ** 3) + x[0] * x[1], wrt: x)
        let f = try function(inputs: [W, x], outputs: [J, H])
        let wv = try NDArray([0.1, -0.2, 0.3, 0.4, 0.5, -0.6] as [Double], shape: [2, 3])
        let xv: [Double] = [1, 2, 3]
        let r = try f(wv, try NDArray(xv))
        #expect(r[0].shape == [2, 3] && r[1].shape == [3, 3])
        let w = wv.doubles
        var want: [Double] = []
        for i in 0..<2 {
            let z = (0..<3).reduce(0.0) { $0 + w[3 * i + $1] * xv[$1] }
            want += (0..<3).map { (1 - Foundation.tanh(z) * Foundation.tanh(z)) * w[3 * i + $0] }
        }
        #expect(zip(r[0].doubles, want).allSatisfy { abs($0 - $1) < 1e-12 }, "\(r[0])")
        #expect(r[1].doubles == [6, 1, 0, 1, 12, 0, 0, 0, 18])
    }

    @Test("random draws in the step draw anew each step and each call, from the stream's own numbers")
    func randomDrawsInTheStep() throws {
        let srng = RandomStreams(seed: 77)
        let x = dvector("x")
        let (out, updates) = try scan(
            { v in [v[0] + srng.uniform([3], dtype: .float64)] }, outputsInfo: [x], nSteps: 4)
        #expect(updates.count == 1)
        let f = try function(inputs: [x], outputs: [out[0]])
        let zero = try NDArray([0, 0, 0] as [Double])
        let first = try f(zero)[0]
        let second = try f(zero)[0]
        #expect(first.shape == [4, 3])
        let rows: [[Double]] = try (0..<4).map { (i: Int) throws -> [Double] in try first.sliced([.at(i)]).doubles }
        #expect(Set(rows).count == 4)
        #expect(first.doubles != second.doubles)  // the state advanced: new numbers per call
        // Step 0 draws what the same stream draws outside a loop.
        let reference = try function(inputs: [], outputs: [RandomStreams(seed: 77).uniform([3], dtype: .float64)])
        #expect(try first.sliced([.at(0)]).doubles == reference()[0].doubles)
        // A draw whose probability depends on the step (a Gibbs chain's shape).
        let p = dvector("p")
        let (chain, _) = try scan(
            { v in [srng.binomial([4], p: sigmoid(v[0] * 0 + v[1]), dtype: .float64)] }, outputsInfo: [zerosLike(p)],
            nonSequences: [p], nSteps: 50)
        let g = try function(inputs: [p], outputs: [mean(chain[0])])
        #expect(abs(try g(try NDArray([0, 0, 0, 0] as [Double]))[0].item() - 0.5) < 0.15)
    }

    @Test("Lop and Rop through a loop match the Jacobian built row by row")
    func lopAndRopThroughALoop() throws {
        let x = dvector("x")
        let W = dmatrix("W")
        let (hs, _) = try scan({ s in [tanh(dot(W, s[0]))] }, outputsInfo: [x], nSteps: 3)
        let y = hs[0][-1]
        let u = dvector("u")
        let v = dvector("v")
        let lop = try Lop(y, wrt: [x], u)[0]
        let rop = try Rop(y, wrt: [x], [v])
        let J = try jacobian(y, wrt: x)
        let f = try function(inputs: [x, W, u, v], outputs: [lop, rop, J])
        let wv = try NDArray([0.5, -0.3, 0.2, 0.8] as [Double], shape: [2, 2])
        let (uv, vv): ([Double], [Double]) = ([0.7, -1.1], [0.3, 0.9])
        let r = try f(try NDArray([0.1, -0.4] as [Double]), wv, try NDArray(uv), try NDArray(vv))
        let j = r[2].doubles  // 2 × 2, row-major
        let wantLop = [uv[0] * j[0] + uv[1] * j[2], uv[0] * j[1] + uv[1] * j[3]]
        let wantRop = [j[0] * vv[0] + j[1] * vv[1], j[2] * vv[0] + j[3] * vv[1]]
        #expect(zip(r[0].doubles, wantLop).allSatisfy { abs($0 - $1) < 1e-12 }, "\(r[0]) \(wantLop)")
        #expect(zip(r[1].doubles, wantRop).allSatisfy { abs($0 - $1) < 1e-12 }, "\(r[1]) \(wantRop)")
    }

    @Test("a bad step is a clear error: mismatched dtypes, a short sequence")
    func badScansAreErrors() throws {
        let x = fvector("x")
        let h = dscalar("h")
        let (out, _) = try scan({ v in [cast(v[0], .float32)] }, outputsInfo: [h], nSteps: 3)
        let e = #expect(throws: TheanoError.self) { _ = try function(inputs: [h], outputs: [out[0]]) }
        #expect(e?.description.contains("initial value") == true, "\(String(describing: e))")
        let (ys, _) = try scan({ v in [v[0] * 2] }, sequences: [x], outputsInfo: [nil], nSteps: 5)
        let f = try function(inputs: [x], outputs: [ys[0]])
        let short = #expect(throws: TheanoError.self) { _ = try f(try NDArray([1, 2] as [Float])) }
        #expect(short?.description.contains("sequence 0 has 2 rows") == true, "\(String(describing: short))")
        #expect(throws: TheanoError.self) { _ = try scan({ v in [v[0]] }, outputsInfo: [h]) }
    }
}
