import Foundation
import NDArray
import Testing

@testable import Theano

/// Runs `outputs` in FAST_RUN (fused, native) and in the unoptimized reference mode on the same
/// arguments; returns both results.
func nativeAndReference(_ inputs: [Variable], _ outputs: [Variable], _ args: [NDArray]) throws -> ([NDArray], [NDArray])
{
    let fast = try function(inputs: inputs, outputs: outputs, mode: .fastRun)
    let ref = try function(inputs: inputs, outputs: outputs, mode: .unoptimized)
    return (try fast.call(args), try ref.call(args))
}

@Suite("Native elementwise kernels")
struct NativeKernelTests {
    @Test("fusion turns an elementwise expression into one native composite", arguments: [DType.float32, .float64])
    func fusedExpression(dtype: DType) throws {
        let a = vector("a", dtype: dtype)
        let y = exp(-a) * tanh(a) + a ** 2
        let f = try function(inputs: [a], outputs: [y])
        let lines = f.graphDescription.split(separator: "\n").filter { $0.contains("Composite") }
        #expect(lines.count == 1, "\(f.graphDescription)")
        #expect(f.program.steps.count == 1)
        #expect(f.program.steps.first?.kernel != nil, "no native kernel: is a C compiler installed?")
        let x = try array((0..<1000).map { Double($0) / 50 - 10 }, [1000], dtype)
        let (got, want) = try nativeAndReference([a], [y], [x])
        expectClose(got[0], want[0], rtol: dtype == .float32 ? 1e-5 : 1e-13)
    }
}

/// Every scalar op, for the dtype sweep.
let allScalarOps: [any ScalarOp] = [
    Abs(), Add(), And(), Cast(.int8), Cast(.uint8), Cast(.int64), Cast(.float32), Cast(.bool), Ceil(), Clip(), Cos(),
    EQ(), Exp(), Expm1(), Floor(), GE(), GT(), IntDiv(), IsInf(), IsNan(), LE(), LT(), Log(), Log1p(),
    Maximum(), Minimum(), Mod(), Mul(), NEQ(), Neg(), Not(), Or(), Pow(), Reciprocal(), Relu(), Round(),
    Sigmoid(), Sign(), Sin(), Softplus(), Sqr(), Sqrt(), Sub(), Switch(), Tanh(), TrueDiv(), Xor()
]

/// Values with the edge cases of each dtype: signed zeros, infinities, NaN, integer bounds.
func edgeValues(_ dtype: DType, count: Int, seed: UInt64) throws -> NDArray {
    var rng = SplitMix64(seed: seed)
    let specials: [Double]
    switch dtype {
    case .float32, .float64:
        specials = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, 0.5, -2.5, 3, 1e30, -1e-30, 88, -100]
    case .bool: specials = [0, 1]
    case .uint8: specials = [0, 1, 255, 128, 2]
    case .int8: specials = [0, 1, -1, 127, -128, 2, -3]
    case .int16: specials = [0, 1, -1, 32767, -32768, 5]
    case .int32: specials = [0, 1, -1, 2_147_483_647, -2_147_483_648, 7]
    case .int64: specials = [0, 1, -1, 9.2e18, -9.2e18, 9, -4]
    }
    let values = (0..<count).map { i -> Double in
        let r = Double(rng.next() % 10_000) / 100 - 50
        if i % 3 == 0 { return specials[Int(rng.next() % UInt64(specials.count))] }
        return dtype.isFloat ? r : (dtype == .bool ? Double(Int(r) & 1) : r.rounded())
    }
    return try NDArray(values, shape: [count]).cast(to: dtype)
}

