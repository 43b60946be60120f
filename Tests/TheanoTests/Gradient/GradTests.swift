import Foundation
import NDArray
import Testing

@testable import Theano

/// `verifyGrad` on every differentiable op, at random points, with broadcasting (including
/// length-1 dimensions only known at run time).
struct GradTests {
    typealias F = @Sendable ([Variable]) -> Variable

    static func rand(_ shape: [Int], _ lo: Double = -2, _ hi: Double = 2, seed: UInt64) -> NDArray {
        var g = SplitMix64(seed: seed)
        let n = shape.reduce(1, *)
        return (try? NDArray((0..<n).map { _ in lo + (hi - lo) * g.unit() }, shape: shape)) ?? NDArray(scalar: 0.0)
    }

    typealias Case = (String, F, [[Int]], (Double, Double))

    static let cases0: [Case] = [
        ("neg", { -$0[0] }, [[3, 4]], (-2, 2)), ("abs", { abs($0[0]) }, [[3, 4]], (0.1, 2)),
        ("sign", { sign($0[0]) * $0[0] }, [[5]], (0.1, 2)), ("exp", { exp($0[0]) }, [[3, 4]], (-2, 2)),
        ("log", { log($0[0]) }, [[3, 4]], (0.2, 3)), ("log1p", { log1p($0[0]) }, [[3, 4]], (-0.5, 3)),
        ("expm1", { expm1($0[0]) }, [[3, 4]], (-2, 2)), ("sqrt", { sqrt($0[0]) }, [[3, 4]], (0.2, 3)),
        ("sqr", { sqr($0[0]) }, [[3, 4]], (-2, 2)), ("reciprocal", { reciprocal($0[0]) }, [[3, 4]], (0.3, 2)),
        ("tanh", { tanh($0[0]) }, [[3, 4]], (-2, 2)), ("sigmoid", { sigmoid($0[0]) }, [[3, 4]], (-4, 4)),
        ("softplus", { softplus($0[0]) }, [[3, 4]], (-4, 4)), ("relu", { relu($0[0]) }, [[3, 4]], (-2, 2)),
        ("sin", { sin($0[0]) }, [[3, 4]], (-2, 2)), ("cos", { cos($0[0]) }, [[3, 4]], (-2, 2)),
        ("floor", { floor($0[0]) + $0[0] }, [[4]], (0.1, 0.9)), ("ceil", { ceil($0[0]) * $0[0] }, [[4]], (0.1, 0.9))
    ]
    static let cases1: [Case] = [
        ("round", { round($0[0]) + $0[0] }, [[4]], (0.1, 0.4)),
        ("cast", { cast(cast($0[0], .float32), .float64) * 1 }, [[3]], (-2, 2)),
        ("add_bcast", { $0[0] + $0[1] }, [[3, 4], [4]], (-2, 2)),
        ("sub_runtime_bcast", { $0[0] - $0[1] }, [[3, 1], [1, 4]], (-2, 2)),
        ("mul_bcast", { $0[0] * $0[1] }, [[2, 3, 4], [3, 1]], (-2, 2)),
        ("truediv", { $0[0] / $0[1] }, [[3, 4], [4]], (0.5, 2)),
        ("intdiv", { intdiv($0[0], $0[1]) + $0[0] }, [[4], [4]], (1.1, 1.9)),
        ("mod", { $0[0] % $0[1] }, [[3, 4], [4]], (1.1, 1.9)),
        ("pow", { $0[0] ** $0[1] }, [[3, 4], [3, 4]], (0.5, 2))
    ]
    static let cases2: [Case] = [
        ("pow_const", { $0[0] ** 3 }, [[3, 4]], (-2, 2)),
        ("maximum", { maximum($0[0], $0[1]) }, [[3, 4], [3, 4]], (-2, 2)),
        ("minimum", { minimum($0[0], $0[1]) }, [[3, 4], [4]], (-2, 2)),
        ("clip", { clip($0[0], $0[1], $0[2]) }, [[3, 4], [], []], (-2, 2)),
        ("switch", { select(gt($0[0], 0), $0[1], $0[2]) }, [[3, 4], [3, 4], [4]], (-2, 2)),
        ("sum_all", { sum($0[0]) }, [[3, 4]], (-2, 2)), ("sum_ax", { sum($0[0], axis: [0, 2]) }, [[2, 3, 4]], (-2, 2)),
        ("mean_keep", { mean($0[0], axis: -1, keepdims: true) }, [[3, 4]], (-2, 2)),
        ("prod", { prod($0[0], axis: 1) }, [[3, 4]], (0.5, 2)),
        ("max", { max($0[0], axis: 0) }, [[3, 4]], (-2, 2)), ("min_all", { min($0[0]) }, [[3, 4]], (-2, 2))
    ]
    static let cases3: [Case] = [
        ("var", { variance($0[0], axis: 1) }, [[3, 4]], (-2, 2)), ("std", { std($0[0], ddof: 1) }, [[3, 4]], (-2, 2)),
        ("reshape", { $0[0].reshape([2, -1]) * $0[0].reshape([2, 6]) }, [[3, 4]], (-2, 2)),
        ("flatten", { sqr($0[0].flatten(2)) }, [[2, 3, 4]], (-2, 2)),
        ("dimshuffle", { $0[0].dimshuffle(1, "x", 0) * $0[1] }, [[3, 4], [4, 2, 1]], (-2, 2)),
        ("transpose", { $0[0].T * $0[1] }, [[3, 4], [4, 3]], (-2, 2)),
        ("squeeze_expand", { $0[0].squeeze([0]).expandDims(1) * 2 }, [[1, 3]], (-2, 2)),
        ("concatenate", { concatenate([$0[0], $0[1] * 2], axis: 1) }, [[3, 2], [3, 4]], (-2, 2)),
        ("stack", { stack([$0[0], sqr($0[1])], axis: 1) }, [[3], [3]], (-2, 2)),
        ("alloc", { alloc($0[0], [3, 4]) * $0[1] }, [[4], [3, 4]], (-2, 2))
    ]
    static let cases4: [Case] = [
        ("fill_zeros_like", { fill($0[1], $0[0]) + zerosLike($0[1]) * $0[1] }, [[], [2, 3]], (-2, 2)),
        ("subtensor", { $0[0][1..<3, Slice(step: -2)] }, [[4, 5]], (-2, 2)),
        ("subtensor_symbolic", { $0[0][Slice(start: constant(1, dtype: .int64), stop: nil)] }, [[5]], (-2, 2)),
        ("advanced_repeat", { $0[0][constant(try! NDArray([0, 2, 0] as [Int64]))] }, [[4, 3]], (-2, 2)),
        ("advanced_pairs", { $0[0][arange(3), constant(try! NDArray([1, 0, 1] as [Int64]))] }, [[3, 2]], (-2, 2)),
        ("set_basic", { setSubtensor($0[0][1], $0[1]) * $0[0] }, [[3, 4], [4]], (-2, 2)),
        ("inc_basic", { incSubtensor($0[0][.all, 1..<3], $0[1]) }, [[3, 4], [3, 1]], (-2, 2)),
        (
            "set_advanced", { setSubtensor($0[0][constant(try! NDArray([2, 0] as [Int64]))], $0[1]) * 3 },
            [[3, 2], [2, 2]], (-2, 2)
        ),
        (
            "inc_advanced_repeat", { incSubtensor($0[0][constant(try! NDArray([1, 1] as [Int64]))], $0[1]) * $0[0] },
            [[3, 2], [2]], (-2, 2)
        )
    ]
    static let cases5: [Case] = [
        ("dot_mm", { dot($0[0], $0[1]) }, [[3, 4], [4, 2]], (-2, 2)),
        ("dot_mv", { dot($0[0], $0[1]) }, [[3, 4], [4]], (-2, 2)),
        ("dot_vm", { dot($0[0], $0[1]) }, [[4], [4, 2]], (-2, 2)),
        ("dot_vv", { dot($0[0], $0[1]) }, [[4], [4]], (-2, 2)),
        ("dot_3d", { dot($0[0], $0[1]) }, [[2, 3, 4], [4, 2]], (-2, 2)),
        ("dot_3d_vec", { dot($0[0], $0[1]) }, [[2, 3, 4], [4]], (-2, 2)),
        ("batched_dot", { batchedDot($0[0], $0[1]) }, [[2, 3, 4], [2, 4, 2]], (-2, 2)),
        ("outer", { outer($0[0], $0[1]) }, [[3], [4]], (-2, 2)),
        ("softmax", { softmax($0[0]) }, [[3, 5]], (-3, 3)),
        ("softmax_ax0", { softmax($0[0], axis: 0) }, [[3, 5]], (-3, 3)),
        ("log_softmax", { logSoftmax($0[0]) }, [[3, 5]], (-3, 3)),
        ("binary_crossentropy", { binaryCrossentropy(sigmoid($0[0]), $0[1]) }, [[3, 4], [3, 4]], (0.1, 0.9))
    ]
    static let cases6: [Case] = [
        (
            "cce_int", { categoricalCrossentropy(softmax($0[0]), constant(try! NDArray([2, 0, 4] as [Int32]))) },
            [[3, 5]], (-2, 2)
        ),
        ("cce_onehot", { categoricalCrossentropy(softmax($0[0]), $0[1]) }, [[3, 5], [3, 5]], (0, 1)),
        (
            "softmax_xent", { softmaxCrossEntropy($0[0], constant(try! NDArray([2, 0, 4] as [Int32]))) }, [[3, 5]],
            (-3, 3)
        ),
        (
            "nll_tutorial", { -mean(log(softmax($0[0]))[arange(3), constant(try! NDArray([2, 0, 4] as [Int32]))]) },
            [[3, 5]], (-2, 2)
        )
    ]
    /// name → (expression, input shapes, value range), split in small tables to keep type checking fast.
    static let cases: [Case] = cases0 + cases1 + cases2 + cases3 + cases4 + cases5 + cases6

