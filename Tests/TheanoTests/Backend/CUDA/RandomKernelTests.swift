import Foundation
import NDArray
import Testing

@testable import Theano

/// Random draws on the simulated device: the same Philox words and arithmetic as the CPU, so the
/// same numbers, call after call.
@Suite(.serialized, .enabled(if: NativeCompiler.shared != nil))
struct RandomKernelTests {
    /// Two calls of uniform, normal, binomial and choice draws in both float dtypes.
    static func draws(_ mode: Mode) throws -> [[Double]] {
        let srng = RandomStreams(seed: 42)
        var outputs: [Variable] = []
        for d in [DType.float32, .float64] {
            outputs += [
                srng.uniform([3, 5], low: -2.0, high: 3.0, dtype: d), srng.normal([7], mean: 1.0, std: 2.0, dtype: d),
                srng.binomial([6], n: 5, p: 0.3, dtype: d)
            ]
        }
        let f = try function(inputs: [], outputs: outputs + [cast(srng.choice([4], from: 10), .float64)], mode: mode)
        if mode.device == .simulatedCUDA {
            #expect(f.program.steps.filter { $0.kernel is RandomDeviceKernel }.count == 6)
        }
        return try (0..<2).flatMap { _ in try f().map(\.doubles) }
    }

    @Test("uniform, normal and binomial draws are the CPU's numbers, call after call")
    func drawsMatchTheCPU() throws {
        let device = try Self.draws(.fastRun.on(.simulatedCUDA))
        let cpu = try Self.draws(.fastRun)
        #expect(device == cpu)
        // The second call draws other numbers (the state moved on).
        #expect(device[0] != device[7])
    }

    /// Draws whose parameters are arrays: Gibbs sampling's probabilities (computed on the device),
    /// and a low bound and a mean that broadcast.
    static func arrayDraws(_ mode: Mode) throws -> [[Double]] {
        let srng = RandomStreams(seed: 9)
        let v = dmatrix("v")
        let W = shared(try NDArray((0..<12).map { Double($0) / 6 - 1 }, shape: [4, 3]), name: "W")
        let mean = sigmoid(dot(v, W))
        let low = dvector("low")
        let outputs = [
            srng.binomial(mean.shape, p: mean, dtype: .float64),
            srng.uniform([2, 3], low: low, high: 5.0, dtype: .float64),
            srng.normal([2, 3], mean: low, std: 0.5, dtype: .float64)
        ]
        let f = try function(inputs: [v, low], outputs: outputs, mode: mode)
        if mode.device == .simulatedCUDA {
            #expect(f.program.steps.filter { $0.kernel is RandomDeviceKernel }.count == 3)
        }
        let values: [Double] = (0..<20).map { (i: Int) -> Double in Double(i % 7) / 3 - 1 }
        let vv = try NDArray(values, shape: [5, 4])
        let lv = try NDArray([-1, 0, 2] as [Double])
        return try (0..<2).flatMap { _ in try f(vv, lv).map(\.doubles) }
    }

    @Test("draws with array parameters (a sigmoid's probabilities, broadcast bounds) are the CPU's numbers")
    func arrayParametersMatchTheCPU() throws {
        #expect(try Self.arrayDraws(.fastRun.on(.simulatedCUDA)) == Self.arrayDraws(.fastRun))
    }
}
