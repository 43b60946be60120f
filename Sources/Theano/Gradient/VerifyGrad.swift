import Foundation
import NDArray

/// The result of a finite-difference gradient check.
public struct GradCheckReport: CustomStringConvertible, Sendable {
    /// Per input: the largest absolute and relative differences between analytic and numeric
    /// gradients, and where (flat index) the worst one is.
    public struct Entry: Sendable {
        public var maxAbsError: Double
        public var maxRelError: Double
        public var worstIndex: Int
        public var analytic: Double
        public var numeric: Double
    }
    public var entries: [Entry]
    public var passed: Bool

    public var description: String {
        entries.enumerated().map { i, e in
            "input \(i): max abs error \(e.maxAbsError), max rel error \(e.maxRelError) (element \(e.worstIndex): "
                + "analytic \(e.analytic), numeric \(e.numeric))"
        }.joined(separator: "\n")
    }
}

/// Checks `grad` against central finite differences in float64 at `points`.
///
/// The expression is made scalar by a fixed random projection (`sum(f(x) * R)`), so every
/// output element's gradient is checked. An element passes when
/// `|analytic - numeric| ≤ absTolerance + relTolerance · max(|analytic|, |numeric|)`. Throws a
/// ``TheanoError`` of kind `.gradient` with the report when some element fails. `mode` compiles
/// the functions (default: `Config.current.mode`).
///
/// ```swift
/// try verifyGrad({ x in tanh(x[0]) * 2 }, at: [try NDArray([0.1, -0.7, 2] as [Double])])
/// ```
@discardableResult
public func verifyGrad(
    _ f: ([Variable]) -> Variable, at points: [NDArray], eps: Double = 1e-6,
    relTolerance: Double = 1e-5, absTolerance: Double = 1e-7,
    seed: UInt64 = 42, mode: Mode? = nil
) throws -> GradCheckReport {
    let values = points.map { $0.cast(to: .float64) }
    let vars = values.enumerated().map { i, v in
        Variable(
            type: TensorType(.float64, shape: Array(repeating: nil, count: v.ndim)), name: "x\(i)",
            owner: nil, index: 0, location: .capture())
    }
    let out = f(vars)
    if let bad = Graph.topologicalOrder([out]).first(where: { $0.error != nil }), let e = bad.error { throw e }
    let outValue = try function(inputs: vars, outputs: [out], mode: mode, onUnusedInput: .ignore).call(values)[0]
    var rng = SplitMix64(seed: seed)
    let projection = try NDArray((0..<outValue.count).map { _ in rng.uniform(-1, 1) }, shape: outValue.shape)
    let cost = sum(cast(out, .float64) * Constant(projection))
    let grads = try grad(cost, wrt: vars, disconnectedInputs: .ignore)
    let costFn = try function(inputs: vars, outputs: [cost], mode: mode, onUnusedInput: .ignore)
    let gradFn = try function(inputs: vars, outputs: grads, mode: mode, onUnusedInput: .ignore)
    let analytic = try gradFn.call(values)

    var entries: [GradCheckReport.Entry] = []
    var passed = true
    for (k, x) in values.enumerated() {
        var entry = GradCheckReport.Entry(maxAbsError: 0, maxRelError: 0, worstIndex: 0, analytic: 0, numeric: 0)
        let a = analytic[k].doubles
        let xs = x.doubles
        var worst = -1.0
        for i in 0..<x.count {
            var args = values
            var shifted = xs
            shifted[i] = xs[i] + eps
            args[k] = try NDArray(shifted, shape: x.shape)
            let cp = try costFn.call(args)[0].item()
            shifted[i] = xs[i] - eps
            args[k] = try NDArray(shifted, shape: x.shape)
            let cm = try costFn.call(args)[0].item()
            let numeric = (cp - cm) / (2 * eps)
            let absErr = abs(a[i] - numeric)
            let scale = max(abs(a[i]), abs(numeric))
            let relErr = scale > 0 ? absErr / scale : 0
            entry.maxAbsError = max(entry.maxAbsError, absErr)
            entry.maxRelError = max(entry.maxRelError, relErr)
            let excess = absErr - (absTolerance + relTolerance * scale)
            if excess > worst {
                worst = excess
                entry.worstIndex = i
                entry.analytic = a[i]
                entry.numeric = numeric
            }
            if excess > 0 { passed = false }
        }
        entries.append(entry)
    }
    let report = GradCheckReport(entries: entries, passed: passed)
    if !passed { throw TheanoError(.gradient, "verifyGrad failed:\n\(report)", location: out.owner?.location) }
    return report
}
