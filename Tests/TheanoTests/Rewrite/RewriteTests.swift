import Foundation
import NDArray
import Testing

@testable import Theano

/// The ops a compiled function runs, in order; a fused composite lists the scalar ops inside it.
func ops(_ f: Function) -> [String] {
    f.program.steps.flatMap { step -> [String] in
        if let c = step.node.op as? Composite { return c.instructions.map(\.op.description) }
        return ["\(step.node.op)"]
    }
}

struct RewriteTests {
    @Test func mergeComputesCommonSubexpressionsOnce() throws {
        let x = dvector("x")
        let f = try function(inputs: [x], outputs: [x * 2 + x * 2])
        #expect(ops(f).filter { $0 == "Mul" }.count == 1)
        #expect(try f([1, 2])[0].doubles == [4, 8])
        let unmerged = try function(inputs: [x], outputs: [x * 2 + x * 2], mode: .unoptimized)
        #expect(ops(unmerged).filter { $0 == "Mul" }.count == 2)
    }

    @Test func constantFolding() throws {
        let x = dvector("x")
        let six = constant(2, dtype: .float64) * 3  // Mul of two constants
        let f = try function(inputs: [x], outputs: [six * x])
        #expect(ops(f) == ["Mul"])
        #expect(try f([1, 2])[0].doubles == [6, 12])
    }

    @Test func canonicalizeDropsIdentities() throws {
        let x = dvector("x")
        let f = try function(inputs: [x], outputs: [-(-(x * 1 + 0)) / 1 - 0])
        #expect(ops(f).isEmpty)
        #expect(try f([3])[0].doubles == [3])
        // x·1 with a 1 that broadcasts x to a matrix is not an identity: kept.
        let widen = try function(inputs: [x], outputs: [x * constant(try NDArray.ones([2, 1], dtype: .float64))])
        #expect(ops(widen) == ["Mul"])
        #expect(try widen([1, 2, 3])[0].shape == [2, 3])
        let m = tensor(.float32, shape: [2, 3])
        let shapeOf = try function(inputs: [m], outputs: [apply1(Shape(), [m])])
        #expect(shapeOf.program.steps.isEmpty)  // known statically: nothing to compute
        #expect(try shapeOf(try NDArray.zeros([2, 3], dtype: .float32))[0].doubles == [2, 3])
    }

    /// Values built from the same operands broadcast to the same shape, whatever it is at run
    /// time; a value mixing in another operand may be wider.
    @Test func broadcastOfTheSameOperandsHasTheSameShape() throws {
        let y = fvector("y")
        let x = fmatrix("x")
        let w = fvector("w")
        let p = sigmoid(dot(x, w))
        let a = y * log(p)
        let b = (1 - y) * log(1 - p)
        let c = -(a + b)
        #expect(Canonicalize.sameShape(a, b) && Canonicalize.sameShape(a, c))
        #expect(!Canonicalize.sameShape(a, p) && !Canonicalize.sameShape(a, y))
        let fill = alloc(constant(1, dtype: .float32), [.variable(c.shape[0])])
        #expect(Canonicalize.sameShape(fill, b))
    }

    /// The tiny logistic-regression step's gradient: only the two sums back to `p`'s shape where
    /// `y` may broadcast against it stay, the sum back to the scalar bias becomes a `Sum`, and
    /// the step agrees with the unoptimised graph when `y` does broadcast (length 1 vs 4 rows).
    @Test func gradientSumsBackOnlyWhereBroadcastingCanHappen() throws {
        let x = fmatrix("x")
        let y = fvector("y")
        let w = shared(try NDArray([0.3, -0.2, 0.1] as [Float]), name: "w")
        let b = shared(0.05, dtype: .float32, name: "b")
        let p = 1 / (1 + exp(-dot(x, w) - b))
        let cost = mean(-y * log(p) - (1 - y) * log(1 - p)) + 0.01 * sum(w ** 2)
        let (gw, gb) = try grad(cost, wrt: w, b)
        let f = try function(inputs: [x, y], outputs: [gw, gb])
        let reduceTo = f.program.steps.filter { $0.node.op is ReduceTo }
        #expect(reduceTo.count == 2)
        #expect(reduceTo.allSatisfy { ($0.node.op as? ReduceTo)?.staticShape.count == 1 })
        let reference = try function(inputs: [x, y], outputs: [gw, gb], mode: .fastCompile)
        let xs = try NDArray([0.5, -1, 2, 0.1, 0.2, 0.3, -0.7, 0.4, 1.5, 1, 1, -1] as [Float], shape: [4, 3])
        for ys in [try NDArray([1, 0, 1, 1] as [Float]), try NDArray([1] as [Float])] {
            let got = try f(xs, ys)
            let want = try reference(xs, ys)
            for (g, r) in zip(got, want) {
                #expect(g.shape == r.shape)
                for (u, v) in zip(g.doubles, r.doubles) {
                    #expect(Swift.abs(u - v) <= 1e-5 * Swift.max(1, Swift.abs(v)))
                }
            }
        }
    }

