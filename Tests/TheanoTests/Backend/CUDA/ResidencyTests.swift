import Foundation
import NDArray
import Testing
import TheanoTestSupport

@testable import Theano

/// Values stay on the device: shared variables and intermediates live in device memory between
/// nodes and calls, and cross to the host only where host code reads them.
@Suite(.serialized, .enabled(if: NativeCompiler.shared != nil))
struct ResidencyTests {
    static let sim = Mode.fastRun.on(.simulatedCUDA)

    /// The logistic tutorial's training function on 4 minibatches of 20 synthetic examples.
    static func logistic(mode: Mode) throws -> (train: Function, W: SharedVariable, b: SharedVariable) {
        var rng = SplitMix64(seed: 3)
        let data = shared(try NDArray.uniform([80, 12], in: 0...1, dtype: .float32, using: &rng), name: "X")
        let labels = shared(try NDArray((0..<80).map { Int32($0 % 5) }), name: "Y")
        let W = shared(try NDArray.zeros([12, 5], dtype: .float32), name: "W")
        let b = shared(try NDArray.zeros([5], dtype: .float32), name: "b")
        let x = fmatrix("x")
        let y = ivector("y")
        let p = softmax(dot(x, W) + b)
        let cost = -mean(log(p)[arange(y.shape[0]), y])
        let (gW, gb) = try grad(cost, wrt: W, b)
        let index = lscalar("index")
        let batch = { (v: Variable) in v[index * 20..<(index + 1) * 20] }
        let train = try function(
            inputs: [index], outputs: [cost], updates: [W: W - 0.13 * gW, b: b - 0.13 * gb],
            givens: [x: batch(data), y: batch(labels)], mode: mode)
        return (train, W, b)
    }

