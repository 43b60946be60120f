import Foundation
import NDArray
import Testing

@testable import Theano

/// Rewrites that keep gradient graphs from computing or allocating what they do not need, the
/// fused cross-entropy gradient, and the memory plan (reused and in-place buffers).
struct GraphEconomyTests {
    @Test("a fill that broadcasting provides is dropped (elemwise_alloc, lift_alloc, shape_of_elemwise)")
    func allocsDisappear() throws {
        let w = dmatrix("w")
        let cost = 1e-4 * sum(w ** 2)
        let g = try grad(cost, wrt: [w])[0]
        let f = try function(inputs: [w], outputs: [w - 0.1 * g])
        #expect(!ops(f).contains("Alloc"), "\(f.graphDescription)")
        let value = try array((0..<12).map { Double($0) }, [3, 4])
        let want = value.doubles.map { $0 - 0.1 * 2e-4 * $0 }
        #expect(zip(try f(value)[0].doubles, want).allSatisfy { abs($0 - $1) < 1e-12 })
        // Near miss: an alloc whose shape no other input gives stays (its value fills a bigger shape).
        let v = dvector("v")
        let h = try function(inputs: [v, w], outputs: [alloc(v, [.variable(w.shape[0]), .variable(v.shape[0])]) * 2])
        #expect(ops(h).contains("Alloc"))
        #expect(try h([1, 2, 3, 4], value)[0].shape == [3, 4])
    }

    @Test("shape of an elementwise result is read off its input; the value is not computed")
    func shapeOfElemwise() throws {
        let x = dmatrix("x")
        let f = try function(inputs: [x], outputs: [exp(x * 2).shape])
        #expect(!ops(f).contains("Exp"), "\(ops(f))")
        #expect(try f(try array([1, 2, 3, 4, 5, 6], [2, 3]))[0].doubles == [2, 3])
        // Two full-rank inputs may broadcast against each other: no shortcut.
        let y = dmatrix("y")
        let g = try function(inputs: [x, y], outputs: [(x + y).shape])
        #expect(ops(g).contains("Add"))
        #expect(try g(try array([1, 2], [1, 2]), try array([1, 2, 3, 4], [2, 2]))[0].doubles == [2, 2])
    }

    @Test("a regularised update is one gemm, overwriting its accumulator (gemm_update)")
    func gemmUpdate() throws {
        let x = dmatrix("x")
        let g = dmatrix("g")
        let w = dmatrix("w")
        let update = w - 0.1 * (dot(x.T, g) + 2e-4 * w)
        let f = try function(inputs: [x, g, w], outputs: [update])
        // The decay term becomes the gemm's beta: no elementwise pass over w at all.
        #expect(ops(f) == ["DimShuffle{1,0}", "Gemm"], "\(ops(f))")  // x.T is a view
        let xv = try array((0..<6).map { Double($0) }, [2, 3])
        let gv = try array([1, 2, 3, 4], [2, 2])
        let wv = try array((0..<6).map { Double($0) / 10 }, [3, 2])
        let want = try function(inputs: [x, g, w], outputs: [update], mode: .unoptimized)(xv, gv, wv)[0]
        expectClose(try f(xv, gv, wv)[0], want)
        // Any other accumulated term is folded into C first.
        let q = dmatrix("q")
        let other = try function(inputs: [x, g, w, q], outputs: [w - 0.1 * (dot(x.T, g) + q)])
        #expect(ops(other).filter { $0 == "Gemm" }.count == 1 && !ops(other).contains("Dot"), "\(ops(other))")
        let qv = try array([1, 2, 3, 4, 5, 6], [3, 2])
        let want2 = try function(inputs: [x, g, w, q], outputs: [w - 0.1 * (dot(x.T, g) + q)], mode: .unoptimized)(
            xv, gv, wv, qv)[0]
        expectClose(try other(xv, gv, wv, qv)[0], want2)
    }

    @Test("lift_dimshuffle leaves a value with other readers alone (it would be computed twice)")
    func dimshuffleLiftNeedsOneReader() throws {
        let x = dmatrix("x")
        let h = tanh(x)
        let f = try function(inputs: [x], outputs: [h, h.T * 2])
        #expect(ops(f).filter { $0 == "Tanh" }.count == 1, "\(f.graphDescription)")
    }

