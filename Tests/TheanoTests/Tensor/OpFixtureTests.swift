import NDArray
import Testing

@testable import Theano

/// Every op against numpy on random inputs (float32, float64 and some integer cases), including
/// broadcasting, size-1 dimensions, empty arrays and negative axes.
struct OpFixtureTests {
    typealias Build = @Sendable ([Variable]) -> Variable

    static let cases: [String: Build] = {
        var c: [String: Build] = [
            "neg": { -$0[0] }, "abs": { abs($0[0]) }, "sign": { sign($0[0]) }, "exp": { exp($0[0]) },
            "log": { log($0[0]) }, "log1p": { log1p($0[0]) }, "expm1": { expm1($0[0]) },
            "sqrt": { sqrt($0[0]) }, "sqr": { sqr($0[0]) }, "reciprocal": { reciprocal($0[0]) },
            "tanh": { tanh($0[0]) }, "sigmoid": { sigmoid($0[0]) }, "softplus": { softplus($0[0]) },
            "softsign": { softsign($0[0]) },
            "relu": { relu($0[0]) }, "sin": { sin($0[0]) }, "cos": { cos($0[0]) },
            "floor": { floor($0[0]) }, "ceil": { ceil($0[0]) }, "round": { round($0[0]) },
            "isnan": { isnan($0[0]) }, "isinf": { isinf($0[0]) },
            "clip": { clip($0[0], $0[1], $0[2]) }, "switch": { select($0[0], $0[1], $0[2]) },
            "cast_int32": { cast($0[0], .int32) },
            "var_ax1": { variance($0[0], axis: 1) }, "std_all_ddof1": { std($0[0], ddof: 1) },
            "argmax_ax1": { argmax($0[0], axis: 1) }, "argmin_axm1": { argmin($0[0], axis: -1) },
            "argmax_none": { argmax($0[0]) }, "all_ax0": { all($0[0], axis: 0) }, "any_ax2": { any($0[0], axis: 2) },
            "sum_empty": { sum($0[0], axis: 0) },
            "reshape": { $0[0].reshape([4, -1]) }, "flatten2": { $0[0].flatten(2) },
            "dimshuffle": { $0[0].dimshuffle(2, "x", 0, 1) }, "transpose": { $0[0].T },
            "concatenate": { concatenate([$0[0], $0[1]], axis: 1) }, "stack": { stack([$0[0], $0[1]], axis: 1) },
            "index_basic": { $0[0][1, 1..<3, Slice(step: -2)] }, "index_negative": { $0[0][-1, .all, -2] },
            "index_adv_rows": { $0[0][$0[1]] }, "index_adv_pairs": { $0[0][arange($0[0].shape[0]), $0[1]] },
            "set_basic": { setSubtensor($0[0][1], $0[1]) }, "inc_adv_repeat": { incSubtensor($0[0][$0[1]], $0[2]) },
            "dot_mm": { dot($0[0], $0[1]) }, "dot_mv": { dot($0[0], $0[1]) }, "dot_vm": { dot($0[0], $0[1]) },
            "dot_vv": { dot($0[0], $0[1]) }, "batched_dot": { batchedDot($0[0], $0[1]) },
            "outer": { outer($0[0], $0[1]) },
            "softmax": { softmax($0[0]) }, "log_softmax": { logSoftmax($0[0]) },
            "cce_int": { categoricalCrossentropy($0[0], $0[1]) },
            "cce_onehot": { categoricalCrossentropy($0[0], $0[1]) },
            "bce": { binaryCrossentropy($0[0], $0[1]) }, "softmax_xent": { softmaxCrossEntropy($0[0], $0[1]) }
        ]
        let binary: [String: @Sendable (Variable, Variable) -> Variable] = [
            "add": { $0 + $1 }, "sub": { $0 - $1 }, "mul": { $0 * $1 }, "truediv": { $0 / $1 },
            "intdiv": { intdiv($0, $1) }, "mod": { $0 % $1 }, "pow": { $0 ** $1 }, "maximum": { maximum($0, $1) },
            "minimum": { minimum($0, $1) }, "eq": { eq($0, $1) }, "neq": { neq($0, $1) }, "lt": { lt($0, $1) },
            "le": { le($0, $1) }, "gt": { gt($0, $1) }, "ge": { ge($0, $1) }
        ]
        for (name, f) in binary {
            for suffix in ["", "_bcast", "_empty"] { c[name + suffix] = { f($0[0], $0[1]) } }
        }
        let reductions: [String: @Sendable (Variable, Axes, Bool) -> Variable] = [
            "sum": { sum($0, axis: $1, keepdims: $2) }, "prod": { prod($0, axis: $1, keepdims: $2) },
            "mean": { mean($0, axis: $1, keepdims: $2) }, "max": { max($0, axis: $1, keepdims: $2) },
            "min": { min($0, axis: $1, keepdims: $2) }
        ]
        for (name, f) in reductions {
            c[name + "_all"] = { f($0[0], nil, false) }
            c[name + "_ax1"] = { f($0[0], 1, false) }
            c[name + "_axm1"] = { f($0[0], -1, false) }
            c[name + "_ax02_keep"] = { f($0[0], [0, 2], true) }
        }
        return c
    }()

    /// (case, dtype) pairs present in the fixture file.
    static var instances: [String] {
        Set(fixtures.keys.filter { $0.hasSuffix(".out") }.map { String($0.dropLast(4)) }).sorted()
    }

    @Test func fixturesArePresent() {
        #expect(OpFixtureTests.instances.count > 200)
        let names = Set(OpFixtureTests.instances.map { String($0.split(separator: ".")[0]) })
        #expect(names.subtracting(OpFixtureTests.cases.keys).isEmpty, "fixture cases without a Swift builder")
        #expect(Set(OpFixtureTests.cases.keys).subtracting(names).isEmpty, "Swift builders without a fixture")
    }

    @Test(arguments: OpFixtureTests.instances)
    func matchesNumpy(_ instance: String) throws {
        let name = String(instance.split(separator: ".")[0])
        let build = try #require(OpFixtureTests.cases[name], "no builder for \(name)")
        var values: [NDArray] = []
        while let v = fixtures["\(instance).in\(values.count)"] { values.append(v) }
        let expected = try #require(fixtures["\(instance).out"])
        let vars = values.enumerated().map { input(like: $1, "in\($0)") }
        let f = try function(inputs: vars, outputs: [build(vars)])
        let got = try f.call(values)[0]
        let loose = ["float32"].contains(instance.split(separator: ".")[1].description) && name.hasPrefix("prod")
        expectClose(got, expected, rtol: loose ? 1e-4 : nil, instance)
    }
}