    @Test(arguments: [DType.float32, .float64])
    func log1pAndExpm1(_ dtype: DType) throws {
        let x = tensor(dtype, shape: [nil])
        let f = try function(inputs: [x], outputs: [log(1 + x), exp(x) - 1])
        #expect(ops(f).contains("Log1p") && ops(f).contains("Expm1") && !ops(f).contains("Log"))
        let r = try f(try NDArray([1e-30, 1e-10] as [Double]).cast(to: dtype))
        #expect(r[0].doubles[0] == Double(dtype == .float32 ? Double(Float(1e-30)) : 1e-30))
        #expect(r[1].doubles[1] > 0.99e-10)
        let naive = try function(inputs: [x], outputs: [log(1 + x)], mode: .fastRun.excluding("log1p"))
        #expect(try naive(try NDArray([1e-30] as [Double]).cast(to: dtype))[0].doubles == [0])
        // Near miss: log(2 + x) stays a log.
        #expect(ops(try function(inputs: [x], outputs: [log(2 + x)])).contains("Log"))
    }

    @Test(arguments: [DType.float32, .float64])
    func logSoftmaxIsFinite(_ dtype: DType) throws {
        let z = tensor(dtype, shape: [nil, nil])
        let y = lvector("y")
        let f = try function(inputs: [z, y], outputs: [log(softmax(z)), -mean(log(softmax(z))[arange(y.shape[0]), y])])
        #expect(ops(f).contains("LogSoftmax{axis=1}") && !ops(f).contains("Softmax{axis=1}"))
        let r = try f(try NDArray([1000, 0, 0, 1000] as [Double], shape: [2, 2]).cast(to: dtype), [1, 1])
        let logp = r[0].doubles
        let nll = try r[1].item()
        #expect(logp.allSatisfy { $0.isFinite })
        #expect(abs(logp[1] + 1000) < 1e-3 && abs(nll - 500) < 1e-3)
    }

    @Test func sigmoidAndSoftplusFamily() throws {
        let x = dvector("x")
        let f = try function(
            inputs: [x], outputs: [1 / (1 + exp(-x)), log(sigmoid(x)), log(1 - sigmoid(x)), log(1 + exp(x))])
        let kinds = ops(f)
        #expect(kinds.contains("Sigmoid") && kinds.filter { $0 == "Softplus" }.count >= 2 && !kinds.contains("Log"))
        let r = try f([-1000, 0, 1000])
        #expect(r[0].doubles == [0, 0.5, 1])
        #expect(r[1].doubles[0] == -1000 && r[1].doubles[2] == 0)
        #expect(r[2].doubles[2] == -1000 && r[2].doubles[0] == 0)
        #expect(r[3].doubles[2] == 1000 && r[3].doubles[0] == 0)
        // Near miss: 2 / (1 + exp(−x)) is not a sigmoid.
        #expect(!ops(try function(inputs: [x], outputs: [2 / (1 + exp(-x))])).contains("Sigmoid"))
    }

    @Test func logSumExp() throws {
        let x = dmatrix("x")
        let f = try function(inputs: [x], outputs: [log(sum(exp(x), axis: 1))])
        let r = try f([[1000, 1000], [0, 0]])[0].doubles
        #expect(abs(r[0] - (1000 + Foundation.log(2))) < 1e-9 && abs(r[1] - Foundation.log(2)) < 1e-12)
        let all = try function(inputs: [x], outputs: [log(sum(exp(x)))])([[1000, -1000]])[0]
        #expect(try all.item() == 1000)
        // Shifted once: the rule does not match its own output again (which nested one more
        // shift per pass until the phase gave up).
        #expect(ops(f).filter { $0.hasPrefix("Max") }.count == 1, "\(ops(f))")
    }

