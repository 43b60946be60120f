import NDArray
import Testing
import TheanoTestSupport

@testable import Theano

/// Every scalar op, as an elementwise op, through `checkOp`:
/// its type rule, each backend against `perform` in float32 and float64 (broadcasting a row),
/// its gradient where it has one, and `Hashable`.
@Suite("Scalar ops: type rule, every backend, gradient and Hashable, in one check each")
struct ScalarOpTests {
    /// How to sample an op's inputs.
    enum Input {
        case real(ClosedRange<Double>)
        case bool
    }

    struct Case: @unchecked Sendable, CustomStringConvertible {
        let op: any Op
        let inputs: [Input]
        /// False for ops whose gradient is zero almost everywhere or undefined at their samples.
        var gradient = true
        var description: String { "\(op)" }
    }

    static func unary<S: ScalarOp>(_ s: S, _ range: ClosedRange<Double> = -3...3, gradient: Bool = true) -> Case {
        Case(op: Elemwise(s), inputs: [.real(range)], gradient: gradient)
    }

    static func binary<S: ScalarOp>(
        _ s: S, _ x: ClosedRange<Double> = -3...3, _ y: ClosedRange<Double> = -3...3, gradient: Bool = true
    ) -> Case {
        Case(op: Elemwise(s), inputs: [.real(x), .real(y)], gradient: gradient)
    }

    static let cases: [Case] = [
        unary(Neg()), unary(Abs()), unary(Sign(), gradient: false), unary(Exp()), unary(Expm1()),
        unary(Log(), 0.5...3), unary(Log1p(), -0.5...3), unary(Sqrt(), 0.5...3), unary(Sqr()),
        unary(Reciprocal(), 0.5...3), unary(Tanh()), unary(Sigmoid(), -8...8), unary(Softplus(), -8...8),
        unary(Softsign(), -8...8), unary(Relu()), unary(Sin()), unary(Cos()),
        unary(Floor(), gradient: false), unary(Ceil(), gradient: false), unary(Round(), gradient: false),
        unary(IsNan(), gradient: false), unary(IsInf(), gradient: false), unary(Cast(.int32), gradient: false),
        binary(Add()), binary(Sub()), binary(Mul()), binary(TrueDiv(), -3...3, 0.5...2.5),
        binary(IntDiv(), -3...3, 0.5...2.5, gradient: false), binary(Mod(), -3...3, 0.5...2.5, gradient: false),
        binary(Pow(), 0.5...3, -2...2), binary(Maximum()), binary(Minimum()),
        binary(EQ(), gradient: false), binary(NEQ(), gradient: false), binary(LT(), gradient: false),
        binary(LE(), gradient: false), binary(GT(), gradient: false), binary(GE(), gradient: false),
        Case(op: Elemwise(And()), inputs: [.bool, .bool], gradient: false),
        Case(op: Elemwise(Or()), inputs: [.bool, .bool], gradient: false),
        Case(op: Elemwise(Xor()), inputs: [.bool, .bool], gradient: false),
        Case(op: Elemwise(Not()), inputs: [.bool], gradient: false),
        Case(op: Elemwise(Clip()), inputs: [.real(-3...3), .real(-1.5...(-0.5)), .real(0.5...1.5)]),
        Case(op: Elemwise(Switch()), inputs: [.bool, .real(-3...3), .real(-3...3)])
    ]

    /// A (3, 4) first input and (4,) rows for the others, so every op also broadcasts.
    static func samples(_ c: Case) throws -> [[NDArray]] {
        var rng = SplitMix64(seed: 11)
        return try [DType.float32, .float64].map { dtype in
            try c.inputs.enumerated().map { k, input in
                let shape = k == 0 ? [3, 4] : [4]
                switch input {
                case .bool:
                    return try NDArray.uniform(shape, in: -1...1, dtype: .float64, using: &rng)
                        .mapElements(to: .bool) { $0 > 0 ? 1 : 0 }
                case .real(let range):
                    return try NDArray.uniform(shape, in: range, dtype: dtype, using: &rng)
                }
            }
        }
    }

    @Test("each scalar op passes checkOp", arguments: cases)
    func scalarOp(_ c: Case) throws {
        let others = Self.cases.map(\.op).filter { "\($0)" != "\(c.op)" }
        checkOp(c.op, samples: try Self.samples(c), unequal: others, gradient: c.gradient)
    }
}
