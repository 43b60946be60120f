import Foundation
import NDArray
import Testing

@testable import Theano

/// `device=cuda-sim`: the CUDA backend's generated kernels, compiled for the CPU, run fused
/// elementwise work through the simulated device, which counts transfers and launches.
/// (`checkOp` also runs every op in this mode.)
@Suite(.serialized)
struct CUDASimTests {
    static let sim = Mode.fastRun.on(.simulatedCUDA)
    static var hasCompiler: Bool { NativeCompiler.shared != nil }

    @Test("THEANO_FLAGS=device= takes cpu, cuda, cuda<N> and cuda-sim")
    func deviceFlag() throws {
        #expect(try Config(flags: "device=cuda-sim").device == .simulatedCUDA)
        #expect(try Config(flags: "device=cuda").device == .cuda(0))
        #expect(try Config(flags: "device=cuda1").device == .cuda(1))
        #expect(try Config(flags: "device=cpu").device == .cpu)
        let e = #expect(throws: TheanoError.self) { _ = try Config(flags: "device=gpu") }
        #expect(e?.description.contains("cuda-sim") == true)
    }

    @Test(
        "without a GPU, device=cuda is a clear error naming the missing driver",
        .enabled(if: !CUDADriverTests.hasDriver, "this machine has a CUDA driver"))
    func noGPUIsAClearError() {
        let x = fvector("x")
        let e = #expect(throws: TheanoError.self) {
            _ = try function(inputs: [x], outputs: [exp(x)], mode: .fastRun.on(.cuda(0)))
        }
        #expect(e?.description.contains("libcuda.so.1") == true, "\(String(describing: e))")
    }

    @Test("fused chains, broadcasts and sums give the CPU's results", .enabled(if: hasCompiler))
    func resultsMatchTheCPU() throws {
        let x = fmatrix("x")
        let b = fvector("b")
        let d = dvector("d")
        let outputs = [exp(-x) * tanh(x) + x * x, softsign(x + b), sum(sigmoid(x) * 3), mean(x * x)]
        var rng = SplitMix64(seed: 5)
        let xv = try NDArray.uniform([7, 33], in: -3...3, dtype: .float32, using: &rng)
        let bv = try NDArray.uniform([33], in: -1...1, dtype: .float32, using: &rng)
        let cpu = try function(inputs: [x, b], outputs: outputs)(xv, bv)
        let device = try function(inputs: [x, b], outputs: outputs, mode: Self.sim)(xv, bv)
        for (got, want) in zip(device, cpu) {
            #expect(got.shape == want.shape && got.dtype == want.dtype)
            for (u, v) in zip(got.doubles, want.doubles) { #expect(abs(u - v) <= 1e-5 + 1e-5 * abs(v), "\(u) \(v)") }
        }
        // A transposed (strided) input takes the strided kernel.
        let dv = try NDArray.uniform([5], in: -2...2, dtype: .float64, using: &rng)
        let f = try function(inputs: [x, d], outputs: [cast(x, .float64).T * 2 + d[0]], mode: Self.sim)
        let g = try function(inputs: [x, d], outputs: [cast(x, .float64).T * 2 + d[0]])
        #expect(try f(xv, dv)[0].doubles == g(xv, dv)[0].doubles)
    }

    @Test(
        "a call uploads its input once, launches once per composite; its output comes back when read",
        .enabled(if: hasCompiler))
    func transfersAndLaunchesAreCounted() throws {
        let x = fvector("x")
        let f = try function(inputs: [x], outputs: [exp(x) * 2 + 1], mode: Self.sim)
        let xv = try NDArray([1, 2, 3] as [Float])
        let mine = SimulatedDevice.Tally()
        let (y, inCall) = try SimulatedDevice.$tally.withValue(mine) {
            let y = try f(xv)[0]
            let inCall = mine.counters
            _ = y.doubles
            return (y, inCall)
        }
        #expect(inCall == DeviceCounters(uploads: 1, launches: 1, uploadedBytes: 12), "\(inCall)")
        let want: [Float] = [1, 2, 3].map { (v: Float) -> Float in 2 * expf(v) + 1 }
        #expect(zip(y.doubles, want).allSatisfy { abs(Float($0) - $1) <= 1e-5 * abs($1) }, "\(y)")
        let traffic = DeviceCounters(uploads: 1, downloads: 1, launches: 1, uploadedBytes: 12, downloadedBytes: 12)
        #expect(mine.counters == traffic, "\(mine.counters)")
    }

    @Test("a sum over axes runs as the device's reduction kernel", .enabled(if: hasCompiler))
    func axisReductionsRunOnTheDevice() throws {
        let x = dtensor3("x")
        let outputs = [sum(x, axis: 1), max(x, axis: [1, 2]), prod(x, axis: [0, 1])]
        let f = try function(inputs: [x], outputs: outputs, mode: Self.sim)
        #expect(f.program.steps.filter { $0.kernel is ReduceDeviceKernel }.count == 3)
        var rng = SplitMix64(seed: 9)
        let xv = try NDArray.uniform([3, 5, 4], in: -2...2, dtype: .float64, using: &rng)
        let mine = SimulatedDevice.Tally()
        let got = try SimulatedDevice.$tally.withValue(mine) { try f(xv) }
        let want = try function(inputs: [x], outputs: outputs, mode: .fastCompile)(xv)
        #expect(mine.counters.launches == 3)
        #expect(got[2].doubles == want[2].doubles)
        #expect(zip(got[0].doubles, want[0].doubles).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })
        #expect(got[1].doubles == want[1].doubles && got[1].shape == [3])
        // argmax and argmin, ties and NaN included, as the reference gives them.
        let m = dmatrix("m")
        let g = try function(inputs: [m], outputs: [argmax(m, axis: 1), argmin(m, axis: 0), argmax(m)], mode: Self.sim)
        #expect(g.program.steps.filter { $0.kernel is ArgReduceDeviceKernel }.count == 3)
        let mv = try NDArray([3, 1, 3, .nan, 2, -5, 0, 0, 7] as [Double], shape: [3, 3])
        let r = try g(mv)
        // Rows: 0, the NaN, 2; columns' minima: the NaN, the 0, the −5; overall: the NaN.
        #expect(r.map(\.doubles) == [[0, 0, 2], [1, 2, 1], [3]], "\(r)")
    }
}