    @Test func randomInputsKeepTheirValues() throws {
        var g = SplitMix64(seed: 9)
        let values = try NDArray((0..<12).map { _ in g.uniform(-3, 3) }, shape: [3, 4])
        let x = dmatrix("x")
        let exprs: [Variable] = [
            log(1 + sqr(x)), exp(x) - 1, log(softmax(x)), 1 / (1 + exp(-x)), log(sigmoid(x)),
            log(1 - sigmoid(x)), log(1 + exp(x)), log(sum(exp(x), axis: 0)), x * 2 + x * 2
        ]
        let fast = try function(inputs: [x], outputs: exprs)
        let plain = try function(inputs: [x], outputs: exprs, mode: .unoptimized)
        for (a, b) in zip(try fast(values), try plain(values)) {
            #expect(zip(a.doubles, b.doubles).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })
        }
    }

    @Test func replacementsKeepTheSourceLocation() throws {
        let x = dvector("x")
        let line = #line + 1
        let y = log(1 + x)
        let f = try function(inputs: [x], outputs: [y], mode: .fastRun.excluding("fusion"))
        let node = try #require(f.program.steps.first { $0.node.op is Elemwise<Log1p> }?.node)
        #expect(node.location.line == line && node.location.file == "RewriteTests.swift")
        // A fused composite keeps the location of the expression it replaces.
        let fused = try #require(try function(inputs: [x], outputs: [y]).program.steps.first?.node)
        #expect(fused.op is Composite && fused.location.line == line)
    }

    @Test func aThrowingRewriteIsSkipped() throws {
        let x = dvector("x")
        let fgraph = FunctionGraph(inputs: [x], outputs: [exp(x)])
        let broken = NodeRewriter("broken", tags: []) { _ in throw TheanoError(.unsupported, "boom") }
        Rewrites.equilibrium(fgraph, [broken], excluded: [], phase: "test")
        #expect(fgraph.nodes.map { "\($0.op)" } == ["Exp"])
    }

    @Test func modesAndFlags() throws {
        #expect(Mode.fastRun.excluding("log1p").excluded == ["log1p"])
        #expect(Mode.fastRun.excluding("log1p", "merge").including("merge").excluded == ["log1p"])
        let c = try Config(flags: "optimizer_excluding=log1p:merge,mode=FAST_COMPILE")
        #expect(
            c.mode.name == "FAST_COMPILE" && c.mode.excluded == ["fusion", "log1p", "merge", "native", "specialize"])
        let x = dvector("x")
        #expect(ops(try function(inputs: [x], outputs: [log(1 + x)], mode: c.mode)).contains("Log"))
    }

    @Test func debugprintShowsTheOptimizedGraph() throws {
        let x = dvector("x")
        let f = try function(inputs: [x], outputs: [log(1 + x)])
        #expect(debugprint(f).contains("Log1p") && !debugprint(f).contains("Log "))
    }
}

/// The optimizer's numerics acceptance: naive formulas give finite, correct values and gradients.
struct StableGradientTests {
    @Test(arguments: [DType.float32, .float64])
    func nllGradientWithHugeLogits(_ dtype: DType) throws {
        let z = tensor(dtype, shape: [nil, nil])
        let y = lvector("y")
        let cost = -mean(log(softmax(z))[arange(y.shape[0]), y])
        let g = try grad(cost, wrt: z)
        let f = try function(inputs: [z, y], outputs: [cost, g])
        let r = try f(try NDArray([1000, 0, 0, 0, 1000, 0] as [Double], shape: [2, 3]).cast(to: dtype), [0, 2])
        // Row 0 is right (p ≈ 1 for label 0): gradient ≈ 0; row 1 is wrong: (p − onehot)/2.
        let expected: [Double] = [0, 0, 0, 0, 0.5, -0.5]
        #expect(r[1].doubles.allSatisfy { $0.isFinite })
        #expect(zip(r[1].doubles, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(r[1])")
        #expect(abs(try r[0].item() - 500) < 1e-3)
    }