    @Test("the logistic tutorial's training call moves only its cost once its data is on the device")
    func trainingCallMovesOnlyItsCost() throws {
        let (train, W, b) = try Self.logistic(mode: Self.sim)
        // Every node of the step has a device kernel but the index arithmetic, shapes and views.
        let host = train.program.steps.filter { $0.kernel?.runsOnDevice != true }.map { "\($0.node.op)" }
        #expect(
            host.allSatisfy {
                $0.hasPrefix("Subtensor") || $0.hasPrefix("Shape") || $0.hasPrefix("DimShuffle")
                    || $0.hasPrefix("Composite")
            }, "\(host)")
        _ = try train(0)  // uploads the data and the parameters once
        let mine = SimulatedDevice.Tally()
        var costs: [Double] = []
        try SimulatedDevice.$tally.withValue(mine) {
            for i in 1...3 {
                let before = mine.counters
                costs.append(try train(i)[0].item())
                #expect(mine.counters.uploads == before.uploads, "call \(i) uploaded: \(mine.counters)")
                // The cost: the mean's double accumulator, 8 bytes.
                #expect(mine.counters.downloadedBytes - before.downloadedBytes == 8, "call \(i): \(mine.counters)")
            }
        }
        #expect(W.value.storage.isOnlyOnMirror && b.value.storage.isOnlyOnMirror)
        // The same steps on the CPU give the same costs and parameters.
        let (cpu, cW, cb) = try Self.logistic(mode: .fastRun)
        _ = try cpu(0)
        let want = try (1...3).map { try cpu($0)[0].item() }
        for (u, v) in zip(costs, want) { #expect(abs(u - v) <= 1e-6 * max(1, abs(v)), "\(costs) \(want)") }
        for (got, ref) in [(W.value, cW.value), (b.value, cb.value)] {
            for (u, v) in zip(got.doubles, ref.doubles) { #expect(abs(u - v) <= 1e-6, "\(u) \(v)") }
        }
    }

    @Test("a shared variable's value comes back when read and goes up again after setValue")
    func valueAndSetValueCrossOnce() throws {
        let (train, W, _) = try Self.logistic(mode: Self.sim)
        _ = try train(0)
        let mine = SimulatedDevice.Tally()
        try SimulatedDevice.$tally.withValue(mine) {
            let w = W.value
            #expect(w.storage.isOnlyOnMirror)
            _ = w.doubles
            _ = w.doubles
            #expect(mine.counters.downloads == 1 && mine.counters.downloadedBytes == 12 * 5 * 4, "\(mine.counters)")
            #expect(!w.storage.isOnlyOnMirror)
            // Reading did not make the device's copy stale: the next call uploads nothing for W.
            _ = try train(1)
            #expect(mine.counters.uploads == 0, "\(mine.counters)")
            try W.setValue(try NDArray.zeros([12, 5], dtype: .float32))
            _ = try train(2)
            #expect(mine.counters.uploads == 1 && mine.counters.uploadedBytes == 12 * 5 * 4, "\(mine.counters)")
        }
    }

    @Test("products take transposed and strided operands, vectors and accumulators as the CPU does")
    func productsMatchTheCPU() throws {
        var rng = SplitMix64(seed: 11)
        let a = dmatrix("a")
        let b = dmatrix("b")
        let v = dvector("v")
        let c = dmatrix("c")
        let outputs = [
            dot(a, b), dot(a.T, a), dot(a, v), dot(v, b.T), dot(v, v),
            gemm(c, alpha: constant(0.5, dtype: .float64), a, b, beta: constant(-2, dtype: .float64)),
            dot(a[0..., 1...], b[1..., 0...]), apply1(Ger(), [c, constant(0.5, dtype: .float64), a[0..., 0], v])
        ]
        let av = try NDArray.uniform([3, 4], in: -1...1, dtype: .float64, using: &rng)
        let bv = try NDArray.uniform([4, 4], in: -1...1, dtype: .float64, using: &rng)
        let vv = try NDArray.uniform([4], in: -1...1, dtype: .float64, using: &rng)
        let cv = try NDArray.uniform([3, 4], in: -1...1, dtype: .float64, using: &rng)
        let inputs = [a, b, v, c]
        let device = try function(inputs: inputs, outputs: outputs, mode: Self.sim)
        #expect(device.program.steps.contains { $0.kernel is ProductDeviceKernel })
        let got = try device(av, bv, vv, cv)
        let want = try function(inputs: inputs, outputs: outputs, mode: .fastCompile)(av, bv, vv, cv)
        expectClose(got, want, tolerance: 1e-12)
    }

    @Test("softmax, log-softmax, cross-entropy and its gradient run on the device with the CPU's results")
    func rowKernelsMatchTheCPU() throws {
        var rng = SplitMix64(seed: 13)
        for dtype in [DType.float32, .float64] {
            let z = tensor(dtype, shape: [nil, nil])
            let y = lvector("y")
            let g = tensor(dtype, shape: [nil])
            let filler: Variable = sum(z) * 0.0 + 2.5
            let outputs = [
                softmax(z), logSoftmax(z), softmaxCrossEntropy(z, y), apply1(SoftmaxCrossEntropyGrad(), [z, y, g]),
                softmax(z.T), alloc(filler, [2, 3])
            ]
            let zv = try NDArray.uniform([6, 5], in: -30...30, dtype: dtype, using: &rng)
            let yv = try NDArray([4, 0, -1, 2, 3, 1] as [Int64])
            let gv = try NDArray.uniform([6], in: -1...1, dtype: dtype, using: &rng)
            let device = try function(inputs: [z, y, g], outputs: outputs, mode: Self.sim)
            #expect(device.program.steps.filter { $0.kernel is NNetDeviceKernel }.count >= 5)
            let got = try device(zv, yv, gv)
            let want = try function(inputs: [z, y, g], outputs: outputs, mode: .fastCompile)(zv, yv, gv)
            expectClose(got, want, tolerance: dtype == .float32 ? 2e-5 : 1e-12, scaleFloor: 1)
            // A label out of range: an error, as on the CPU, when the labels are in host memory…
            let e = #expect(throws: TheanoError.self) {
                _ = try device(zv, try NDArray([4, 0, 9, 2, 3, 1] as [Int64]), gv)
            }
            #expect(e?.description.contains("label 9 is out of range for 5 classes") == true)
            // …and NaN for that row when they were computed on the device (a kernel cannot throw).
            let shifted = try function(inputs: [z, y], outputs: [softmaxCrossEntropy(z, y + 5)], mode: Self.sim)
            let bad = try shifted(zv, try NDArray([-1, -5, 4, -3, -2, -4] as [Int64]))[0].doubles
            #expect(bad[2].isNaN && bad.enumerated().allSatisfy { $0.offset == 2 || !$0.element.isNaN }, "\(bad)")
        }
    }
}

