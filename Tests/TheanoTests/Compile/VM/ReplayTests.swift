import Dispatch
import Foundation
import NDArray
import Synchronization
import Testing

@testable import Theano

/// Calls replayed from a plan made at fixed layouts: the same numbers as ordinary calls, the
/// same guarantees (outputs the caller keeps, failed calls, shapes that change), and used.
@Suite("Replay: calls at repeated layouts run from a plan")
struct ReplayTests {
    /// The tiny logistic-regression step of the benchmarks, over its own parameters.
    private func logisticStep(mode: Mode) throws -> (Function, SharedVariable, SharedVariable) {
        var rng = SplitMix64(seed: 7)
        let x = fmatrix("x")
        let y = fvector("y")
        let w = shared(try NDArray.uniform([10], in: -1...1, dtype: .float32, using: &rng), name: "w")
        let b = shared(0.0, dtype: .float32, name: "b")
        let p1 = 1 / (1 + exp(-dot(x, w) - b))
        let xent = -y * log(p1) - (1 - y) * log(1 - p1)
        let cost = mean(xent) + 0.01 * sum(w ** 2)
        let (gw, gb) = try grad(cost, wrt: w, b)
        let f = try function(
            inputs: [x, y], outputs: [gt(p1, 0.5), xent, cost], updates: [w: w - 0.1 * gw, b: b - 0.1 * gb], mode: mode)
        return (f, w, b)
    }