    @Test(arguments: [DType.float32, .float64])
    func logSigmoidGradientAtMinus1000(_ dtype: DType) throws {
        let x = tensor(dtype, shape: [])
        let g = try grad(log(sigmoid(x)), wrt: x)
        let r = try g.eval([x: -1000.0])
        #expect(try r.item() == 1)
        #expect(try grad(log(1 - sigmoid(x)), wrt: x).eval([x: 1000.0]).item() == -1)
    }

    @Test func gradientsOfNaiveFormulasMatchTheirStableForms() throws {
        let x = dvector("x")
        let values: [Double] = [-3, -0.5, 0.2, 2.5]
        let pairs: [(Variable, Variable)] = [
            (log(1 + exp(x)), softplus(x)), (log(softmax(x)), logSoftmax(x)),
            (1 / (1 + exp(-x)), sigmoid(x))
        ]
        for (naive, stable) in pairs {
            let a = try grad(sum(naive * x), wrt: x).eval([x: values]).doubles
            let b = try grad(sum(stable * x), wrt: x).eval([x: values]).doubles
            #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-12 })
        }
    }
}

struct CrossEntropyRewriteTests {
    @Test func nllPatternBecomesTheFusedOp() throws {
        let z = dmatrix("z")
        let y = ivector("y")
        let cost = -mean(log(softmax(z))[arange(y.shape[0]), y])
        let g = try grad(cost, wrt: z)
        let f = try function(inputs: [z, y], outputs: [cost, g])
        let kinds = ops(f)
        #expect(
            kinds.contains("SoftmaxCrossEntropy") && !kinds.contains("LogSoftmax{axis=1}") && !kinds.contains("Log"))
        let plain = try function(inputs: [z, y], outputs: [cost, g], mode: .unoptimized)
        let args: [any TensorConvertible] = [[[0.5, -1, 2], [3, 0.1, -0.2]], [2, 0]]
        for (a, b) in zip(try f.call(args), try plain.call(args)) {
            #expect(zip(a.doubles, b.doubles).allSatisfy { abs($0 - $1) < 1e-12 })
        }
    }

    @Test func nearMissesAreLeftAlone() throws {
        let z = dmatrix("z")
        let y = ivector("y")
        let k = lscalar("k")
        // The row index is not arange over y: no fusion (values must stay those of the graph).
        let shifted = log(softmax(z))[arange(k), y]
        #expect(!ops(try function(inputs: [z, y, k], outputs: [shifted])).contains("SoftmaxCrossEntropy"))
        let columns = log(softmax(z, axis: 0))[arange(y.shape[0]), y]
        #expect(!ops(try function(inputs: [z, y], outputs: [columns])).contains("SoftmaxCrossEntropy"))
    }

    @Test func fusedOpChecksItsLabels() throws {
        let z = dmatrix("z")
        let y = ivector("y")
        let f = try function(inputs: [z, y], outputs: [softmaxCrossEntropy(z, y)])
        #expect(throws: TheanoError.self) { try f([[1, 2]], [5]) }
        #expect(throws: TheanoError.self) { try f([[1, 2]], [0, 1]) }
        #expect(try f([[0, 0]], [-1])[0].doubles == [Foundation.log(2.0)])
    }
}

struct SpecializeTests {
    @Test(arguments: [DType.float32, .float64])
    func sgdUpdateBecomesOneGemm(_ dtype: DType) throws {
        var rng = SplitMix64(seed: 11)
        let W = shared(try NDArray.uniform([4, 3], in: -1...1, dtype: dtype, using: &rng), name: "W")
        let x = tensor(dtype, shape: [nil, 4])
        let g = tensor(dtype, shape: [nil, 3])
        let update = W - 0.13 * dot(x.T, g)
        let f = try function(inputs: [x, g], outputs: [update, W + dot(x.T, g)])
        #expect(ops(f).filter { $0 == "Gemm" }.count == 2 && !ops(f).contains("Dot"))
        let plain = try function(inputs: [x, g], outputs: [update, W + dot(x.T, g)], mode: .unoptimized)
        let xv = try NDArray.uniform([5, 4], in: -1...1, dtype: dtype, using: &rng)
        let gv = try NDArray.uniform([5, 3], in: -1...1, dtype: dtype, using: &rng)
        for (a, b) in zip(try f(xv, gv), try plain(xv, gv)) {
            #expect(zip(a.doubles, b.doubles).allSatisfy { abs($0 - $1) < 1e-5 * max(1, abs($1)) })
        }
        #expect(!ops(try function(inputs: [x, g], outputs: [update], mode: .fastCompile)).contains("Gemm"))
    }

