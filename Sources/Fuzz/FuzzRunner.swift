import Foundation
import NDArray
import Theano

/// Runs fuzz cases: builds each graph through the public API, compiles it in every mode, checks
/// the dtype, shape and values against NumPy's, and checks the gradient of the float64 cases of
/// smooth ops against central finite differences, in every mode too
/// (``verifyGrad(_:at:eps:relTolerance:absTolerance:seed:mode:)``).
///
/// ```swift
/// let failures = FuzzRunner().run(try FuzzCase.load(url))
/// ```
public struct FuzzRunner: Sendable {
    public var modes: [Mode]
    public var checkGradients: Bool

    public init(modes: [Mode] = [.fastRun, .fastCompile, .debug], checkGradients: Bool = true) {
        self.modes = modes
        self.checkGradients = checkGradients
    }

    /// One disagreement: the case, where (a mode, or "gradient", or "type") and what.
    public struct Failure: Sendable, CustomStringConvertible {
        public var id: Int
        public var place: String
        public var message: String
        public var description: String { "case \(id) [\(place)]: \(message)" }
    }

    /// What a run of many cases found.
    public struct Totals: Sendable {
        public var cases = 0, runs = 0, gradients = 0
        public var failures: [Failure] = []
    }

    public func run(_ cases: [FuzzCase]) -> Totals {
        var totals = Totals()
        for c in cases {
            totals.cases += 1
            totals.runs += modes.count
            if checkGradients && c.grad { totals.gradients += modes.count }
            totals.failures += run(c)
        }
        return totals
    }

    /// The failures of one case (none when it agrees everywhere).
    public func run(_ c: FuzzCase) -> [Failure] {
        var failures: [Failure] = []
        func fail(_ place: String, _ message: String) {
            failures.append(Failure(id: c.id, place: place, message: message))
        }
        let inputs: [Variable]
        let values: [NDArray]
        let out: Variable
        do {
            values = try c.inputs.map { try $0.array() }
            (inputs, out) = try graph(c)
        } catch {
            fail("build", "\(error)")
            return failures
        }
        let expected: NDArray
        do { expected = try c.expected.array() } catch {
            fail("build", "\(error)")
            return failures
        }
        if out.dtype != expected.dtype || out.ndim != expected.ndim {
            fail(
                "type",
                "the graph gives \(out.dtype) of rank \(out.ndim), "
                    + "NumPy \(expected.dtype) of rank \(expected.ndim)")
            return failures
        }
        for mode in modes {
            do {
                let f = try function(inputs: inputs, outputs: [out], mode: mode, onUnusedInput: .ignore)
                let got = try f.call(values)[0]
                if let problem = compare(got, expected, tolerance: tolerance(c)) { fail(mode.name, problem) }
            } catch {
                fail(mode.name, "\(error)")
            }
        }
        if checkGradients && c.grad {
            let differentiable = c.inputs.indices.filter { c.inputs[$0].dtype == "float64" }
            for mode in modes {
                do {
                    try verifyGrad(
                        { vars in
                            var all = values.map { Constant($0) as Variable }
                            for (k, i) in differentiable.enumerated() { all[i] = vars[k] }
                            return (try? build(c, inputs: all)) ?? vars[0]
                        }, at: differentiable.map { values[$0] }, relTolerance: 1e-4, absTolerance: 1e-6, mode: mode)
                } catch {
                    fail("gradient \(mode.name)", "\(error)")
                }
            }
        }
        return failures
    }

    /// `c`'s graph: its input variables (with the static lengths the case declares) and its last
    /// node's output.
    public func graph(_ c: FuzzCase) throws -> (inputs: [Variable], output: Variable) {
        let inputs = try c.inputs.enumerated().map { i, t in
            tensor(
                try FuzzCase.dtype(t.dtype),
                shape: t.shape.enumerated().map { d, n in (t.static?[d] ?? false) ? n : nil }, name: "in\(i)")
        }
        return (inputs, try build(c, inputs: inputs))
    }

    /// The graph of `c` over `inputs`: its last node's output.
    func build(_ c: FuzzCase, inputs: [Variable]) throws -> Variable {
        var values = inputs
        for node in c.nodes {
            guard let make = FuzzOps.table[node.op] else { throw FuzzError("unknown op \(node.op)") }
            guard node.args.allSatisfy({ $0 >= 0 && $0 < values.count }) else {
                throw FuzzError("\(node.op) reads a value that does not exist yet: \(node.args)")
            }
            values.append(try make(node.args.map { values[$0] }, node))
        }
        guard let last = values.last, !c.nodes.isEmpty else { throw FuzzError("a case without nodes") }
        return last
    }

    /// Relative tolerance by the least precise float in the graph; the absolute one scales with
    /// the largest value any node holds (cancellation loses digits of that size, not the result's).
    func tolerance(_ c: FuzzCase) -> (rel: Double, abs: Double) {
        let single = c.inputs.contains { $0.dtype == "float32" } || c.nodes.contains { $0.dtype == "float32" }
        let rel = single ? 2e-4 : 1e-9
        return (rel, rel * c.scale)
    }

    func compare(_ got: NDArray, _ want: NDArray, tolerance: (rel: Double, abs: Double)) -> String? {
        guard got.shape == want.shape else { return "shape \(got.shape), NumPy \(want.shape)" }
        guard got.dtype == want.dtype else { return "dtype \(got.dtype), NumPy \(want.dtype)" }
        let a = got.doubles
        let b = want.doubles
        for k in 0..<a.count {
            let ok =
                want.dtype.isFloat
                ? Swift.abs(a[k] - b[k]) <= tolerance.abs + tolerance.rel * Swift.abs(b[k])
                : a[k] == b[k]
            if !ok { return "element \(k): \(a[k]), NumPy \(b[k]) (of \(a.count))" }
        }
        return nil
    }
}