    @Test("a training loop gives bit-for-bit the numbers of ordinary calls, and replays from the third call")
    func trainingStepMatchesOrdinaryCalls() throws {
        let (f, w, b) = try logisticStep(mode: .fastRun)
        let (g, w2, b2) = try logisticStep(mode: .fastRun.excluding("replay"))
        var rng = SplitMix64(seed: 3)
        for call in 0..<6 {
            // Four rows, then (call 4) five: a new layout runs the ordinary way.
            let n = call == 4 ? 5 : 4
            let xv = try NDArray.uniform([n, 10], in: -1...1, dtype: .float32, using: &rng)
            let yv = try NDArray((0..<n).map { Float(($0 + call) % 2) })
            let got = try f(xv, yv)
            let want = try g(xv, yv)
            for (a, e) in zip(got, want) {
                #expect(a.shape == e.shape && a.dtype == e.dtype && a.doubles == e.doubles, "call \(call)")
            }
            #expect(w.value.doubles == w2.value.doubles && b.value.doubles == b2.value.doubles, "call \(call)")
        }
        // Calls 0 and 1 plan, 2 and 3 replay, 4 is another shape, 5 replays the same plan again.
        #expect(f.program.replayedCalls.load(ordering: .relaxed) == 3)
        #expect(g.program.replayedCalls.load(ordering: .relaxed) == 0)
        // Every step is planned: kernels, reductions, gemvs and views; none runs its usual way.
        let summary = f.program.replaySummary ?? "no plan"
        #expect(
            summary.contains("gemv 2") && summary.contains("reduce") && summary.contains("view")
                && !summary.contains("fallback"), "\(summary)")
    }

    @Test("a bias gradient (ReduceTo summing the rows) is planned as a reduction and gives the ordinary numbers")
    func biasGradientIsPlannedAsAReduction() throws {
        func step(_ mode: Mode) throws -> (Function, SharedVariable) {
            let x = fmatrix("x")
            let b = shared(try NDArray([0.5, -1, 2] as [Float]), name: "b")
            let cost = sum(tanh(x + b) ** 2)
            let f = try function(
                inputs: [x], outputs: [cost], updates: [b: b - 0.1 * (try grad(cost, wrt: b))], mode: mode)
            return (f, b)
        }
        let (f, b) = try step(.fastRun)
        let (g, b2) = try step(.fastRun.excluding("replay"))
        #expect(f.program.steps.contains { $0.node.op is ReduceTo })
        var rng = SplitMix64(seed: 4)
        for call in 0..<5 {
            let xv = try NDArray.uniform([6, 3], in: -1...1, dtype: .float32, using: &rng)
            #expect(try f(xv)[0].doubles == g(xv)[0].doubles, "call \(call)")
            #expect(b.value.doubles == b2.value.doubles, "call \(call)")
        }
        #expect(f.program.replayedCalls.load(ordering: .relaxed) == 3)
        let summary = f.program.replaySummary ?? "no plan"
        #expect(summary.contains("reduce") && !summary.contains("fallback"), "\(summary)")
    }

    @Test("a function whose small weight a gemm updates replays with the ordinary numbers; a large one stays in place")
    func gemmUpdatedFunctionsReplayWhenSmall() throws {
        func step(_ mode: Mode, rows: Int) throws -> (Function, SharedVariable) {
            let x = fmatrix("x")
            let y = fmatrix("y")
            let W = shared(try NDArray.zeros([rows, 3], dtype: .float32), name: "W")
            let cost = sum((dot(x, W) - y) ** 2)
            let f = try function(
                inputs: [x, y], outputs: [cost], updates: [W: W - 0.01 * (try grad(cost, wrt: W))], mode: mode)
            return (f, W)
        }
        let (f, w) = try step(.fastRun, rows: 8)
        let (g, w2) = try step(.fastRun.excluding("replay"), rows: 8)
        #expect(f.program.steps.contains { $0.updatesInPlace != nil })
        var rng = SplitMix64(seed: 5)
        for call in 0..<5 {
            let xv = try NDArray.uniform([4, 8], in: -1...1, dtype: .float32, using: &rng)
            let yv = try NDArray.uniform([4, 3], in: -1...1, dtype: .float32, using: &rng)
            #expect(try f(xv, yv)[0].doubles == g(xv, yv)[0].doubles, "call \(call)")
            #expect(w.value.doubles == w2.value.doubles, "call \(call)")
        }
        #expect(f.program.replayedCalls.load(ordering: .relaxed) == 3)
        #expect(w.value.doubles.contains { $0 != 0 })
        // 30,000 × 3 floats (352 KiB, over the 64 KiB limit): updated in its own memory, so no replays.
        let (big, bigW) = try step(.fastRun, rows: 30_000)
        #expect(big.program.steps.contains { $0.updatesInPlace != nil })
        let xv = try NDArray.uniform([2, 30_000], in: -1...1, dtype: .float32, using: &rng)
        let yv = try NDArray.uniform([2, 3], in: -1...1, dtype: .float32, using: &rng)
        for _ in 0..<4 { _ = try big(xv, yv) }
        #expect(big.program.replayedCalls.load(ordering: .relaxed) == 0 && big.program.replaySummary == nil)
        #expect(bigW.value.doubles.contains { $0 != 0 })
    }

    @Test("outputs the caller keeps are never overwritten by later replayed calls")
    func keptOutputsStayIntact() throws {
        let x = dvector("x")
        let f = try function(inputs: [x], outputs: [exp(x) * 2, sum(x * 3)])
        var kept: [[NDArray]] = []
        for k in 0..<5 { kept.append(try f([Double(k), 1, 2])) }
        #expect(f.program.replayedCalls.load(ordering: .relaxed) == 3)
        for (k, r) in kept.enumerated() {
            let first: [Double] = [Double(k), 1, 2].map { (v: Double) -> Double in 2 * Foundation.exp(v) }
            let total: Double = 3 * (Double(k) + 3)
            #expect(r[0].doubles == first)
            #expect(r[1].doubles == [total])
        }
    }

    @Test("a step whose result's shape depends on values makes the call run the ordinary way")
    func valueDependentShapesAbandonTheReplay() throws {
        let k = lscalar("k")
        let x = dvector("x")
        let f = try function(inputs: [k, x], outputs: [cast(arange(k), .float64) * 2 + sum(x)])
        for _ in 0..<3 { #expect(try f(3, [1, 1])[0].doubles == [2, 4, 6]) }
        #expect(f.program.replayedCalls.load(ordering: .relaxed) == 1)
        // Same layouts, another length: the planned buffers would not fit.
        #expect(try f(5, [1, 1])[0].doubles == [2, 4, 6, 8, 10])
        #expect(try f(2, [1, 1])[0].doubles == [2, 4])
    }

    @Test("a replayed call that fails reports the node's error and leaves shared variables alone")
    func failedReplayChangesNothing() throws {
        let v = shared(try array([1, 2, 3], [3]), name: "v")
        let i = lscalar("i")
        let f = try function(inputs: [i], outputs: [v[i] * 2], updates: [v: v + 1])
        for _ in 0..<3 { _ = try f(1) }
        #expect(v.value.doubles == [4, 5, 6])
        #expect(throws: TheanoError.self) { try f(7) }
        #expect(v.value.doubles == [4, 5, 6])
        #expect(try f(2)[0].doubles == [12])
    }

    @Test("calls from several threads at once each get their own results")
    func concurrentCalls() throws {
        let x = dvector("x")
        let f = try function(inputs: [x], outputs: [x * x + 1])
        for _ in 0..<3 { _ = try f([1, 2, 3]) }
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 64) { t in
            let v = Double(t)
            for _ in 0..<50 {
                guard let r = try? f([v, v + 1, v + 2])[0].doubles,
                    r == [v * v + 1, (v + 1) * (v + 1) + 1, (v + 2) * (v + 2) + 1]
                else {
                    failures.add(1, ordering: .relaxed)
                    return
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    @Test("inputs laid out differently (a transposed view) are not mistaken for the planned layout")
    func stridesArePartOfTheLayout() throws {
        let a = dmatrix("a")
        let f = try function(inputs: [a], outputs: [a * 10])
        let m = try array([1, 2, 3, 4], [2, 2])
        for _ in 0..<3 { #expect(try f(m)[0].doubles == [10, 20, 30, 40]) }
        #expect(try f(m.transposed())[0].doubles == [10, 30, 20, 40])
        #expect(try f(m)[0].doubles == [10, 20, 30, 40])
    }

    @Test("a function and its plan are freed together (the plan does not keep its program alive)")
    func plansDoNotLeak() throws {
        weak var program: Program?
        try {
            let x = dvector("x")
            let f = try function(inputs: [x], outputs: [x + 1])
            for _ in 0..<3 { _ = try f([1, 2]) }
            #expect(f.program.replaySummary != nil)
            program = f.program
        }()
        #expect(program == nil)
    }
}