    @Test func regularisedUpdateStillBecomesGemm() throws {
        let W = dmatrix("W")
        let x = dmatrix("x")
        let g = dmatrix("g")
        let update = W - 0.01 * (dot(x.T, g) + 0.0002 * W)
        let f = try function(inputs: [W, x, g], outputs: [update])
        #expect(ops(f).contains("Gemm") && !ops(f).contains("Dot"), "\(ops(f))")
        let plain = try function(inputs: [W, x, g], outputs: [update], mode: .unoptimized)
        let args: [any TensorConvertible] = [[[1, 2], [3, 4]], [[0.5, -1], [2, 0.25]], [[1, 0], [-1, 3]]]
        #expect(zip(try f.call(args)[0].doubles, try plain.call(args)[0].doubles).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func gemmBroadcastsItsAccumulator() throws {
        let b = dvector("b")
        let x = dmatrix("x")
        let w = dmatrix("w")
        let f = try function(inputs: [b, x, w], outputs: [b.dimshuffle("x", 0) + dot(x, w)])
        #expect(ops(f).contains("Gemm"))
        #expect(try f([10, 20], [[1, 2]], [[1, 0], [0, 1]])[0].doubles == [11, 22])
    }

    @Test func constantPowers() throws {
        let x = dvector("x")
        let f = try function(inputs: [x], outputs: [x ** 2, x ** 0.5, x ** -1, x ** 1, x ** 3])
        #expect(!ops(f).contains("Pow") && Set(ops(f)) == ["Sqr", "Sqrt", "Reciprocal", "Mul"])
        let r = try f([4, 9])
        let expected: [[Double]] = [[16, 81], [2, 3], [0.25, 1.0 / 9], [4, 9], [64, 729]]
        #expect(r.map(\.doubles) == expected)
    }
}

struct DebugModeTests {
    @Test func detectsAnOptimizedResultThatDiffers() throws {
        let x = dvector("x")
        let f = try function(inputs: [x], outputs: [log(1 + x)], mode: .debug)
        #expect(try f([0.5])[0].doubles == [Foundation.log(1.5)])
        let check = try #require(f.debug)
        let e = #expect(throws: TheanoError.self) {
            try check.verify([try NDArray([0.5] as [Double])], outputs: [try NDArray([7] as [Double])])
        }
        #expect("\(e.map { "\($0)" } ?? "")".contains("output 0"))
    }

    @Test func detectsFalseViewsAndInputWrites() throws {
        let x = dvector("x")
        let e1 = #expect(throws: TheanoError.self) {
            try function(inputs: [x], outputs: [apply1(FakeView(), [x])], mode: .debug)([1, 2])
        }
        #expect("\(e1.map { "\($0)" } ?? "")".contains("declares output 0 a view"))
        let e2 = #expect(throws: TheanoError.self) {
            try function(inputs: [x], outputs: [apply1(Vandal(), [x])], mode: .debug)([1, 2])
        }
        #expect("\(e2.map { "\($0)" } ?? "")".contains("changed its input 0"))
        // Without DEBUG nothing is checked.
        #expect(try function(inputs: [x], outputs: [apply1(FakeView(), [x])])([1, 2])[0].doubles == [1, 2])
    }
}

/// Declares a view but returns a copy.
struct FakeView: Op {
    var viewMap: [Int: Int] { [0: 0] }
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { [inputs[0]] }
    func perform(_ inputs: [NDArray]) throws -> [NDArray] { [inputs[0].contiguous(forceCopy: true)] }
}

/// Writes into its input's storage without declaring it.
struct Vandal: Op {
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { [inputs[0]] }
    func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        inputs[0].basePointer(as: Double.self).pointee = 99
        return [inputs[0]]
    }
}

