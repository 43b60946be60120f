import Foundation
import NDArray
import Testing
import TheanoTestSupport

@testable import Theano

/// A call's device work is queued and, once a stretch of it has had the same steps for two calls,
/// replayed as a graph (the simulator's graphs keep their own copy of the work, so a graph run
/// with stale arguments gives wrong numbers here as on a GPU).
@Suite(.serialized, .enabled(if: NativeCompiler.shared != nil))
struct DeviceGraphTests {
    static let sim = Mode.fastRun.on(.simulatedCUDA)

    /// Each call's counters, and its outputs.
    static func calls(_ n: Int, _ call: (Int) throws -> [NDArray]) throws -> [(DeviceCounters, [Double])] {
        try (0..<n).map { i in
            let mine = SimulatedDevice.Tally()
            let outputs = try SimulatedDevice.$tally.withValue(mine) { try call(i).map(\.doubles) }
            return (mine.counters, outputs.flatMap { $0 })
        }
    }

    @Test("the third call with the same steps runs them as one graph, updated when an argument moves")
    func repeatedWorkBecomesAGraph() throws {
        let x = dmatrix("x")
        let w = dmatrix("w")
        let outputs = [tanh(dot(x, w)) * 2 + 1, exp(x).T * 3]
        let f = try function(inputs: [x, w], outputs: outputs, mode: Self.sim)
        let g = try function(inputs: [x, w], outputs: outputs, mode: .fastCompile)
        var rng = SplitMix64(seed: 31)
        let args = try (0..<5).map { _ in
            try [[3, 4], [4, 2]].map { try NDArray.uniform($0, in: -1...1, dtype: .float64, using: &rng) }
        }
        let seen = try Self.calls(5) { try f(args[$0][0], args[$0][1]) }
        for (i, (counters, got)) in seen.enumerated() {
            let want = try g(args[i][0], args[i][1]).flatMap(\.doubles)
            #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-12 }, "call \(i)")
            #expect(counters.launches >= 3, "call \(i): \(counters)")
        }
        #expect(seen[0].0.graphLaunches == 0 && seen[1].0.graphLaunches == 0, "\(seen.map(\.0))")
        #expect(seen[2].0.graphs == 1 && seen[2].0.graphLaunches == 1, "\(seen[2].0)")
        // New input arrays each call: the graph is updated to their addresses, never remade.
        for (counters, _) in seen[3...] {
            #expect(counters.graphs == 0 && counters.graphUpdates == 1 && counters.graphLaunches == 1, "\(counters)")
        }
    }

    @Test("other steps (a strided input's kernel) drop the graph; repeated again, they get one")
    func otherStepsDropTheGraph() throws {
        let x = dmatrix("x")
        let f = try function(inputs: [x], outputs: [exp(x) * 2 - x], mode: Self.sim)
        var rng = SplitMix64(seed: 32)
        let a = try NDArray.uniform([4, 4], in: -1...1, dtype: .float64, using: &rng)
        let t = a.transposed()
        let inputs = [a, a, a, t, t, t, t]
        let seen = try Self.calls(inputs.count) { try f(inputs[$0]) }
        for (i, (_, got)) in seen.enumerated() {
            let v = inputs[i].doubles
            #expect(zip(got, v).allSatisfy { abs($0 - (2 * Foundation.exp($1) - $1)) <= 1e-12 }, "call \(i)")
        }
        #expect(seen.map { $0.0.graphLaunches } == [0, 0, 1, 0, 0, 1, 1], "\(seen.map(\.0))")
        #expect(seen.map { $0.0.graphs } == [0, 0, 1, 0, 0, 1, 0], "\(seen.map(\.0))")
    }

    @Test("minibatch training through graphs gives the CPU's costs and parameters")
    func trainingThroughGraphs() throws {
        let (train, W, b) = try ResidencyTests.logistic(mode: Self.sim)
        let (cpu, cW, cb) = try ResidencyTests.logistic(mode: .fastRun)
        let seen = try Self.calls(12) { try train($0 % 4) }
        let want = try (0..<12).map { try cpu($0 % 4)[0].item() }
        for (k, (_, cost)) in seen.enumerated() { #expect(abs(cost[0] - want[k]) <= 1e-6 * max(1, abs(want[k]))) }
        let total = seen.reduce(DeviceCounters()) { t, c in
            var t = t
            t.graphLaunches += c.0.graphLaunches
            t.graphUpdates += c.0.graphUpdates
            return t
        }
        // The minibatch moves each call: its views' offsets are new arguments.
        #expect(total.graphLaunches >= 10 && total.graphUpdates >= 9, "\(total)")
        for (got, ref) in [(W.value, cW.value), (b.value, cb.value)] {
            for (u, v) in zip(got.doubles, ref.doubles) { #expect(abs(u - v) <= 1e-6, "\(u) \(v)") }
        }
    }

    @Test("profiling, DEBUG and a mode without replays launch each kernel at its node; without cuda_graphs, none")
    func profilingLaunchesEachKernel() throws {
        let x = dvector("x")
        let v = try NDArray([1, 2, 3] as [Double])
        let modes: [(Mode, Bool, Int)] = [
            (Self.sim, false, 2), (Self.sim, true, 0), (Mode.debug.on(.simulatedCUDA), false, 0),
            (Self.sim.excluding("replay"), false, 0), (Self.sim.excluding("cuda_graphs"), false, 0)
        ]
        for (mode, profile, graphed) in modes {
            let f = try function(inputs: [x], outputs: [exp(x) + 1], mode: mode, profile: profile)
            let seen = try Self.calls(4) { _ in try f(v) }
            #expect(seen.map { $0.0.graphLaunches }.reduce(0, +) == graphed, "\(mode.name) \(seen.map(\.0))")
            #expect(seen.allSatisfy { $0.0.launches == 1 }, "\(mode.name) \(seen.map(\.0))")
            #expect(f.graphStatistics?.launches ?? 0 == graphed)
            for (_, got) in seen { #expect(got == v.doubles.map { Foundation.exp($0) + 1 }) }
        }
    }

    @Test("a call that fails runs none of its queued work and leaves shared variables as they were")
    func failedCallRunsNothing() throws {
        let x = dvector("x")
        let i = lvector("i")
        let acc = shared(try NDArray([1, 2, 3] as [Double]), name: "acc")
        let f = try function(inputs: [x, i], outputs: [x[i]], updates: [acc: acc + exp(x)], mode: Self.sim)
        let v = try NDArray([0, 1, 2] as [Double])
        for _ in 0..<3 { _ = try f(v, try NDArray([0] as [Int64])) }
        let before = acc.value.doubles
        #expect(throws: TheanoError.self) { _ = try f(v, try NDArray([7] as [Int64])) }
        #expect(acc.value.doubles == before)
        _ = try f(v, try NDArray([2] as [Int64]))
        let want = zip(before, v.doubles).map { $0 + Foundation.exp($1) }
        #expect(zip(acc.value.doubles, want).allSatisfy { abs($0 - $1) <= 1e-12 }, "\(acc.value)")
    }
}
