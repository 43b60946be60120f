import NDArray
import Testing
import TheanoTestSupport

@testable import Theano

/// Every tensor op through `checkOp`: its type rule, each backend against `perform`, its
/// gradient and `Hashable`. Each case builds the op with its public constructor on inputs of the
/// sample's types; the node's constant inputs (a shape, an axis, indices) join the sample.
@Suite("Tensor ops: type rule, every backend, gradient and Hashable, in one check each")
struct TensorOpTests {
    struct Case: @unchecked Sendable, CustomStringConvertible {
        let name: String
        /// The expression over one variable per sample array; its root node is the op checked.
        let build: ([Variable]) -> Variable
        /// Input arrays per dtype (float32, float64); see ``values(_:_:_:)``.
        let inputs: (DType) throws -> [NDArray]
        var gradient = true
        var description: String { name }
    }

    nonisolated(unsafe) static var rng = SplitMix64(seed: 7)

    static func real(_ shape: [Int], _ dtype: DType, _ range: ClosedRange<Double> = -2...2) throws -> NDArray {
        try NDArray.uniform(shape, in: range, dtype: dtype, using: &rng)
    }

    static func ints(_ values: [Int], _ dtype: DType = .int64) throws -> NDArray {
        try NDArray(values.map(Double.init), shape: [values.count]).cast(to: dtype)
    }

