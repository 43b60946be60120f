import Foundation
import NDArray
import Testing

@testable import Theano

/// The bad inputs of docs/RELIABILITY.md: each gives a typed error containing the fragment the
/// table lists, and no shared variable changes. A test below checks that every entry is in the
/// table, so the document and the tests cannot drift apart.
struct BadInputCatalogueTests {
    struct Entry: Sendable, CustomTestStringConvertible {
        let id: String
        let fragment: String
        let action: @Sendable () throws -> Void
        var testDescription: String { id }
        init(_ id: String, _ fragment: String, _ action: @escaping @Sendable () throws -> Void) {
            self.id = id
            self.fragment = fragment
            self.action = action
        }
    }

    /// A logistic-regression step whose shared variables every entry that calls it must leave as
    /// they were.
    final class Model: @unchecked Sendable {
        let x = fmatrix("x"), y = ivector("y")
        let W = shared(NDArray.filled([4, 3], 0.5).cast(to: .float32), name: "W")
        let b = shared(NDArray.filled([3], 0.25).cast(to: .float32), name: "b")
        let step: Function

        init() throws {
            let p = softmax(dot(x, W) + b)
            let cost = -mean(log(p)[arange(y.shape[0]), y])
            let (gW, gb) = try grad(cost, wrt: W, b)
            step = try function(inputs: [x, y], outputs: [cost], updates: [W: W - 0.1 * gW, b: b - 0.1 * gb])
        }

        var untouched: Bool { W.value.doubles.allSatisfy { $0 == 0.5 } && b.value.doubles.allSatisfy { $0 == 0.25 } }
    }

    static func floats(_ shape: [Int], _ value: Double = 1) -> NDArray { NDArray.filled(shape, value) }

    static let calls: [Entry] = [
        Entry("call-dtype-downcast", "an array of float64 cannot be passed as float32") {
            let m = try Model()
            try checkUntouched(m) { try m.step.call([floats([2, 4]).cast(to: .float64), [0, 1]]) }
        },
        Entry("call-dtype-labels", "an array of float32 cannot be passed as int32") {
            let m = try Model()
            try checkUntouched(m) {
                try m.step.call([floats([2, 4]).cast(to: .float32), floats([2]).cast(to: .float32)])
            }
        },
        Entry("call-rank", "needs 2 dimensions, got shape [4]") {
            let m = try Model()
            try checkUntouched(m) { try m.step.call([floats([4]).cast(to: .float32), [0]]) }
        },
        Entry("call-static-shape", "needs length 784 on dimension 1") {
            let x = tensor(.float32, shape: [nil, 784], name: "x")
            try function(inputs: [x], outputs: [sum(x)]).call([floats([2, 783]).cast(to: .float32)])
        },
        Entry("call-too-many-arguments", "got 3") {
            let m = try Model()
            try checkUntouched(m) { try m.step.call([floats([2, 4]).cast(to: .float32), [0, 1], [1]]) }
        },
        Entry("call-too-few-arguments", "function takes 2 arguments") {
            let m = try Model()
            try checkUntouched(m) { try m.step.call([floats([2, 4]).cast(to: .float32)]) }
        },
        Entry("call-named-unknown", "no value for input 'x'") {
            let m = try Model()
            let stranger = fmatrix("stranger")
            try checkUntouched(m) { try m.step.call([], named: [stranger: floats([2, 4]).cast(to: .float32)]) }
        },
        Entry("call-ragged-array", "nested arrays are ragged") {
            let x = dmatrix("x")
            try function(inputs: [x], outputs: [x * 2]).call([[[1.0, 2], [3]]])
        },
        Entry("call-literal-out-of-range", "the value 300.0 does not fit int8") {
            let b = bscalar("b")
            try function(inputs: [b], outputs: [b * 2]).call([300])
        },
        Entry("call-labels-out-of-range", "label 7 is out of range for 3 classes") {
            let m = try Model()
            try checkUntouched(m) { try m.step.call([floats([2, 4]).cast(to: .float32), [0, 7]]) }
        },
        Entry("call-negative-label", "label -9 is out of range") {
            let m = try Model()
            try checkUntouched(m) { try m.step.call([floats([2, 4]).cast(to: .float32), [-9, 0]]) }
        },
        Entry("call-minibatch-mismatch", "2 rows of logits but 3 labels") {
            let m = try Model()
            try checkUntouched(m) { try m.step.call([floats([2, 4]).cast(to: .float32), [0, 1, 2]]) }
        },
        Entry("call-features-mismatch", "Dot: shapes [2, 5] and [4, 3] are not aligned") {
            let m = try Model()
            try checkUntouched(m) { try m.step.call([floats([2, 5]).cast(to: .float32), [0, 1]]) }
        }
    ]
}

extension NDArray {
    /// A float64 array of `shape` holding `value` (for tests; shapes here are always valid).
    static func filled(_ shape: [Int], _ value: Double) -> NDArray {
        (try? NDArray.full(shape, value: value, dtype: .float64)) ?? NDArray(scalar: value)
    }
}

/// Runs `body`, which must throw, and checks the model's shared variables did not change.
func checkUntouched(_ m: BadInputCatalogueTests.Model, _ body: () throws -> Void) throws {
    do { try body() } catch {
        guard m.untouched else { throw TheanoError(.runtime, "shared variables changed after: \(error)") }
        throw error
    }
    throw TheanoError(.runtime, "no error was raised")
}
