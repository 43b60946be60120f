import Foundation
import NDArray
import Testing

@testable import Theano

/// Gradients at ties (maximum, minimum, max, min split evenly) and at zeros (prod exact).
struct TiesAndZerosTests {
    static let modes: [Mode] = [.fastRun, .fastCompile, .debug, .unoptimized]

    /// The gradient of `cost(x)` with respect to `x` at `value`, in `mode`.
    func gradient(_ value: [[Double]], mode: Mode, _ cost: (Variable) -> Variable) throws -> [Double] {
        let x = dmatrix("x")
        let g = try grad(cost(x), wrt: x)
        let array = try NDArray(value.flatMap { $0 }, shape: [value.count, value[0].count])
        return try function(inputs: [x], outputs: [g], mode: mode).call([array])[0].doubles
    }

    /// Expects the gradient of `cost` at `value` to be exactly `want`.
    func check(
        _ value: [[Double]], _ mode: Mode, _ want: [Double], _ cost: (Variable) -> Variable,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) throws {
        let got = try gradient(value, mode: mode, cost)
        #expect(got == want, "\(mode)", sourceLocation: sourceLocation)
    }

    @Test(arguments: modes) func elementwiseTiesShareTheGradient(mode: Mode) throws {
        try check([[1, -2, 3]], mode, [1, 1, 1]) { sum(maximum($0, $0)) }
        try check([[1, -2, 3]], mode, [1, 1, 1]) { sum(minimum($0, $0)) }
        // Against a constant: all of it where x wins, half at the tie, none where it loses.
        try check([[0, 1, -1]], mode, [0.5, 1, 0]) { sum(maximum($0, 0.0)) }
        try check([[0, 1, -1]], mode, [0.5, 0, 1]) { sum(minimum($0, 0.0)) }
        let y = dmatrix("y")
        let gy = try grad(sum(maximum(y * 1, y * 2)), wrt: y)
        let got = try function(inputs: [y], outputs: [gy], mode: mode).call([[[0, 1, -1]]])[0].doubles
        #expect(got == [1.5, 2, 1])
    }

    @Test(arguments: modes) func reductionTiesShareTheGradient(mode: Mode) throws {
        let rows: [[Double]] = [[3, 3, 1], [2, 2, 2], [-1, 5, 0]]
        let third: Double = 1.0 / 3.0
        try check(rows, mode, [0.5, 0.5, 0, third, third, third, 0, 1, 0]) { sum(max($0, axis: 1)) }
        try check(rows, mode, [0, 0, 0, 0, 1, 0, 1, 0, 1]) { sum(min($0, axis: 0)) }
        try check(rows, mode, [0, 0, 0, 0, 0, 0, 0, 1, 0]) { max($0) }
        try check([[2, 2], [2, 2]], mode, [0.25, 0.25, 0.25, 0.25]) { min($0) }
        // The gradient of a slice's maximum sums to the gradient of the maximum, ties or not.
        let g = try gradient(rows, mode: mode) { sum(max($0, axis: 1, keepdims: true) * 3) }
        let total: Double = g.reduce(0, +)
        #expect(Swift.abs(total - 9) < 1e-12)
    }

    @Test(arguments: modes) func prodIsExactAtZeros(mode: Mode) throws {
        let rows: [[Double]] = [[2, 4, 3], [2, 0, 3], [0, 5, 0], [0, 0, 0]]
        try check(rows, mode, [12, 6, 8, 0, 6, 0, 0, 0, 0, 0, 0, 0]) { sum(prod($0, axis: 1)) }
        try check([[2, 0], [3, 5]], mode, [3, 5, 2, 0]) { sum(prod($0, axis: 0)) }
        try check([[2, 0], [3, 5]], mode, [0, 30, 0, 0]) { prod($0) }
        try check([[2, 1], [3, 5]], mode, [15, 30, 10, 6]) { prod($0) }
    }

    @Test func verifyGradAtTiesAndZeros() throws {
        // Central differences see prod as linear in each entry, zeros included.
        let oneZero = try NDArray([1.5, 0, -2, 0.5, 3, -1] as [Double], shape: [2, 3])
        try verifyGrad({ prod($0[0], axis: 1) }, at: [oneZero])
        try verifyGrad({ prod($0[0]) * 1 }, at: [try NDArray([1.5, 0, -2, 0.7] as [Double], shape: [2, 2])])
        // Away from ties the split changes nothing.
        try verifyGrad(
            { maximum($0[0], $0[1]) }, at: [GradTests.rand([3, 4], seed: 5), GradTests.rand([3, 4], seed: 6)])
    }
}
