import Foundation
import NDArray
import Testing
import TheanoTestSupport

@testable import Theano

/// conv2d (its three roles) and pool2d (forward and gradient) on the simulated device, against
/// the reference, over the geometries the CPU supports.
@Suite(.serialized, .enabled(if: NativeCompiler.shared != nil))
struct ImageKernelTests {
    static let sim = Mode.fastRun.on(.simulatedCUDA)

    /// Outputs and the gradients of their sum with respect to `inputs`, on the device and in the
    /// reference, for float64 values: the largest difference.
    func compare(_ inputs: [Variable], _ output: Variable, _ values: [NDArray]) throws -> (Double, Function) {
        let cost = sum(output * output)
        let outputs = [output] + (try grad(cost, wrt: inputs))
        let device = try function(inputs: inputs, outputs: outputs, mode: Self.sim)
        let got = try device.call(values)
        let want = try function(inputs: inputs, outputs: outputs, mode: .fastCompile).call(values)
        var worst = 0.0
        for (g, w) in zip(got, want) {
            #expect(g.shape == w.shape)
            for (u, v) in zip(g.doubles, w.doubles) { worst = max(worst, abs(u - v) / max(1, abs(v))) }
        }
        return (worst, device)
    }

    @Test(
        "conv2d and its gradients match the reference",
        arguments: [
            (BorderMode.valid, (1, 1), (1, 1), true), (.full, (1, 1), (1, 1), true), (.half, (2, 2), (1, 1), false),
            (.padding(1, 2), (1, 2), (2, 1), true)
        ])
    func convolution(_ border: BorderMode, _ stride: (Int, Int), _ dilation: (Int, Int), _ flip: Bool) throws {
        var rng = SplitMix64(seed: 21)
        let x = dtensor4("x")
        let w = dtensor4("w")
        let xv = try NDArray.uniform([2, 3, 7, 6], in: -1...1, dtype: .float64, using: &rng)
        let wv = try NDArray.uniform([4, 3, 3, 2], in: -1...1, dtype: .float64, using: &rng)
        let y = conv2d(x, w, border: border, stride: stride, dilation: dilation, filterFlip: flip)
        let (worst, f) = try compare([x, w], y, [xv, wv])
        #expect(worst <= 1e-12, "\(border) \(stride) \(dilation) \(flip): \(worst)")
        // The forward convolution and both gradients ran on the device.
        #expect(f.program.steps.filter { $0.kernel is ImageDeviceKernel }.count == 3)
    }

    @Test(
        "pool2d and its gradient match the reference",
        arguments: [
            (PoolMode.max, (2, 2), nil as (Int, Int)?, (0, 0), true), (.max, (3, 2), (2, 1), (1, 1), true),
            (.max, (3, 3), (2, 2), (0, 0), false), (.averageIncludingPad, (3, 2), (2, 2), (1, 1), true),
            (.averageExcludingPad, (2, 3), (1, 2), (1, 1), true), (.averageIncludingPad, (3, 3), nil, (0, 0), false)
        ])
    func pooling(
        _ mode: PoolMode, _ window: (Int, Int), _ stride: (Int, Int)?, _ padding: (Int, Int), _ ignore: Bool
    )
        throws
    {
        var rng = SplitMix64(seed: 22)
        let x = dtensor4("x")
        let xv = try NDArray.uniform([2, 3, 7, 8], in: -1...1, dtype: .float64, using: &rng)
        let y = pool2d(x, window: window, ignoreBorder: ignore, stride: stride, padding: padding, mode: mode)
        let (worst, f) = try compare([x], y, [xv])
        #expect(worst <= 1e-12, "\(mode) \(window) \(String(describing: stride)) \(padding) \(ignore): \(worst)")
        #expect(f.program.steps.filter { $0.kernel is ImageDeviceKernel }.count == 2)
    }