extension ResidencyTests {
    @Test("the profiler shows the transfers of a node that runs on the host")
    func profilerShowsTransfers() throws {
        let x = dmatrix("x")
        // A sum of integers has no device kernel: it reads the comparison's result from the device.
        let f = try function(inputs: [x], outputs: [sum(gt(exp(x), 1), axis: 0)], mode: Self.sim, profile: true)
        var rng = SplitMix64(seed: 2)
        _ = try f(try NDArray.uniform([3, 4], in: -1...1, dtype: .float64, using: &rng))
        let moved = try #require(f.profile).transfers
        #expect(moved.contains { $0.node.hasPrefix("Composite") && $0.traffic.uploads == 1 }, "\(moved)")
        #expect(moved.contains { $0.node.hasPrefix("Sum") && $0.traffic.downloadedBytes == 3 * 4 }, "\(moved)")
        #expect(try #require(f.profile).description.contains("host↔device transfers, over all calls"))
    }
}

extension ResidencyTests {
    @Test("minibatch views of one host array as inputs: the array goes up once, not per call")
    func inputViewsShareOneUpload() throws {
        var rng = SplitMix64(seed: 4)
        let data = try NDArray.uniform([40, 6], in: -1...1, dtype: .float32, using: &rng)
        let batches = try (0..<4).map { try data.sliced([.range(start: 10 * $0, stop: 10 * ($0 + 1), step: 1)]) }
        let x = fmatrix("x")
        let W = shared(try NDArray.uniform([6, 3], in: -1...1, dtype: .float32, using: &rng), name: "W")
        let f = try function(inputs: [x], outputs: [sum(tanh(dot(x, W)))], mode: Self.sim)
        let mine = TrafficTally()
        try NDStorage.$tally.withValue(mine) { for k in 0..<8 { _ = try f(batches[k % 4])[0].item() } }
        let moved = mine.traffic
        // The data and W once each; the eight sums come down.
        #expect(moved.uploads == 2 && moved.uploadedBytes == (40 * 6 + 6 * 3) * 4, "\(moved)")
        #expect(moved.downloads == 8, "\(moved)")
    }

    @Test("values pass between replayed CPU functions and device functions, both ways, call after call")
    func replaysAndDeviceFunctionsShareValues() throws {
        let x = dvector("x")
        let acc = shared(try NDArray([1, 2, 3] as [Double]), name: "acc")
        // The CPU function replays from its third call; the device one leaves `acc` on the device.
        let double = try function(inputs: [x], outputs: [x * 2 + acc], mode: .fastRun)
        let step = try function(inputs: [x], outputs: [x + 1], updates: [acc: acc + x], mode: Self.sim)
        var want = [1.0, 2, 3]
        for i in 0..<6 {
            let xv = try NDArray([Double(i), 1, -1])
            let y = try double(xv)[0]
            let expected = zip(xv.doubles, want).map { 2 * $0 + $1 }
            #expect(y.doubles == expected, "call \(i): \(y)")
            // The CPU's output goes to the device; the next replay must not reuse its memory as if
            // the device copy did not exist.
            #expect(try step(y)[0].doubles == expected.map { $0 + 1 }, "call \(i)")
            want = zip(want, expected).map(+)
            #expect(acc.value.storage.isOnlyOnMirror)
        }
        #expect(double.program.replayedCalls.load(ordering: .relaxed) >= 3)
    }
}