    static let cases: [Case] = [
        Case(name: "dot_mm", build: { dot($0[0], $0[1]) }, inputs: { try [real([3, 4], $0), real([4, 2], $0)] }),
        Case(name: "dot_mv", build: { dot($0[0], $0[1]) }, inputs: { try [real([3, 4], $0), real([4], $0)] }),
        Case(
            name: "batched_dot", build: { batchedDot($0[0], $0[1]) },
            inputs: { try [real([2, 3, 4], $0), real([2, 4, 2], $0)] }),
        Case(
            name: "gemm", build: { gemm($0[0], alpha: $0[1], $0[2], $0[3], beta: $0[4]) },
            inputs: { try [real([3, 2], $0), real([], $0), real([3, 4], $0), real([4, 2], $0), real([], $0)] }),
        Case(
            name: "gemv", build: { apply1(Gemv(), $0) },
            inputs: { try [real([3], $0), real([], $0), real([3, 4], $0), real([4], $0), real([], $0)] }),
        Case(
            name: "ger", build: { apply1(Ger(), $0) },
            inputs: { try [real([3, 4], $0), real([], $0), real([3], $0), real([4], $0)] }),
        Case(name: "sum_ax1", build: { sum($0[0], axis: 1) }, inputs: { try [real([3, 4, 2], $0)] }),
        Case(name: "mean_ax02", build: { mean($0[0], axis: [0, 2]) }, inputs: { try [real([3, 4, 2], $0)] }),
        Case(name: "max_ax1", build: { max($0[0], axis: 1) }, inputs: { try [real([3, 4], $0)] }),
        Case(name: "prod_all", build: { prod($0[0]) }, inputs: { try [real([2, 3], $0, 0.5...1.5)] }),
        Case(
            name: "argmax_ax1", build: { argmax($0[0], axis: 1) }, inputs: { try [real([3, 4], $0)] },
            gradient: false),
        Case(name: "softmax", build: { softmax($0[0]) }, inputs: { try [real([3, 4], $0)] }),
        Case(name: "log_softmax", build: { logSoftmax($0[0]) }, inputs: { try [real([3, 4], $0)] }),
        Case(
            name: "softmax_xent", build: { softmaxCrossEntropy($0[0], $0[1]) },
            inputs: { try [real([5, 4], $0), ints([3, 0, 1, 3, 2], .int32)] }),
        Case(
            name: "softmax_xent_grad", build: { apply1(SoftmaxCrossEntropyGrad(), $0) },
            inputs: { try [real([5, 4], $0), ints([3, 0, 1, 3, 2], .int32), real([5], $0)] }),
        Case(name: "dimshuffle", build: { $0[0].dimshuffle(1, "x", 0) }, inputs: { try [real([3, 4], $0)] }),
        Case(name: "reshape", build: { $0[0].reshape([4, -1]) }, inputs: { try [real([3, 4], $0)] }),
        Case(name: "flatten", build: { $0[0].flatten(2) }, inputs: { try [real([2, 3, 2], $0)] }),
        Case(
            name: "join", build: { concatenate([$0[0], $0[1]], axis: 1) },
            inputs: { try [real([3, 2], $0), real([3, 4], $0)] }),
        Case(name: "alloc", build: { alloc($0[0], [3, 4]) }, inputs: { try [real([4], $0)] }),
        Case(name: "eye", build: { _ in eye(3, 4, k: 1, dtype: .float64) }, inputs: { _ in [] }, gradient: false),
        Case(
            name: "arange", build: { arange($0[0]) }, inputs: { _ in [NDArray(scalar: 5, dtype: .int64)] },
            gradient: false),
        Case(name: "shape", build: { $0[0].shape }, inputs: { try [real([3, 4], $0)] }, gradient: false),
        Case(name: "subtensor", build: { $0[0][1, 1..<3] }, inputs: { try [real([3, 4], $0)] }),
        Case(
            name: "inc_subtensor", build: { incSubtensor($0[0][1], $0[1]) },
            inputs: { try [real([3, 4], $0), real([4], $0)] }),
        Case(
            name: "advanced_subtensor", build: { $0[0][$0[1]] },
            inputs: { try [real([3, 4], $0), ints([2, 0, 2])] }),
        Case(
            name: "advanced_inc_subtensor", build: { incSubtensor($0[0][$0[1]], $0[2]) },
            inputs: { try [real([3, 4], $0), ints([2, 0, 2]), real([3, 4], $0)] }),
        Case(
            name: "conv2d", build: { conv2d($0[0], $0[1]) },
            inputs: { try [real([2, 2, 5, 5], $0), real([3, 2, 3, 3], $0)] }),
        Case(name: "pool2d_max", build: { pool2d($0[0], window: (2, 2)) }, inputs: { try [real([1, 2, 4, 4], $0)] }),
        Case(
            name: "pool2d_average", build: { pool2d($0[0], window: (2, 2), mode: .averageIncludingPad) },
            inputs: { try [real([1, 2, 4, 4], $0)] }),
        Case(
            name: "reduce_to", build: { apply1(ReduceTo(staticShape: [1, 4]), $0) },
            inputs: { try [real([3, 4], $0), ints([1, 4])] }),
        Case(name: "zero_grad", build: { zeroGrad($0[0]) }, inputs: { try [real([3], $0)] }, gradient: false)
    ]

    /// The op at the case's root and its inputs' values: the sample's arrays for its variables,
    /// the constants' values for the rest.
    static func instance(_ c: Case, _ dtype: DType) throws -> (op: any Op, sample: [NDArray]) {
        let arrays = try c.inputs(dtype)
        let vars = arrays.map { tensor($0.dtype, shape: $0.shape.map { _ in nil }) }
        let node = try #require(c.build(vars).owner, "\(c.name) builds no node")
        let sample = try node.inputs.map { input -> NDArray in
            if let k = vars.firstIndex(where: { $0 === input }) { return arrays[k] }
            return try #require(
                (input as? Constant)?.value, "\(c.name): input \(input) is neither a sample nor a constant")
        }
        return (node.op, sample)
    }

    @Test("each tensor op passes checkOp", arguments: cases)
    func tensorOp(_ c: Case) throws {
        let (op, sample32) = try Self.instance(c, .float32)
        let (op64, sample64) = try Self.instance(c, .float64)
        #expect("\(op)" == "\(op64)")
        let others = try Self.cases.map { try Self.instance($0, .float64).op }.filter { "\($0)" != "\(op)" }
        checkOp(op, samples: [sample32, sample64], unequal: others, gradient: c.gradient)
    }
}