    @Test("max pooling's second derivatives (its gradient's own gradient) match the reference")
    func maxPoolingSecondOrder() throws {
        var rng = SplitMix64(seed: 25)
        let x = dtensor4("x")
        let r = dtensor4("r")
        let gx = try grad(sum(pool2d(x, window: (2, 2)) ** 2), wrt: x)
        let second = try grad(sum(gx * r), wrt: x)
        let xv = try NDArray.uniform([1, 2, 4, 6], in: -1...1, dtype: .float64, using: &rng)
        let rv = try NDArray.uniform([1, 2, 4, 6], in: -1...1, dtype: .float64, using: &rng)
        let f = try function(inputs: [x, r], outputs: [second], mode: Self.sim)
        #expect(
            f.program.steps.contains {
                "\($0.node.op)".hasPrefix("MaxPool2dGradGrad") && $0.kernel is ImageDeviceKernel
            })
        let want = try function(inputs: [x, r], outputs: [second], mode: .fastCompile)(xv, rv)[0]
        #expect(try f(xv, rv)[0].doubles == want.doubles)
    }

    @Test("max pooling's gradient goes to the first maximum of each window and to a NaN")
    func maxPoolingTiesAndNaN() throws {
        let x = dtensor4("x")
        let y = pool2d(x, window: (2, 2))
        let g = try grad(sum(y), wrt: x)
        let f = try function(inputs: [x], outputs: [y, g], mode: Self.sim)
        let r = try f(try NDArray([1, 1, 2, .nan, 1, 1, 0, 5] as [Double], shape: [1, 1, 2, 4]))
        #expect(r[0].doubles[0] == 1 && r[0].doubles[1].isNaN)
        #expect(r[1].doubles.map { $0 } == [1, 0, 0, 1, 0, 0, 0, 0])
    }
}

/// Advanced indexing on the simulated device: gathers, and increments with repeated indices.
@Suite(.serialized, .enabled(if: NativeCompiler.shared != nil))
struct IndexKernelTests {
    @Test("gathers, sets and increments (repeated indices add up) match the reference; bad indices throw")
    func advancedIndexing() throws {
        var rng = SplitMix64(seed: 23)
        let x = dmatrix("x")
        let i = lvector("i")
        let v = dmatrix("v")
        let outputs = [
            x[i], x[0..., 1...][i], incSubtensor(x[i], v), setSubtensor(x[i], v), x.T[i],
            try grad(sum(x[i] * x[i]), wrt: x)
        ]
        let f = try function(inputs: [x, i, v], outputs: outputs, mode: .fastRun.on(.simulatedCUDA))
        #expect(f.program.steps.filter { $0.kernel is IndexDeviceKernel }.count >= 4)
        let xv = try NDArray.uniform([5, 4], in: -1...1, dtype: .float64, using: &rng)
        let iv = try NDArray([3, 0, 3, -1] as [Int64])
        let vv = try NDArray.uniform([4, 4], in: -1...1, dtype: .float64, using: &rng)
        let got = try f(xv, iv, vv)
        let want = try function(inputs: [x, i, v], outputs: outputs, mode: .fastCompile)(xv, iv, vv)
        expectClose(got, want, tolerance: 1e-12)
        let e = #expect(throws: TheanoError.self) { _ = try f(xv, try NDArray([0, 5] as [Int64]), vv) }
        #expect(e?.description.contains("out of bounds") == true, "\(String(describing: e))")
    }

    @Test("concatenation and basic increments and sets match the reference")
    func concatenationAndBasicIncrements() throws {
        var rng = SplitMix64(seed: 24)
        let x = dmatrix("x")
        let y = dmatrix("y")
        let v = dvector("v")
        let outputs = [
            concatenate([x, y], axis: 0), concatenate([x, y.T[0..<3], y], axis: 0),
            concatenate([x, y.T[0..<4]], axis: 1),
            incSubtensor(x[1..<3], v), setSubtensor(x[0..., 1], v[0..<4]), try grad(sum(x[1..<3] * x[1..<3]), wrt: x)
        ]
        let f = try function(inputs: [x, y, v], outputs: outputs, mode: .fastRun.on(.simulatedCUDA))
        #expect(f.program.steps.filter { $0.kernel is JoinDeviceKernel }.count == 3)
        #expect(f.program.steps.filter { $0.kernel is IncSubtensorDeviceKernel }.count >= 2)
        let xv = try NDArray.uniform([4, 5], in: -1...1, dtype: .float64, using: &rng)
        let yv = try NDArray.uniform([5, 5], in: -1...1, dtype: .float64, using: &rng)
        let vv = try NDArray.uniform([5], in: -1...1, dtype: .float64, using: &rng)
        let got = try f(xv, yv, vv)
        let want = try function(inputs: [x, y, v], outputs: outputs, mode: .fastCompile)(xv, yv, vv)
        expectClose(got, want, tolerance: 0)
        let e = #expect(throws: TheanoError.self) { _ = try f(xv, try NDArray.zeros([5, 4], dtype: .float64), vv) }
        #expect(e?.description.contains("Join") == true, "\(String(describing: e))")
    }
}