    static var names: [String] { cases.map(\.0) }

    @Test(arguments: GradTests.names)
    func verifyGradOnEveryOp(_ name: String) throws {
        let (_, f, shapes, range) = try #require(GradTests.cases.first { $0.0 == name })
        let points = shapes.enumerated().map { GradTests.rand($1, range.0, range.1, seed: UInt64(17 + $0)) }
        // Through float32 a 1e-6 step is lost in rounding: use a coarser step there.
        let coarse = name == "cast"
        let report = try verifyGrad(f, at: points, eps: coarse ? 1e-2 : 1e-6, relTolerance: coarse ? 1e-4 : 1e-5)
        #expect(report.passed)
    }

    @Test func verifyGradCatchesAWrongGradient() throws {
        // A deliberately wrong derivative must be reported, or the checks above prove nothing.
        #expect(throws: TheanoError.self) {
            try verifyGrad({ x in apply1(WrongSquare(), [x[0]]) }, at: [GradTests.rand([4], seed: 1)])
        }
    }
}

/// `x²` whose pullback claims `3x`.
struct WrongSquare: DifferentiableOp {
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] { [inputs[0]] }
    func perform(_ inputs: [NDArray]) throws -> [NDArray] { try Elemwise(Sqr()).perform(inputs) }
    func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        [.value(gradients[0]! * 3 * node.inputs[0])]
    }
}