    @Test("the cross-entropy gradient is one op, with correct values and second derivatives")
    func crossEntropyGradient() throws {
        let z = dmatrix("z")
        let y = ivector("y")
        let cost = mean(softmaxCrossEntropy(z, y))
        let gz = try grad(cost, wrt: [z])[0]
        let f = try function(inputs: [z, y], outputs: [gz])
        #expect(ops(f).contains("SoftmaxCrossEntropyGrad") && !ops(f).contains("Softmax{axis=1}"), "\(ops(f))")
        // Logits near 1000 stay finite; the gradient is (softmax − onehot) / n.
        let zv = try array([1000, 0, -1000, 1, 2, 3], [2, 3])
        let got = try f(zv, try NDArray([0, 2] as [Int32]))[0].doubles
        let e = [exp(1.0 - 3), exp(2.0 - 3), 1.0]
        let s = e.reduce(0, +)
        let want = [0.0, 0, 0, e[0] / s / 2, e[1] / s / 2, (e[2] / s - 1) / 2]
        #expect(zip(got, want).allSatisfy { abs($0 - $1) < 1e-12 }, "\(got)")
        // Its own gradient (through z and g) against finite differences.
        let labels = Constant(try NDArray([1, 0, 2] as [Int64]))
        let report = try verifyGrad(
            { v in sum(apply1(SoftmaxCrossEntropyGrad(), [v[0], labels, v[1]]) * v[2]) },
            at: [GradTests.rand([3, 4], seed: 3), GradTests.rand([3], seed: 4), GradTests.rand([3, 4], seed: 5)])
        #expect(report.passed, "\(report)")
    }

    @Test("sums over leading axes (the bias-gradient shape) match the general reduction")
    func leadingAxisSums() throws {
        let x = tensor(.float32, shape: [nil, nil, nil], name: "x")
        let v = try array((0..<(5 * 7 * 3)).map { sin(Double($0)) * 1e3 }, [5, 7, 3], .float32)
        for axes in [[0], [0, 1]] as [[Int]] {
            let fast = try function(inputs: [x], outputs: [sum(x, axis: Axes(axes)), mean(x, axis: Axes(axes))])(v)
            // The general strided path: the same reduction of a transposed copy.
            let perm = try v.permuted([2, 0, 1]).contiguous(forceCopy: true)
            let t = tensor(.float32, shape: [nil, nil, nil], name: "t")
            let general = try function(
                inputs: [t],
                outputs: [sum(t, axis: Axes(axes.map { $0 + 1 })), mean(t, axis: Axes(axes.map { $0 + 1 }))])(perm)
            #expect(fast[0].doubles == general[0].transposedIfMatrix.doubles, "sum over \(axes)")
            #expect(fast[1].doubles == general[1].transposedIfMatrix.doubles, "mean over \(axes)")
        }
    }
}

extension NDArray {
    /// The transpose of a matrix; other arrays unchanged.
    var transposedIfMatrix: NDArray { ndim == 2 ? transposed() : self }
}

@Suite("Memory plan: buffers reused across calls and overwritten in place, never visibly")
struct MemoryPlanTests {
    @Test func outputsTheCallerKeepsAreNeverOverwritten() throws {
        let x = fvector("x")
        let f = try function(inputs: [x], outputs: [exp(x) * 2 + 1])
        let first = try f([0, 1])[0]
        let second = try f([2, 3])[0]
        #expect(!first.sharesStorage(with: second))
        let e: Double = 2 * M_E + 1
        #expect(first.doubles == [3, Double(Float(e))])
        // Once the caller lets go of a result, its buffer is reused: the same memory comes back.
        var last = try f([1, 1])[0]
        let pointer = last.storage.pointer
        last = try NDArray([0] as [Float])
        #expect(try f([4, 5])[0].storage.pointer == pointer)
        _ = last
    }

    @Test func sharedValuesTheCallerHoldsStayIntact() throws {
        let w = shared(try NDArray([1, 2, 3] as [Float]), name: "w")
        let x = fvector("x")
        let step = try function(inputs: [x], outputs: [sum(w * x)], updates: [w: w * 2 + x])
        var history: [NDArray] = []
        for _ in 0..<4 {
            history.append(w.value)
            try step([1, 1, 1])
        }
        // Each value the caller kept is what it was when read, although buffers alternate.
        #expect(history.map(\.doubles) == [[1, 2, 3], [3, 5, 7], [7, 11, 15], [15, 23, 31]])
        #expect(w.value.doubles == [31, 47, 63])
    }