struct MoreCanonicalTests {
    @Test func powersBySquaring() throws {
        let a = dvector("a")
        let f = try function(inputs: [a], outputs: [a + a ** 10])
        #expect(ops(f).filter { $0 == "Sqr" }.count == 3 && !ops(f).contains("Pow"))
        #expect(try f([0, 1, 2, -1.5])[0].doubles == [0, 2, 1026, -1.5 + Foundation.pow(1.5, 10)])
        #expect(ops(try function(inputs: [a], outputs: [a ** 2.5])).contains("Pow"))  // not integral: kept
    }

    @Test func negSubNormalForms() throws {
        let a = dvector("a")
        let b = dvector("b")
        let f = try function(inputs: [a, b], outputs: [a + (-b), a - (-b), (-a) * (-b), -(a - b)])
        #expect(!ops(f).contains("Neg"))
        let r = try f([1, 2], [5, 7])
        #expect(r.map(\.doubles) == [[-4, -5], [6, 9], [5, 14], [4, 5]])
    }

    @Test func castOfCast() throws {
        let i = bvector("i")
        let widening = try function(inputs: [i], outputs: [cast(cast(i, .int32), .float64)])
        #expect(ops(widening).count == 1)
        let f = dvector("f")
        let narrowing = try function(inputs: [f], outputs: [cast(cast(f, .int32), .float64)])
        #expect(ops(narrowing).count == 2)  // truncation must stay
        #expect(try narrowing([1.7])[0].doubles == [1])
    }

    @Test func dimshuffleLiftedAndMerged() throws {
        let x = dmatrix("x")
        let v = dvector("v")
        let f = try function(inputs: [x, v], outputs: [(x + v).T])
        #expect(ops(f).last == "Add")  // the transpose moved to the inputs
        #expect(try f([[1, 2], [3, 4]], [10, 20])[0].doubles == [11, 13, 22, 24])
    }

    @Test("a transposed product becomes the product of the transposed operands (lift_transpose_through_dot)")
    func transposeLiftedThroughDot() throws {
        let a = dmatrix("a")
        let b = dmatrix("b")
        let w = dmatrix("w")
        let f = try function(inputs: [a, b, w], outputs: [w + dot(a, b).T])
        let av = try array([1, 2, 3, 4, 5, 6], [3, 2])
        let bv = try array([1, 0, 2, 1, 1, 3, 0, 1], [2, 4])
        let wv = try array((0..<12).map { Double($0) }, [4, 3])
        let want = try function(inputs: [a, b, w], outputs: [w + dot(a, b).T], mode: .unoptimized)(av, bv, wv)[0]
        #expect(try f(av, bv, wv)[0].doubles == want.doubles)
        // The product's result is no longer transposed: every DimShuffle reads an input.
        let order = Graph.topologicalOrder([f.program.outputVariables[0]], stoppingAt: Set(f.inputs))
        #expect(
            order.filter { $0.op is DimShuffle }.allSatisfy { f.inputs.contains($0.inputs[0]) }, "\(f.graphDescription)"
        )
        // A product read elsewhere too keeps its transpose (it would be computed twice).
        let g = try function(inputs: [a, b], outputs: [dot(a, b).T, dot(a, b) * 2])
        #expect(ops(g).filter { $0 == "Dot" || $0 == "Gemm" }.count == 1, "\(ops(g))")
    }

    @Test func argmaxOfSoftmaxReadsTheLogits() throws {
        let z = dmatrix("z")
        let f = try function(inputs: [z], outputs: [argmax(softmax(z), axis: 1), argmin(logSoftmax(z), axis: -1)])
        let kinds = ops(f)
        #expect(!kinds.contains { $0.hasPrefix("Softmax") || $0.hasPrefix("LogSoftmax") }, "\(kinds)")
        let zv = try array([0.5, -1, 2, 3, 0.1, -0.2, 1, 1, 0], [3, 3])
        #expect(try f(zv).map(\.doubles) == [[2, 0, 0], [1, 2, 2]])
        // Over another axis than the softmax's: left alone.
        let g = try function(inputs: [z], outputs: [argmax(softmax(z), axis: 0)])
        #expect(ops(g).contains { $0.hasPrefix("Softmax") }, "\(ops(g))")
        #expect(try g(zv)[0].doubles == [1, 2, 0])
    }

    @Test func constantFactorOutOfSum() throws {
        let x = dmatrix("x")
        let f = try function(inputs: [x], outputs: [sum(x * 3, axis: 1), mean(2 * x)])
        let kinds = ops(f)
        #expect(kinds.firstIndex(of: "Sum{axes=[1]}")! < kinds.lastIndex(of: "Mul")!)
        #expect(try f([[1, 2], [3, 4]]).map(\.doubles) == [[9, 21], [5]])
    }

    @Test func subSelfOnlyForIntegers() throws {
        let i = ivector("i")
        let f = dvector("f")
        let ints = try function(inputs: [i], outputs: [i - i])
        let zeros = try ints([3, -4])[0].doubles
        #expect(!ops(ints).contains("Sub") && zeros == [0, 0])
        let floats = try function(inputs: [f], outputs: [f - f])
        #expect(ops(floats).contains("Sub"))
        #expect(try floats([Double.infinity])[0].doubles[0].isNaN)
    }

    @Test func uselessReshape() throws {
        let x = tensor(.float64, shape: [2, 3])
        #expect(ops(try function(inputs: [x], outputs: [x.reshape([2, 3]) * 2])) == ["Mul"])
    }
}