extension NativeKernelTests {
    /// The generated C computes what the reference ops compute, for every op and dtype, edge
    /// values included.
    @Test(
        "every scalar op in every dtype",
        arguments: [DType.float32, .float64, .int8, .uint8, .int16, .int32, .int64, .bool])
    func everyOpEveryDType(dtype: DType) throws {
        var failures: [String] = []
        for (n, op) in allScalarOps.enumerated() {
            let inputs = (0..<op.arity).map { tensor(dtype, shape: [nil], name: "x\($0)") }
            if (try? op.dtypes(inputs.map(\.dtype))) == nil { continue }
            let y = applyScalar(op, inputs)
            let args = try (0..<op.arity).map { try edgeValues(dtype, count: 301, seed: UInt64(n * 10 + $0)) }
            let fast = try function(inputs: inputs, outputs: [y], mode: .fastRun)
            guard fast.program.steps.allSatisfy({ $0.kernel != nil }) else {
                failures.append("\(op): not native")
                continue
            }
            let got = try fast.call(args)[0]
            let want = try function(inputs: inputs, outputs: [y], mode: .unoptimized).call(args)[0]
            let tolerance: Double = got.dtype == .float32 ? 1e-6 : 1e-14
            if let problem = close(got, want, rtol: tolerance, atol: 0) {
                failures.append("\(op)(\(dtype)): \(problem)")
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test("broadcast, strided, transposed, 0-d and empty operands")
    func layouts() throws {
        let m = dmatrix("m")
        let v = dvector("v")
        let c = tensor(.float64, shape: [nil, 1], name: "c")
        let s = dscalar("s")
        let y = tanh(m * v + c) - s * exp(-m)
        let base = try array((0..<(37 * 29)).map { sin(Double($0)) }, [37, 29])
        let cases: [(String, NDArray, NDArray, NDArray)] = [
            (
                "contiguous", base, try array((0..<29).map { Double($0) / 29 }, [29]),
                try array((0..<37).map { Double($0) / 37 }, [37, 1])
            ),
            (
                "transposed", try base.sliced([.range(start: 0, stop: 29, step: 1)]).transposed(),
                try base.sliced([.at(3)]),
                try array((0..<29).map { Double($0) }, [29, 1])
            ),
            (
                "stepped",
                try base.sliced([.range(start: nil, stop: nil, step: 2), .range(start: nil, stop: nil, step: 3)]),
                try array((0..<10).map { Double($0) }, [10]),
                try array((0..<19).map { -Double($0) }, [19, 1])
            ),
            ("empty", try array([], [0, 29]), try array((0..<29).map { Double($0) }, [29]), try array([], [0, 1]))
        ]
        for (name, mv, vv, cv) in cases {
            let (got, want) = try nativeAndReference([m, v, c, s], [y], [mv, vv, cv, try array([0.25], [])])
            expectClose(got[0], want[0], rtol: 1e-14, atol: 1e-15, name)
        }
        // Large enough to be split across threads, through a non-contiguous view.
        let big = try array((0..<(1000 * 700)).map { Double($0 % 977) / 977 }, [1000, 700])
        let (got, want) = try nativeAndReference(
            [m, v, c, s], [y],
            [
                big.transposed(), try array((0..<1000).map { Double($0) / 1000 }, [1000]),
                try array((0..<700).map { Double($0) }, [700, 1]), try array([2], [])
            ])
        expectClose(got[0], want[0], rtol: 1e-14, atol: 1e-15, "threaded")
    }

    @Test("mixed dtypes and bool masks inside one fused kernel")
    func mixedDTypes() throws {
        let x = fvector("x")
        let k = tensor(.int8, shape: [nil], name: "k")
        let y = select(gt(x, 0), x * k, cast(k, .float32) / 3) + cast(isnan(x), .float32)
        let f = try function(inputs: [x, k], outputs: [y])
        #expect(f.program.steps.count == 1 && f.program.steps[0].kernel != nil, "\(f.graphDescription)")
        let xs = try edgeValues(.float32, count: 500, seed: 7)
        let ks = try edgeValues(.int8, count: 500, seed: 8)
        let want = try function(inputs: [x, k], outputs: [y], mode: .unoptimized).call([xs, ks])[0]
        expectClose(try f.call([xs, ks])[0], want, rtol: 1e-6, atol: 0)
    }

    @Test("fusion: chains fuse, shared values become extra outputs, constants are inlined, no cycles")
    func fusionStructure() throws {
        let x = dvector("x")
        let shared = exp(x)
        let f = try function(inputs: [x], outputs: [shared * 2 + 1, sum(shared)])
        let composites = f.program.steps.compactMap { $0.node.op as? Composite }
        // exp(x) is also read by the sum: it is an extra output of the same kernel, computed once.
        #expect(composites.count == 1 && composites[0].outputs.count == 2, "\(f.graphDescription)")
        #expect(composites[0].description == "Composite{Add(Mul(Exp(i0), 2.0), 1.0), Exp(i0)}", "\(composites[0])")
        let r = try f([0, 1])
        #expect(r[0].doubles == [3, 2 * M_E + 1] && abs(r[1].doubles[0] - (1 + M_E)) < 1e-15)
        // y·Σy: the sum reads y and feeds the product, so y cannot join the product's kernel.
        let y = exp(x)
        let g = try function(inputs: [x], outputs: [y * sum(y)])
        #expect(try g([0, 0])[0].doubles == [2, 2])
        #expect(g.program.steps.filter { $0.node.op is Composite }.count == 2, "\(g.graphDescription)")
        // A value whose shape may differ from the group's (a broadcast operand) stays separate.
        let m = dmatrix("m")
        let h = try function(inputs: [x, m], outputs: [exp(x) * m, exp(x)])
        #expect(h.program.steps.filter { $0.node.op is Composite }.count == 2, "\(h.graphDescription)")
        let hv = try h([0, 0], try array([1, 2, 3, 4], [2, 2]))
        #expect(hv[0].doubles == [1, 2, 3, 4] && hv[1].doubles == [1, 1])
        let plain = try function(inputs: [x], outputs: [shared * 2 + 1], mode: .fastCompile)
        #expect(!plain.program.steps.contains { $0.node.op is Composite })
    }
}

/// A scalar op applied to variables (opening the existential).
func applyScalar(_ op: any ScalarOp, _ inputs: [Variable]) -> Variable {
    func open<S: ScalarOp>(_ s: S) -> Variable { Apply.make(Elemwise(s), inputs).outputs[0] }
    return open(op)
}

extension NativeKernelTests {
    @Test(
        "elementwise work feeding a full sum or mean is one accumulating kernel", arguments: [DType.float32, .float64])
    func fusedReductions(dtype: DType) throws {
        let x = tensor(dtype, shape: [nil, nil], name: "x")
        let l2 = sum(x ** 2)
        let centred = mean(exp(-x) * 3)
        let f = try function(inputs: [x], outputs: [l2, centred])
        let kinds = f.program.steps.map { "\($0.node.op)" }
        // (The constant factor leaves the mean first: constant_out_of_sum.)
        #expect(
            kinds == ["Composite{Sum(Sqr(i0))}", "Composite{Mean(Exp(Neg(i0)))}", "Composite{Mul(3.0, i0)}"], "\(kinds)"
        )
        for (rows, cols) in [(3, 5), (700, 1000), (0, 4)] {
            let v = try array((0..<(rows * cols)).map { sin(Double($0)) }, [rows, cols], dtype)
            let (got, want) = try nativeAndReference([x], [l2, centred], [v])
            for (g, w) in zip(got, want) {
                #expect(g.dtype == w.dtype && g.shape == [])
                let (a, b) = (g.doubles[0], w.doubles[0])
                #expect(
                    a == b || abs(a - b) <= (dtype == .float32 ? 1e-6 : 1e-12) * abs(b) || (a.isNaN && b.isNaN),
                    "\(rows)×\(cols): \(a) vs \(b)")
            }
        }
        // A value also used elsewhere is still computed once, as an array.
        let both = try function(inputs: [x], outputs: [sum(x ** 2), x ** 2])
        #expect(!both.program.steps.contains { ($0.node.op as? Composite)?.reduction != nil })
    }
}

extension NativeKernelTests {
    @Test("the small-array fast path keeps broadcasting's shapes and strides")
    func flatPathShapes() throws {
        let v = dvector("v")
        let s = tensor(.float64, shape: [1, 1], name: "s")
        let w = dvector("w")
        let f = try function(inputs: [v, s, w], outputs: [v * s + w])
        let r = try f([1, 2, 3], try array([2], [1, 1]), [10, 20, 30])[0]
        #expect(r.shape == [1, 3] && r.doubles == [12, 24, 36])
        // A vector that turns out to hold one element broadcasts against the other.
        let r2 = try f([5], try array([1], [1, 1]), [1, 2, 3])[0]
        #expect(r2.shape == [1, 3] && r2.doubles == [6, 7, 8])
        let r3 = try f([1, 2], try array([3], [1, 1]), [4])[0]
        #expect(r3.doubles == [7, 10])
    }
}

extension NativeKernelTests {
    @Test("denormals flush to zero in float32 kernels only when asked")
    func flushDenormals() throws {
        let x = fvector("x")
        let y = x * 1e-30
        let ieee = try function(inputs: [x], outputs: [y])
        let flushing = try function(inputs: [x], outputs: [y], mode: .fastRun.flushingDenormals())
        let v = try NDArray([1e-10, 1, 2e-12] as [Float])
        let a = try ieee(v)[0].scalars(as: Float.self)
        let b = try flushing(v)[0].scalars(as: Float.self)
        #expect(a[0] > 0 && a[0] < Float.leastNormalMagnitude && a[2] > 0, "IEEE keeps denormal results: \(a)")
        #expect(b[0] == 0 && b[2] == 0 && b[1] == 1e-30, "flushed: \(b)")
        // Denormal inputs count as zero too.
        let d = try NDArray([Float.leastNormalMagnitude / 4, 1] as [Float])
        let z = try function(inputs: [x], outputs: [x * 2], mode: .fastRun.flushingDenormals())(d)[0].scalars(
            as: Float.self)
        #expect(z == [0, 2])
    }
}

extension NativeKernelTests {
    @Test(
        "native reductions and arg-reductions agree with the reference, NaN and ties included",
        arguments: [DType.float32, .float64])
    func nativeReductions(dtype: DType) throws {
        let x = tensor(dtype, shape: [nil, nil, nil], name: "x")
        // 4·5·6, repeated values: ties
        var values: [Double] = (0..<120).map { (i: Int) -> Double in Double((i * 7) % 11) - 5 }
        values[17] = .nan
        values[40] = -.infinity
        let v = try array(values, [4, 5, 6], dtype)
        var outputs: [Variable] = []
        for axes in [[0], [1], [2], [0, 1], [1, 2], [0, 1, 2]] as [[Int]] {
            outputs += [
                sum(x, axis: Axes(axes)), mean(x, axis: Axes(axes)), max(x, axis: Axes(axes)), min(x, axis: Axes(axes))
            ]
        }
        for axis in [0, 1, 2] as [Int] { outputs += [argmax(x, axis: axis), argmin(x, axis: axis)] }
        outputs += [argmax(x), argmin(x)]
        let f = try function(inputs: [x], outputs: outputs)
        #expect(f.program.steps.filter { $0.kernel != nil }.count == outputs.count, "\(f.graphDescription)")
        let (got, want) = try nativeAndReference([x], outputs, [v])
        for (k, (g, w)) in zip(got, want).enumerated() {
            expectClose(g, w, rtol: dtype == .float32 ? 1e-6 : 1e-14, atol: 0, "output \(k)")
        }
    }
}

extension NativeKernelTests {
    /// A gradient summed back to its input's run-time shape (leading axes, broadcast axes, both,
    /// none) through the native reduction, against the reference.
    @Test("ReduceTo runs the native reduction", arguments: [DType.float32, .float64])
    func nativeReduceTo(dtype: DType) throws {
        let x = tensor(dtype, shape: [nil, nil, nil], name: "x")
        let s = lvector("s")
        let r = apply1(ReduceTo(staticShape: [nil, nil]), [x, s])
        let f = try function(inputs: [x, s], outputs: [r])
        #expect(f.program.steps.contains { $0.node.op is ReduceTo && $0.kernel != nil })
        let v = try array((0..<120).map { Double(($0 * 7) % 11) - 5.25 }, [4, 5, 6], dtype)
        for target in [[5, 6], [1, 6], [5, 1], [1, 1]] as [[Int]] {
            let (got, want) = try nativeAndReference([x, s], [r], [v, try array(target.map(Double.init), [2], .int64)])
            #expect(got[0].shape == target)
            expectClose(got[0], want[0], rtol: dtype == .float32 ? 1e-6 : 1e-14, atol: 0, "target \(target)")
        }
        // Already the target shape: the gradient itself.
        let same = try array([4, 5, 6].map(Double.init), [3], .int64)
        let y = apply1(ReduceTo(staticShape: [nil, nil, nil]), [x, s])
        #expect(try function(inputs: [x, s], outputs: [y])(v, same)[0].doubles == v.doubles)
    }
}