    @Test func inPlaceKernelsLeaveTheCallersInputsAlone() throws {
        let x = dvector("x")
        let f = try function(inputs: [x], outputs: [sum(exp(x) + 1) + sum(x)])
        let input = try NDArray([0, 0, 0] as [Double])
        let r = try f(input)[0].doubles[0]
        #expect(abs(r - 6) < 1e-12 && input.doubles == [0, 0, 0])
        // A gemm whose accumulator is an intermediate overwrites it; the input matrix survives.
        let c = dmatrix("c")
        let a = dmatrix("a")
        let g = try function(inputs: [c, a], outputs: [(c * 2) + dot(a, a)])
        let cv = try array([1, 1, 1, 1], [2, 2])
        let av = try array([1, 2, 3, 4], [2, 2])
        #expect(try g(cv, av)[0].doubles == [9, 12, 17, 24] && cv.doubles == [1, 1, 1, 1])
        // In place is on in FAST_RUN, off in DEBUG (it checks inputs stay intact) and when excluded.
        #expect(g.program.inplace)
        let modes: [Mode] = [.debug, .fastRun.excluding("inplace")]
        for mode in modes {
            let h = try function(inputs: [c, a], outputs: [(c * 2) + dot(a, a)], mode: mode)
            let r = try h(cv, av)[0].doubles
            #expect(!h.program.inplace && r == [9, 12, 17, 24])
        }
    }

    @Test func concurrentCallsGetTheirOwnBuffers() async throws {
        let x = dvector("x")
        let f = try function(inputs: [x], outputs: [x * 3 + 1])
        let results = try await withThrowingTaskGroup(of: (Double, [Double]).self) { group in
            for k in 0..<16 {
                group.addTask {
                    let v = Double(k)
                    return (v, try f(try NDArray(Array(repeating: v, count: 10_000)))[0].doubles)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { v, out in out.allSatisfy { $0 == v * 3 + 1 } })
    }
}

extension GraphEconomyTests {
    @Test("nested sums and products flatten: constants fold, integer terms cancel (flatten_add_mul)")
    func flattenAddMul() throws {
        let x = dvector("x")
        let z = dvector("z")
        let f = try function(inputs: [x, z], outputs: [2 * (x * 3), ((x + 1) + z) - (2 - x * 0 + 4) + 5])
        let composites = f.program.steps.map { "\($0.node.op)" }
        #expect(composites.contains("Composite{Mul(6.0, i0)}"), "\(composites)")
        #expect(composites.contains("Composite{Add(Add(i0, i1), 0.0)}") == false)
        #expect(try f([1, 2], [10, 20]).map(\.doubles) == [[6, 12], [11, 22]])
        // Integers: a term and its negation cancel, whatever the nesting.
        let i = lvector("i")
        let j = lvector("j")
        let g = try function(inputs: [i, j], outputs: [(i + j) - (i - 3) + 1])
        #expect(ops(g) == ["Add"], "\(ops(g))")
        #expect(try g([5, -7], [1, 2])[0].doubles == [5, 6])
        // Near miss: a non-constant factor stays where it is.
        let y = dvector("y")
        let h = try function(inputs: [x, y], outputs: [2 * (x * y)])
        #expect(ops(h).filter { $0 == "Mul" }.count == 2)
    }
}

extension GraphEconomyTests {
    @Test("a value's length is computed from its inputs' shapes, not by computing it (shape_of_dim)")
    func shapeOfDim() throws {
        let a = dmatrix("a")
        let b = dmatrix("b")
        let f = try function(
            inputs: [a, b],
            outputs: [
                dot(a, b).shape[1], softmax(a * 2).shape[0],
                sum(a, axis: 0).shape[0], dot(a, b).T.shape[0]
            ])
        let kinds = ops(f)
        #expect(
            !kinds.contains("Dot") && !kinds.contains { $0.hasPrefix("Softmax") }
                && !kinds.contains { $0.hasPrefix("Sum") }, "\(kinds)")
        let r = try f(
            try array(Array(repeating: 1, count: 6), [2, 3]), try array(Array(repeating: 1, count: 12), [3, 4]))
        #expect(r.map(\.doubles) == [[4], [2], [3], [4]])
        // As in Theano, a graph that only asks for a product's length does not compute (or check)
        // the product: misaligned operands go unnoticed there.
        let bad = try function(inputs: [a, b], outputs: [dot(a, b).shape[0]])
        #expect(try bad(try array([1, 2], [1, 2]), try array([1, 2, 3], [3, 1]))[0].doubles == [1])
    }
}

extension MemoryPlanTests {
    @Test func gemmUpdatesOverwriteTheSharedVariableOnlyWhenNobodyHoldsIt() throws {
        let w = shared(try array([1, 2, 3, 4, 5, 6], [3, 2]), name: "w")
        let x = dmatrix("x")
        let g = dmatrix("g")
        // Without replays, as for a variable too large to replay (a small one like this replays,
        // writing the other of two buffers instead).
        let step = try function(
            inputs: [x, g], outputs: [], updates: [w: w - 0.5 * dot(x.T, g)], mode: .fastRun.excluding("replay"))
        let xv = try array([1, 0, 0, 1, 1, 1], [2, 3])
        let gv = try array([2, 0, 0, 2], [2, 2])
        try step(xv, gv)  // the first value came from the caller's array: copied once
        let memory = w.value.storage.pointer
        try step(xv, gv)
        #expect(w.value.storage.pointer == memory, "the update was not made in place")
        #expect(w.value.doubles == [-1, 0, 3, 2, 5, 4])
        // A value the caller holds is never written: the update goes to new memory.
        let kept = w.value
        try step(xv, gv)
        #expect(kept.doubles == [-1, 0, 3, 2, 5, 4] && w.value.doubles == [-2, -1, 3, 1, 5, 3])
        #expect(!kept.sharesStorage(with: w.value))
    }

