import Foundation
import NDArray
import Testing

@testable import Theano

/// conv2d and pool2d: values against scipy/numpy fixtures (Fixtures/generate_conv.py) and a
/// direct nested-loop convolution, gradients with `verifyGrad` (first and second order), shapes
/// and errors.
struct ConvTests {
    static let data: [String: NDArray] = {
        guard let url = Bundle.module.url(forResource: "conv", withExtension: "npz", subdirectory: "Fixtures"),
            let f = try? NPZ.read(from: url)
        else { return [:] }
        return f
    }()

    typealias Conv = @Sendable (Variable, Variable) -> Variable
    /// The geometry of every conv fixture, as generate_conv.py's CONV table.
    static let convCases: [String: Conv] = [
        "valid": { conv2d($0, $1) },
        "full": { conv2d($0, $1, border: .full) },
        "half": { conv2d($0, $1, border: .half) },
        "pad_stride_corr": { conv2d($0, $1, border: .padding(2, 1), stride: (2, 3), filterFlip: false) },
        "dilated": { conv2d($0, $1, dilation: (2, 3)) },
        "stride_over_filter": { conv2d($0, $1, stride: (3, 4), filterFlip: false) },
        "full_stride_dilated": { conv2d($0, $1, border: .full, stride: (2, 1), dilation: (2, 1)) },
        "scipy_full": { conv2d($0, $1, border: .full) },
        "scipy_same": { conv2d($0, $1, border: .same) }
    ]

    typealias Pool = @Sendable (Variable) -> Variable
    static let poolCases: [String: Pool] = [
        "max_2x2": { pool2d($0, window: (2, 2)) },
        "max_odd_partial": { pool2d($0, window: (2, 2), ignoreBorder: false) },
        "max_overlap": { pool2d($0, window: (3, 3), stride: (1, 2)) },
        "max_nonsquare_pad": { pool2d($0, window: (3, 2), stride: (2, 2), padding: (1, 1)) },
        "max_stride_over_window": { pool2d($0, window: (2, 2), ignoreBorder: false, stride: (3, 4)) },
        "max_rank3_overlap_partial": { pool2d($0, window: (3, 2), ignoreBorder: false, stride: (2, 1)) },
        "avg_inc_pad": { pool2d($0, window: (3, 3), stride: (2, 2), padding: (1, 2), mode: .averageIncludingPad) },
        "avg_exc_pad": { pool2d($0, window: (3, 3), stride: (2, 2), padding: (1, 2), mode: .averageExcludingPad) },
        "avg_partial": { pool2d($0, window: (2, 3), ignoreBorder: false, stride: (2, 2), mode: .averageExcludingPad) },
        "avg_inc_partial": {
            pool2d($0, window: (2, 3), ignoreBorder: false, stride: (2, 2), mode: .averageIncludingPad)
        }
    ]

    static let modes: [Mode] = [.fastRun, .fastCompile]

    func error(_ body: () throws -> Void) -> TheanoError? {
        do {
            try body()
            return nil
        } catch { return error as? TheanoError }
    }

    @Test(arguments: convCases.keys.sorted())
    func convMatchesScipy(_ name: String) throws {
        #expect(!Self.data.isEmpty, "conv.npz fixtures missing")
        for dt in ["float64", "float32"] {
            guard let x = Self.data["conv_\(name).\(dt).x"], let w = Self.data["conv_\(name).\(dt).w"],
                let expected = Self.data["conv_\(name).\(dt).out"]
            else { continue }
            let xv = input(like: x, "x")
            let wv = input(like: w, "w")
            for mode in Self.modes {
                let f = try function(inputs: [xv, wv], outputs: [Self.convCases[name]!(xv, wv)], mode: mode)
                expectClose(
                    try f.call([x, w])[0], expected, rtol: dt == "float32" ? 1e-5 : 1e-11,
                    atol: dt == "float32" ? 1e-5 : 1e-12, "\(name) \(dt)")
            }
        }
    }

    @Test(arguments: poolCases.keys.sorted())
    func poolMatchesNumpy(_ name: String) throws {
        #expect(!Self.data.isEmpty, "conv.npz fixtures missing")
        var checked = 0
        for dt in ["float64", "float32"] {
            guard let x = Self.data["pool_\(name).\(dt).x"], let expected = Self.data["pool_\(name).\(dt).out"] else {
                continue
            }
            let xv = input(like: x, "x")
            for mode in Self.modes {
                let f = try function(inputs: [xv], outputs: [Self.poolCases[name]!(xv)], mode: mode)
                expectClose(try f.call([x])[0], expected, "\(name) \(dt)")
                checked += 1
            }
        }
        #expect(checked >= 2)
    }

