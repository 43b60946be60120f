import NDArray
import Testing

@testable import Theano

/// Constructors, shape ops, literals and promotion, checked against hand-computed values.
struct TensorAPITests {
    @Test func constructorsUseFloatXAndPrefixes() throws {
        #expect(matrix().dtype == Config.current.floatX)
        #expect(fmatrix().dtype == .float32 && dvector().dtype == .float64)
        #expect(ivector().dtype == .int32 && lscalar().dtype == .int64 && bscalar().dtype == .int8)
        #expect(tensor4().ndim == 4 && tensor3().ndim == 3 && scalar().ndim == 0)
        #expect(throws: TheanoError.self) { try Config(flags: "floatX=int8") }
        #expect(try Config(flags: "floatX=float64,mode=FAST_COMPILE").floatX == .float64)
        #expect(try Config(flags: "floatX=float64,mode=FAST_COMPILE").mode == .fastCompile)
    }

    @Test func literalsAdoptTheTensorDType() throws {
        let g = fvector("g")
        let i = ivector("i")
        let b = bvector("b")
        #expect((0.13 * g).dtype == .float32)
        #expect((g - 1).dtype == .float32)
        #expect((i * 2).dtype == .int32)
        #expect((i ** 10).dtype == .int32)
        #expect((i * 0.5).dtype == .float64)
        #expect((b + 1).dtype == .int8 && (b + 1000).dtype == .int16)
        #expect((g + dvector()).dtype == .float64)
        #expect((i + fvector()).dtype == .float64)
        #expect((bvector() + fvector()).dtype == .float32)
        #expect(try (i ** 10).eval([i: [2, -3]]).doubles == [1024, 59049])
    }

    @Test func allocFamily() throws {
        #expect(try zeros([2, 3]).eval().shape == [2, 3])
        #expect(try ones([2], dtype: .int32).eval().doubles == [1, 1])
        #expect(zeros([2, 3]).type.shape == [2, 3])
        let x = matrix("x")
        let v: [[Double]] = [[1, 2, 3], [4, 5, 6]]
        #expect(try zerosLike(x).eval([x: v]).doubles == [0, 0, 0, 0, 0, 0])
        #expect(try onesLike(x).eval([x: v]).shape == [2, 3])
        #expect(try fill(x, constant(7)).eval([x: v]).doubles == Array(repeating: 7, count: 6))
        let n = lscalar("n")
        let a = alloc(constant(2), [.variable(n), .int(2)])
        #expect(try a.eval([n: 3]).shape == [3, 2])
        #expect(try alloc(constant(try NDArray([1, 2] as [Float])), [3, 2]).eval().doubles == [1, 2, 1, 2, 1, 2])
    }

    @Test func eyeAndArange() throws {
        #expect(try eye(3).eval().doubles == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(try eye(2, 3, k: 1).eval().doubles == [0, 1, 0, 0, 0, 1])
        #expect(try arange(5).eval().doubles == [0, 1, 2, 3, 4])
        #expect(try arange(5).eval().dtype == .int64)
        #expect(arange(1, 10, step: 3).type.shape == [3])
        #expect(try arange(1, 10, step: 3).eval().doubles == [1, 4, 7])
        #expect(try arange(0, 1, step: 0.25).eval().doubles == [0, 0.25, 0.5, 0.75])
        let n = lscalar("n")
        #expect(try arange(n).eval([n: 4]).doubles == [0, 1, 2, 3])
    }

    @Test func symbolicShape() throws {
        let x = matrix("x")
        let v: [[Double]] = [[1, 2, 3], [4, 5, 6]]
        #expect(try x.shape.eval([x: v]).doubles == [2, 3])
        #expect(try x.shape[1].eval([x: v]).doubles == [3])
        #expect(try x.shape[-1].eval([x: v]).ndim == 0)
        let k = tensor(.float32, shape: [2, 5])
        #expect(k.shape is Constant)  // static shapes need no computation
    }

    @Test func squeezeExpandAndDimshuffle() throws {
        let x = tensor(.float64, shape: [1, nil, 1], name: "x")
        #expect(x.squeeze().type.shape == [nil])
        #expect(x.squeeze([0]).type.shape == [nil, 1])
        let v = vector("v")
        #expect(v.expandDims(0).type.shape == [1, nil])
        #expect(v.expandDims(-1).type.shape == [nil, 1])
        #expect(v.dimshuffle("x", 0).type.broadcastable == [true, false])
        #expect(try v.expandDims(1).eval([v: [1, 2]]).shape == [2, 1])
        let m = matrix("m")
        let e = try #require(Optional(m.dimshuffle(1)))  // dropping a non-broadcastable axis
        #expect(try e.eval([m: [[1, 2]]]).doubles == [1, 2])  // axis 0 has length 1 here
        #expect(throws: TheanoError.self) { try e.eval([m: [[1, 2], [3, 4]]]) }
    }