    @Test func aFailedCallChangesNoSharedVariableEvenWithInPlaceUpdates() throws {
        let w1 = shared(try array([1, 1, 1, 1], [2, 2]), name: "w1")
        let w2 = shared(try array([1, 1, 1, 1], [2, 2]), name: "w2")
        let x = dmatrix("x")
        let g1 = dmatrix("g1")
        let g2 = dmatrix("g2")
        let step = try function(
            inputs: [x, g1, g2], outputs: [],
            updates: [w1: w1 - dot(x.T, g1), w2: w2 - dot(x.T, g2)])
        let xv = try array([1, 0, 0, 1], [2, 2])
        try step(xv, xv, xv)
        let before = (w1.value.doubles, w2.value.doubles)
        // g2 has the wrong shape: w2's gemm fails, and w1's (which would run first) must not run.
        #expect(throws: TheanoError.self) { try step(xv, xv, try array([1, 2, 3], [1, 3])) }
        #expect(w1.value.doubles == before.0 && w2.value.doubles == before.1)
    }

    @Test("an update of two gemms (a tied weight's two gradient terms) runs in the variable's memory, link by link")
    func gemmChainUpdatesInPlace() throws {
        let w = shared(try array([1, 2, 3, 4, 5, 6], [3, 2]), name: "w")
        let x = dmatrix("x")
        let g = dmatrix("g")
        let u = dmatrix("u")
        let h = dmatrix("h")
        let update = w - 0.5 * (dot(x.T, g) + dot(u.T, h))
        let step = try function(
            inputs: [x, g, u, h], outputs: [], updates: [w: update], mode: .fastRun.excluding("replay"))
        #expect(step.program.steps.filter { $0.updatesInPlace === w }.count == 2, "\(step.graphDescription)")
        let xv = try array([1, 0, 0, 1, 1, 1], [2, 3])
        let gv = try array([2, 0, 0, 2], [2, 2])
        let uv = try array([1, 2, 3], [1, 3])
        let hv = try array([1, -1], [1, 2])
        try step(xv, gv, uv, hv)  // the first value came from the caller's array: copied once
        let memory = w.value.storage.pointer
        try step(xv, gv, uv, hv)
        #expect(w.value.storage.pointer == memory, "the update was not made in place")
        // Each call subtracts 0.5·(xᵀg + uᵀh) = [[1.5, 0.5], [1, 0], [1.5, -0.5]].
        #expect(w.value.doubles == [-2, 1, 1, 4, 2, 7])
        // A value the caller holds is never written: the first link goes to new memory, the
        // second overwrites that.
        let kept = w.value
        try step(xv, gv, uv, hv)
        #expect(kept.doubles == [-2, 1, 1, 4, 2, 7] && w.value.doubles == [-3.5, 0.5, 0, 4, 0.5, 7.5])
        #expect(!kept.sharesStorage(with: w.value))
        // A failing second link leaves the variable alone.
        #expect(throws: TheanoError.self) { try step(xv, gv, try array([1, 2], [1, 2]), hv) }
        #expect(w.value.doubles == [-3.5, 0.5, 0, 4, 0.5, 7.5])
    }
}