struct BlasLevel2Tests {
    @Test(arguments: [DType.float32, .float64])
    func matrixVectorBecomesGemv(_ dtype: DType) throws {
        var rng = SplitMix64(seed: 5)
        let A = tensor(dtype, shape: [nil, nil])
        let x = tensor(dtype, shape: [nil])
        let y = tensor(dtype, shape: [nil])
        let outs = [dot(A, x), y + 0.5 * dot(A, x), y - dot(A.T, y), dot(A, x) + y]
        let f = try function(inputs: [A, x, y], outputs: outs)
        #expect(ops(f).filter { $0 == "Gemv" }.count == 4 && !ops(f).contains("Dot"), "\(ops(f))")
        let plain = try function(inputs: [A, x, y], outputs: outs, mode: .unoptimized)
        // 3×3 takes the plain loop for tiny products, 120×120 the BLAS library.
        for n in [3, 120] {
            let av = try NDArray.uniform([n, n], in: -1...1, dtype: dtype, using: &rng)
            let xv = try NDArray.uniform([n], in: -1...1, dtype: dtype, using: &rng)
            let yv = try NDArray.uniform([n], in: -1...1, dtype: dtype, using: &rng)
            for (a, b) in zip(try f(av, xv, yv), try plain(av, xv, yv)) {
                #expect(zip(a.doubles, b.doubles).allSatisfy { abs($0 - $1) < 1e-4 }, "\(n): \(a) vs \(b)")
            }
        }
    }

    @Test(arguments: [DType.float32, .float64])
    func rankOneUpdateBecomesGer(_ dtype: DType) throws {
        let A = tensor(dtype, shape: [nil, nil])
        let x = tensor(dtype, shape: [nil])
        let y = tensor(dtype, shape: [nil])
        let outs = [A + 0.1 * outer(x, y), A - outer(x, y)]
        let f = try function(inputs: [A, x, y], outputs: outs)
        #expect(ops(f).filter { $0 == "Ger" }.count == 2, "\(ops(f))")
        let r = try f([[1, 2, 3], [4, 5, 6]], [1, 2], [10, 20, 30])
        #expect(zip(r[0].doubles, [2, 4, 6, 6, 9, 12] as [Double]).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(r[1].doubles == [-9, -18, -27, -16, -35, -54])
    }

    @Test func gemvAndGerGradients() throws {
        try verifyGrad(
            { v in apply1(Gemv(), [v[0], constant(0.7, dtype: .float64), v[1], v[2], constant(1.3, dtype: .float64)]) },
            at: [GradTests.rand([3], seed: 1), GradTests.rand([3, 4], seed: 2), GradTests.rand([4], seed: 3)])
        try verifyGrad(
            { v in apply1(Ger(), [v[0], constant(0.7, dtype: .float64), v[1], v[2]]) },
            at: [GradTests.rand([3, 4], seed: 1), GradTests.rand([3], seed: 2), GradTests.rand([4], seed: 3)])
        try verifyGrad(
            { v in gemm(v[0], alpha: constant(0.7, dtype: .float64), v[1], v[2], beta: constant(1.3, dtype: .float64))
            },
            at: [GradTests.rand([3, 2], seed: 1), GradTests.rand([3, 4], seed: 2), GradTests.rand([4, 2], seed: 3)])
    }
}