    @Test func logicalOps() throws {
        let a = btensor("a", ndim: 1)
        let b = btensor("b", ndim: 1)
        let f = try function(inputs: [a, b], outputs: [a && b, a || b, !a, xor(a, b)])
        let r = try f([true, true, false, false], [true, false, true, false])
        #expect(r[0].scalars(as: Bool.self) == [true, false, false, false])
        #expect(r[1].scalars(as: Bool.self) == [true, true, true, false])
        #expect(r[2].scalars(as: Bool.self) == [false, false, true, true])
        #expect(r[3].scalars(as: Bool.self) == [false, true, true, false])
        #expect(r[0].dtype == .bool)
    }

    @Test func symbolicSlicesAndSteps() throws {
        let x = vector("x")
        let i = lscalar("i")
        let j = lscalar("j")
        let s = lscalar("s")
        let data: [Double] = [0, 1, 2, 3, 4, 5, 6, 7]
        let f = try function(inputs: [x, i, j, s], outputs: [x[Slice(start: i, stop: j, step: s)], x[i]])
        #expect(try f(data, 1, 7, 2)[0].doubles == [1, 3, 5])
        #expect(try f(data, -1, 0, -3)[0].doubles == [7, 4, 1])
        #expect(try f(data, -2, 0, 1)[1].doubles == [6])
        #expect(x[2..<5].type.shape == [nil])
        #expect(tensor(.float32, shape: [8])[2..<5].type.shape == [3])
        #expect(tensor(.float32, shape: [8])[...3].type.shape == [4])
        #expect(tensor(.float32, shape: [8])[(-3)...].type.shape == [3])
    }

    @Test func advancedSetAndBasicInc() throws {
        let W = matrix("W")
        let idx = lvector("idx")
        let rows = matrix("rows")
        let set = setSubtensor(W[idx], rows)
        let r = try set.eval([W: [[0, 0], [0, 0], [0, 0]], idx: [2, 0], rows: [[1, 2], [3, 4]]])
        #expect(r.doubles == [3, 4, 0, 0, 1, 2])
        let inc = incSubtensor(W[1..., .all], constant(1))
        #expect(try inc.eval([W: [[0, 0], [0, 0], [0, 0]]]).doubles == [0, 0, 1, 1, 1, 1])
        // x[arrays, slices] in one step writes back into x.
        let oneStep = incSubtensor(W[idx, 1..<2], constant(5))
        #expect(try oneStep.eval([W: [[0, 0], [0, 0], [0, 0]], idx: [0, 0]]).doubles == [0, 10, 0, 0, 0, 0])
        // In two steps the target is the inner selection, as in Theano: W[:, 1:2] with row 0 raised.
        let twoStep = incSubtensor(W[.all, 1..<2][idx], constant(5))
        #expect(try twoStep.eval([W: [[0, 0], [0, 0], [0, 0]], idx: [0, 0]]).doubles == [10, 0, 0])
        #expect(throws: TheanoError.self) { try W[idx].eval([W: [[1]], idx: [3]]) }
    }

    @Test func nestedArraysAndScalarsAsArguments() throws {
        let m = imatrix("m")
        let s = fscalar("s")
        let f = try function(inputs: [m, s], outputs: [sum(m), s * 2])
        let r = try f([[1, 2], [3, 4]], 1.5)
        #expect(try r[0].item() == 10 && r[0].dtype == .int64)
        #expect(try r[1].item() == 3 && r[1].dtype == .float32)
        #expect(throws: TheanoError.self) { try f([[1, 2], [3]], 1) }
        #expect(throws: TheanoError.self) { try f([[1.5, 2]], 1) }
        #expect(throws: TheanoError.self) { try f([[1, 2]]) }
    }
}

struct LongReductionTests {
    /// Long contiguous runs take the vectorised path; it must agree with a float64 scalar sum.
    @Test(arguments: [DType.float32, .float64])
    func longSums(_ dtype: DType) throws {
        var rng = SplitMix64(seed: 21)
        let a = try NDArray.uniform([3, 1003], in: -1...1, dtype: dtype, using: &rng)
        let x = tensor(dtype, shape: [nil, nil])
        let f = try function(inputs: [x], outputs: [sum(x), sum(x, axis: 1), mean(x, axis: 1), sum(x.T, axis: 0)])
        let r = try f(a)
        let rows = (0..<3).map { i in (0..<1003).reduce(0.0) { $0 + ((try? a.element(at: [i, $1])) ?? .nan) } }
        let tol = dtype == .float32 ? 1e-4 : 1e-10
        #expect(abs(try r[0].item() - rows.reduce(0, +)) < tol)
        #expect(zip(r[1].doubles, rows).allSatisfy { abs($0 - $1) < tol })
        #expect(zip(r[2].doubles, rows).allSatisfy { abs($0 - $1 / 1003) < tol })
        #expect(zip(r[3].doubles, rows).allSatisfy { abs($0 - $1) < tol })  // strided: the scalar path
    }
}