    /// Direct seven-deep loop: out[n,f,i,j] = Σ x[n,c,i·s+a·d−p, j·s+b·d−p]·w[f,c,a',b'].
    static func directConv(
        _ x: NDArray, _ w: NDArray, pad: (Int, Int), stride: (Int, Int), dilation: (Int, Int), flip: Bool
    ) throws -> NDArray {
        let (B, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (F, KH, KW) = (w.shape[0], w.shape[2], w.shape[3])
        let oh = (H + 2 * pad.0 - (KH - 1) * dilation.0 - 1) / stride.0 + 1
        let ow = (W + 2 * pad.1 - (KW - 1) * dilation.1 - 1) / stride.1 + 1
        let xs = x.doubles
        let ws = w.doubles
        var out = [Double](repeating: 0, count: B * F * oh * ow)
        for n in 0..<B {
            for f in 0..<F {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var acc = 0.0
                        for c in 0..<C {
                            for a in 0..<KH {
                                for b in 0..<KW {
                                    let y = i * stride.0 + a * dilation.0 - pad.0
                                    let z = j * stride.1 + b * dilation.1 - pad.1
                                    guard y >= 0, y < H, z >= 0, z < W else { continue }
                                    let (fa, fb) = flip ? (KH - 1 - a, KW - 1 - b) : (a, b)
                                    acc += xs[((n * C + c) * H + y) * W + z] * ws[((f * C + c) * KH + fa) * KW + fb]
                                }
                            }
                        }
                        out[((n * F + f) * oh + i) * ow + j] = acc
                    }
                }
            }
        }
        return try NDArray(out, shape: [B, F, oh, ow])
    }

    @Test func convMatchesTheDirectLoopOverManyGeometries() throws {
        var seed: UInt64 = 10
        // (x shape, w shape, padding, stride, dilation, flip): odd sizes, batch 1, non-square
        // filters, stride larger than the filter, and batches large enough to group images.
        let configs: [([Int], [Int], (Int, Int), (Int, Int), (Int, Int), Bool)] = [
            ([1, 1, 5, 5], [1, 1, 5, 5], (0, 0), (1, 1), (1, 1), true),
            ([3, 2, 9, 7], [4, 2, 2, 3], (1, 0), (1, 2), (1, 1), true),
            ([1, 3, 8, 11], [2, 3, 3, 1], (2, 3), (3, 3), (2, 1), false),
            ([2, 1, 6, 6], [3, 1, 1, 1], (0, 0), (4, 5), (1, 1), true),
            ([40, 2, 6, 5], [3, 2, 3, 2], (1, 1), (1, 1), (1, 1), true)
        ]
        for (xs, wsh, pad, stride, dil, flip) in configs {
            let x = GradTests.rand(xs, seed: seed)
            let w = GradTests.rand(wsh, seed: seed + 1)
            seed += 2
            let xv = input(like: x, "x")
            let wv = input(like: w, "w")
            let y = conv2d(xv, wv, border: .padding(pad.0, pad.1), stride: stride, dilation: dil, filterFlip: flip)
            let got = try function(inputs: [xv, wv], outputs: [y]).call([x, w])[0]
            expectClose(
                got, try Self.directConv(x, w, pad: pad, stride: stride, dilation: dil, flip: flip), "\(xs) \(wsh)")
        }
    }

    /// The native direct loops (few channels, stride 1) against the nested loop and, in DEBUG
    /// mode, against the im2col reference node by node: rows wider than one vector and narrower,
    /// more than 8 filters and filter columns (the kernels' blocks), every border, both flips,
    /// both element types, and a gradient through them.
    @Test func directConvolutionKernelsAgreeWithTheReference() throws {
        var seed: UInt64 = 40
        let configs: [([Int], [Int], BorderMode, Bool)] = [
            ([2, 1, 40, 37], [6, 1, 7, 7], .valid, true),
            ([3, 2, 9, 21], [11, 2, 3, 10], .valid, false),
            ([1, 4, 17, 16], [9, 4, 5, 4], .full, true),
            ([2, 3, 12, 33], [3, 3, 3, 3], .half, true),
            ([1, 1, 5, 6], [2, 1, 2, 9], .padding(1, 4), false)
        ]
        for (xs, wsh, border, flip) in configs {
            for dtype in [DType.float64, .float32] {
                let x = GradTests.rand(xs, seed: seed).cast(to: dtype)
                let w = GradTests.rand(wsh, seed: seed + 1).cast(to: dtype)
                seed += 2
                let xv = input(like: x, "x")
                let wv = input(like: w, "w")
                let y = conv2d(xv, wv, border: border, filterFlip: flip)
                let (gx, gw) = try grad(sum(sin(y)), wrt: xv, wv)
                let pad = ConvShape(
                    input: xs, filters: wsh,
                    geometry: ConvGeometry(border: border, stride: [1, 1], dilation: [1, 1], filterFlip: flip))
                let expected = try Self.directConv(
                    x.cast(to: .float64), w.cast(to: .float64), pad: (pad.padH, pad.padW), stride: (1, 1),
                    dilation: (1, 1), flip: flip)
                let tol = dtype == .float32 ? 1e-4 : 1e-10
                for mode in [Mode.fastRun, .debug] {
                    let out = try function(inputs: [xv, wv], outputs: [y, gx, gw], mode: mode).call([x, w])
                    expectClose(
                        out[0].cast(to: .float64), expected, rtol: tol, atol: tol,
                        "\(xs) \(wsh) \(border) \(dtype) \(mode)")
                    let reference = try function(inputs: [xv, wv], outputs: [gx, gw], mode: .fastCompile).call([x, w])
                    expectClose(out[1], reference[0], rtol: tol, atol: tol, "∂x \(xs) \(wsh) \(dtype)")
                    expectClose(out[2], reference[1], rtol: tol, atol: tol * 10, "∂w \(xs) \(wsh) \(dtype)")
                }
            }
        }
        let x = GradTests.rand([2, 1, 7, 19], seed: 3)
        let w = GradTests.rand([3, 1, 3, 5], seed: 4)
        _ = try verifyGrad({ v in sin(conv2d(v[0], v[1], border: .half)) }, at: [x, w])
    }

    /// Tiled max pooling's native kernels: wide rows, uncovered borders, ties (the first maximum
    /// alone gets the gradient) and NaN, against the reference in DEBUG mode.
    @Test func tiledMaxPoolKernelsAgreeWithTheReference() throws {
        // Three values in the first half (ties in most windows, as on MNIST's zero background).
        let count = 2 * 3 * 11 * 43
        var values: [Double] = (0..<count).map { (i: Int) -> Double in
            let levels = i < count / 2 ? 3 : 13
            return Double((i * 7919) % levels)
        }
        values[5] = .nan
        values[300] = .nan
        values[301] = .nan
        for dtype in [DType.float64, .float32] {
            let x = try NDArray(values, shape: [2, 3, 11, 43]).cast(to: dtype)
            let xv = input(like: x, "x")
            for window in [(2, 2), (5, 5), (3, 4)] {
                let p = pool2d(xv, window: window)
                let g = try grad(sum(p * Constant(NDArray(scalar: 1.5).cast(to: dtype))), wrt: [xv])[0]
                let reference = try function(inputs: [xv], outputs: [p, g], mode: .fastCompile).call([x])
                for mode in [Mode.fastRun, .debug] {
                    let out = try function(inputs: [xv], outputs: [p, g], mode: mode).call([x])
                    #expect(
                        out[0].doubles.map { $0.isNaN ? -1 : $0 } == reference[0].doubles.map { $0.isNaN ? -1 : $0 },
                        "\(window) \(dtype)")
                    #expect(out[1].doubles == reference[1].doubles, "\(window) \(dtype)")
                    // One gradient per window, however many ties it has.
                    #expect(out[1].doubles.filter { $0 != 0 }.count == reference[0].count, "\(window) \(dtype)")
                }
            }
        }
    }

    @Test(arguments: convCases.keys.sorted().filter { !$0.hasPrefix("scipy") })
    func convGradients(_ name: String) throws {
        let x = try #require(Self.data["conv_\(name).float64.x"])
        let w = try #require(Self.data["conv_\(name).float64.w"])
        let conv = Self.convCases[name]!
        // Through a nonlinearity, so that the output gradient is not constant.
        _ = try verifyGrad({ v in sin(conv(v[0], v[1])) }, at: [x, w])
    }

    @Test func convSecondDerivatives() throws {
        let x = GradTests.rand([2, 2, 6, 5], seed: 3)
        let w = GradTests.rand([3, 2, 3, 2], seed: 4)
        let r = GradTests.rand([2, 2, 6, 5], seed: 5)
        let rw = GradTests.rand([3, 2, 3, 2], seed: 6)
        var failure: (any Error)?
        // The gradient's gradient goes through gradInputs' and gradFilters' own pullbacks.
        _ = try verifyGrad(
            { v in
                let y = conv2d(v[0], v[1], border: .padding(1, 0), stride: (2, 1))
                do {
                    let (gx, gw) = try grad(sum(sin(y)), wrt: v[0], v[1])
                    return sum(gx * Constant(r)) + sum(gw * Constant(rw))
                } catch {
                    failure = error
                    return sum(v[0])
                }
            }, at: [x, w])
        #expect(failure == nil)
    }

    @Test(arguments: poolCases.keys.sorted())
    func poolGradients(_ name: String) throws {
        let x = try #require(Self.data["pool_\(name).float64.x"])
        let pool = Self.poolCases[name]!
        _ = try verifyGrad({ v in sin(pool(v[0]) * 3) }, at: [x])
    }

    @Test func poolSecondDerivatives() throws {
        let x = GradTests.rand([2, 1, 5, 6], seed: 7)
        let r = GradTests.rand([2, 1, 5, 6], seed: 8)
        for mode in [PoolMode.max, .averageIncludingPad, .averageExcludingPad] {
            var failure: (any Error)?
            _ = try verifyGrad(
                { v in
                    let p = pool2d(v[0], window: (2, 3), stride: (2, 2), padding: (1, 1), mode: mode)
                    do { return sum(try grad(sum(p * p * p), wrt: [v[0]])[0] * Constant(r)) } catch {
                        failure = error
                        return sum(v[0])
                    }
                }, at: [x])
            #expect(failure == nil, "\(mode)")
        }
    }

    @Test func maxPoolGradientGoesToTheFirstMaximumOnly() throws {
        let x = try NDArray([1, 5, 5, 2, 0, 5, 3, 1, 1] as [Double], shape: [1, 1, 3, 3])
        let xv = input(like: x, "x")
        // Overlapping 2×2 windows, stride 1: the top-left 5 is the first maximum of two windows.
        let g = try grad(sum(pool2d(xv, window: (2, 2), stride: (1, 1))), wrt: [xv])[0]
        let got = try function(inputs: [xv], outputs: [g]).call([x])[0]
        #expect(got.doubles == [0, 2, 0, 0, 0, 1, 1, 0, 0])
    }

    /// The classic tutorial's pooling example (3×2×5×5, numpy RandomState(1)) and its printed
    /// outputs.
    @Test func classicTutorialPoolingExample() throws {
        let x = try #require(Self.data["pool_tutorial.x"])
        let input = tensor4("input", dtype: .float64)
        let f = try function(inputs: [input], outputs: [pool2d(input, window: (2, 2), ignoreBorder: true)])
        let g = try function(inputs: [input], outputs: [pool2d(input, window: (2, 2), ignoreBorder: false)])
        let a = try f.call([x])[0]
        let b = try g.call([x])[0]
        #expect(a.shape == [3, 2, 2, 2])
        #expect(b.shape == [3, 2, 3, 3])
        expectClose(
            try a.sliced([.at(0), .at(0)]), try NDArray([0.72032449, 0.39676747, 0.6852195, 0.87811744], shape: [2, 2]),
            rtol: 1e-8, atol: 1e-8)
        expectClose(
            try b.sliced([.at(1), .at(0)]),
            try NDArray(
                [
                    0.67883553, 0.58930554, 0.69975836, 0.66379465, 0.94459476,
                    0.58655504, 0.90340192, 0.80739129, 0.39767684
                ], shape: [3, 3]), rtol: 1e-8, atol: 1e-8)
    }

    @Test func staticShapesAreInferred() {
        let x = tensor(.float32, shape: [500, 1, 28, 28], name: "x")
        let w = tensor(.float32, shape: [20, 1, 5, 5], name: "w")
        let c = conv2d(x, w)
        #expect(c.type.shape == [500, 20, 24, 24])
        #expect(pool2d(c, window: (2, 2)).type.shape == [500, 20, 12, 12])
        #expect(pool2d(c, window: (5, 5), ignoreBorder: false).type.shape == [500, 20, 5, 5])
        #expect(conv2d(x, w, border: .full, stride: (2, 2)).type.shape == [500, 20, 16, 16])
        #expect(conv2d(x, w, border: .half).type.shape == [500, 20, 28, 28])
        let y = tensor(.float32, shape: [nil, 1, nil, 28], name: "y")
        #expect(conv2d(y, w).type.shape == [nil, 20, nil, 24])
    }

    @Test func badConvolutionsAreClearErrors() throws {
        let x = tensor(.float32, shape: [nil, 3, 8, 8], name: "x")
        let w = tensor(.float32, shape: [4, 2, 3, 3], name: "w")
        let line = #line + 1
        let y = conv2d(x, w)
        let e = try #require(error { _ = try function(inputs: [x, w], outputs: [y]) })
        #expect(e.kind == .shape && e.op?.hasPrefix("Conv2d") == true && e.description.contains("3 channels"), "\(e)")
        #expect(e.description.contains("ConvTests.swift:\(line)"), "\(e)")

        let e2 = try #require(error { _ = try function(inputs: [x], outputs: [conv2d(x, x, stride: (0, 1))]) })
        #expect(e2.kind == .type && e2.description.contains("strides"), "\(e2)")
        let e3 = try #require(
            error { _ = try function(inputs: [x], outputs: [pool2d(x, window: (2, 2), padding: (2, 0))]) })
        #expect(e3.description.contains("smaller than the window"), "\(e3)")
        let i = tensor(.int32, shape: [nil, nil, nil, nil], name: "i")
        let e4 = try #require(error { _ = try function(inputs: [i], outputs: [conv2d(i, i)]) })
        #expect(e4.description.contains("float"), "\(e4)")
        let e5 = try #require(error { _ = try function(inputs: [x], outputs: [conv2d(x.flatten(2), w)]) })
        #expect(e5.description.contains("4-d"), "\(e5)")

        // Run-time mismatch: shapes only known at the call.
        let a = tensor4("a")
        let b = tensor4("b")
        let f = try function(inputs: [a, b], outputs: [conv2d(a, b)])
        let e6 = try #require(
            error {
                _ = try f.call([
                    try NDArray.zeros([1, 3, 5, 5], dtype: .float32), try NDArray.zeros([2, 2, 3, 3], dtype: .float32)
                ])
            })
        #expect(e6.kind == .shape && e6.description.contains("3 channels"), "\(e6)")
    }

    @Test func emptyAndFilterLargerThanImage() throws {
        let a = tensor4("a", dtype: .float64)
        let b = tensor4("b", dtype: .float64)
        let f = try function(inputs: [a, b], outputs: [conv2d(a, b)])
        let y = try f.call([
            try NDArray.zeros([2, 1, 3, 3], dtype: .float64), try NDArray.zeros([4, 1, 5, 5], dtype: .float64)
        ])[0]
        #expect(y.shape == [2, 4, 0, 0])
        let z = try f.call([
            try NDArray.zeros([0, 1, 6, 6], dtype: .float64), try NDArray.zeros([4, 1, 5, 5], dtype: .float64)
        ])[0]
        #expect(z.shape == [0, 4, 2, 2])
    }
}

extension ConvTests {
    /// Asking for the shape of a convolution's gradient does not run any convolution.
    @Test func shapesOfConvolutionsDoNotComputeThem() throws {
        let x = tensor4("x", dtype: .float64)
        let w = tensor4("w", dtype: .float64)
        let y = conv2d(x, w)
        let gx = try grad(sum(pool2d(y, window: (2, 2))), wrt: [x])[0]
        let f = try function(inputs: [x, w], outputs: [gx.shape[3], y.shape[1]])
        let kinds = f.program.steps.map { "\($0.node.op)" }
        #expect(!kinds.contains { $0.hasPrefix("Conv2d") || $0.hasPrefix("Pool2d") }, "\(kinds)")
        let out = try f.call([
            try NDArray.zeros([2, 3, 8, 8], dtype: .float64), try NDArray.zeros([5, 3, 3, 3], dtype: .float64)
        ])
        #expect(out[0].doubles == [8] && out[1].doubles == [5])
    }
}
