import Foundation
import NDArray
import Testing

@testable import Theano

extension BadInputCatalogueTests {
    /// Graphs that cannot be built or cannot run: each names the op, the shapes and the line.
    static let graphs: [Entry] = [
        Entry("graph-dot-unaligned", "are not aligned: 3 (dim 1) != 4 (dim 0)") {
            _ = try function(inputs: [], outputs: [dot(constant(floats([2, 3])), constant(floats([4, 2])))])
        },
        Entry("graph-static-broadcast-conflict", "cannot be broadcast: dimension 0 is 3 and 4") {
            _ = try function(inputs: [], outputs: [constant(floats([3])) + constant(floats([4]))])
        },
        Entry("graph-axis-out-of-range", "axes [2] are out of range") {
            _ = try function(inputs: [], outputs: [sum(constant(floats([2, 2])), axis: 2)])
        },
        Entry("graph-reshape-two-unknowns", "at most one -1") {
            let x = dmatrix("x")
            _ = try function(inputs: [x], outputs: [x.reshape([-1, -1])])
        },
        Entry("graph-reshape-negative", "lengths must be ≥ 0, with at most one -1") {
            let x = dmatrix("x")
            try function(inputs: [x], outputs: [x.reshape([-2, 3])]).call([floats([2, 3])])
        },
        Entry("run-reshape-size", "cannot reshape array of size 6 into shape [4, 2]") {
            let x = dmatrix("x")
            try function(inputs: [x], outputs: [x.reshape([4, 2])]).call([floats([2, 3])])
        },
        Entry("run-dimshuffle-drops-long-axis", "cannot drop axis 0 of length 2") {
            let x = dmatrix("x")
            try function(inputs: [x], outputs: [x.dimshuffle(1)]).call([floats([2, 3])])
        },
        Entry("graph-concatenate-ranks", "concatenate needs tensors of one rank") {
            _ = try function(inputs: [], outputs: [concatenate([constant(floats([2, 3])), constant(floats([3]))])])
        },
        Entry("run-concatenate-shapes", "all dimensions but the axis must match") {
            let a = dmatrix("a")
            let b = dmatrix("b")
            try function(inputs: [a, b], outputs: [concatenate([a, b], axis: 0)]).call([floats([2, 3]), floats([2, 4])])
        },
        Entry("run-index-out-of-range", "index 5 is out of bounds for axis 0 with size 3") {
            let v = dvector("v")
            try function(inputs: [v], outputs: [v[5]]).call([floats([3])])
        },
        Entry("run-negative-index-out-of-range", "index -4 is out of bounds") {
            let v = dvector("v")
            try function(inputs: [v], outputs: [v[-4]]).call([floats([3])])
        },
        Entry("run-advanced-index-out-of-range", "index 10 is out of bounds for axis 0 with size 3") {
            let W = dmatrix("W")
            let i = lvector("i")
            try function(inputs: [W, i], outputs: [W[i]]).call([floats([3, 2]), [0, 10]])
        },
        Entry("run-inc-advanced-out-of-range", "index -7 is out of bounds") {
            let W = dmatrix("W")
            let i = lvector("i")
            try function(inputs: [W, i], outputs: [incSubtensor(W[i], constant(floats([2, 2])))]).call([
                floats([3, 2]), [1, -7]
            ])
        },
        Entry("run-set-subtensor-shape", "cannot be broadcast to the selection's shape") {
            let x = dmatrix("x")
            let v = dvector("v")
            try function(inputs: [x, v], outputs: [setSubtensor(x[1], v)]).call([floats([3, 2]), floats([5])])
        },
        Entry("graph-too-many-indices", "too many indices (2) for a 1-d tensor") {
            let v = dvector("v")
            _ = try function(inputs: [v], outputs: [v[1, 2]])
        },
        Entry("graph-advanced-separated", "advanced indices separated by slices") {
            let t = dtensor3("t")
            let i = lvector("i")
            _ = try function(inputs: [t, i], outputs: [t[i, .all, i]])
        },
        Entry("graph-logic-on-floats", "And needs bool inputs") {
            let x = dvector("x")
            _ = try function(inputs: [x], outputs: [x && x])
        },
        Entry("run-cross-entropy-label", "index 3 is out of bounds for axis 1") {
            let p = dmatrix("p")
            let y = ivector("y")
            try function(inputs: [p, y], outputs: [categoricalCrossentropy(p, y)]).call([floats([2, 3], 0.3), [0, 3]])
        },
        Entry("run-arange-step-zero", "arange step must not be zero") {
            let s = lscalar("s")
            let range = arange(constant(NDArray(scalar: Int64(0))), constant(NDArray(scalar: Int64(5))), step: s)
            try function(inputs: [s], outputs: [range]).call([0])
        },
        Entry("run-alloc-negative", "Alloc: negative dimension -3") {
            let n = lscalar("n")
            try function(inputs: [n], outputs: [alloc(constant(0.0), [.variable(n), .int(2)])]).call([-3])
        },
        Entry("run-alloc-too-large", "Alloc: out of memory") {
            let n = lscalar("n")
            try function(inputs: [n], outputs: [alloc(constant(0.0), [.variable(n), .variable(n)])]).call([1 << 20])
        },
        Entry("run-random-negative-shape", "has a negative length") {
            let n = lscalar("n")
            let srng = RandomStreams(seed: 1)
            try function(inputs: [n], outputs: [srng.uniform([.variable(n)], dtype: .float64)]).call([-1])
        },
        Entry("run-conv-channels", "images have 2 channels but the filters expect 3") {
            let x = dtensor4("x")
            let w = dtensor4("w")
            try function(inputs: [x, w], outputs: [conv2d(x, w)]).call([floats([1, 2, 5, 5]), floats([3, 3, 2, 2])])
        },
        Entry("eval-missing-input", "the graph needs 'x'") {
            let x = dvector("x")
            _ = try (x * 2).eval()
        }
    ]

    /// Compiling: inputs, givens, updates, gradients.
    static let compiling: [Entry] = [
        Entry("compile-unused-input", "is not used by the outputs or updates") {
            let x = dvector("x")
            let y = dvector("y")
            _ = try function(inputs: [x, y], outputs: [x * 2], onUnusedInput: .raise)
        },
        Entry("compile-missing-input", "the graph needs 'y'") {
            let x = dvector("x")
            let y = dvector("y")
            _ = try function(inputs: [x], outputs: [x * y])
        },
        Entry("compile-duplicate-input", "is listed twice") {
            let x = dvector("x")
            _ = try function(inputs: [x, x], outputs: [x * 2])
        },
        Entry("compile-shared-as-input", "cannot be an explicit input") {
            let s = shared(floats([2]))
            _ = try function(inputs: [s], outputs: [s * 2])
        },
        Entry("compile-constant-as-input", "cannot be an input") {
            let c = constant(floats([2]))
            _ = try function(inputs: [c], outputs: [c * 2])
        },
        Entry("compile-givens-dtype", "dtype and rank must match") {
            let x = fvector("x")
            let d = dvector("d")
            _ = try function(inputs: [d], outputs: [x * 2], givens: [x: d])
        },
        Entry("compile-givens-rank", "with 'm' (float64(?, ?))") {
            let x = dvector("x")
            let m = dmatrix("m")
            _ = try function(inputs: [m], outputs: [x * 2], givens: [x: m])
        },
        Entry("compile-update-dtype", "it must be float32") {
            let s = shared(floats([2]).cast(to: .float32))
            let d = dvector("d")
            _ = try function(inputs: [d], outputs: [], updates: [s: d * 2])
        },
        Entry("compile-update-rank", "it must be float64 with 1 dimensions") {
            let s = shared(floats([2]))
            let m = dmatrix("m")
            _ = try function(inputs: [m], outputs: [], updates: [s: m])
        },
        Entry("grad-non-scalar-cost", "the cost must be a scalar") {
            let x = dvector("x")
            _ = try grad(x * 2, wrt: x)
        },
        Entry("grad-disconnected", "does not influence the cost") {
            let x = dvector("x")
            let y = dvector("y")
            _ = try grad(sum(x), wrt: y)
        },
        Entry("grad-integer-input", "it is not a float tensor") {
            let i = lvector("i")
            _ = try grad(sum(i * 2), wrt: i)
        },
        Entry("shared-set-rank", "needs a 2-d value, got shape [4]") {
            let s = shared(floats([2, 2]))
            try s.setValue(floats([4]))
            if s.value.shape != [2, 2] { throw TheanoError(.runtime, "changed") }
        },
        Entry("shared-set-downcast", "without losing precision") {
            let s = shared(floats([2]).cast(to: .float32))
            try s.setValue(floats([2]))
        },
        Entry("flags-not-key-value", "is not key=value") { _ = try Config(flags: "floatX") },
        Entry("flags-bad-float", "floatX must be float32 or float64") { _ = try Config(flags: "floatX=float16") },
        Entry("flags-bad-mode", "unknown mode 'FASTEST'") { _ = try Config(flags: "mode=FASTEST") },
        Entry("flags-unknown", "unknown THEANO_FLAGS key 'florX'") { _ = try Config(flags: "florX=float32") },
        Entry("flags-bad-threads", "threads must be a positive integer") { _ = try Config(flags: "threads=-2") },
        Entry("flags-bad-bool", "profile must be True or False") { _ = try Config(flags: "profile=maybe") }
    ]
}

extension BadInputCatalogueTests {
    /// Errors about a node name the line of the user's code that built it (here, this file).
    @Test(arguments: graphs) func graphErrorsNameTheUsersLine(_ entry: Entry) {
        do {
            try entry.action()
            Issue.record("\(entry.id): no error")
        } catch let error as TheanoError {
            #expect("\(error)".contains("BadInputCatalogue+Graphs.swift:"), "\(entry.id): \(error)")
        } catch {
            Issue.record("\(entry.id): \(type(of: error)) is not a TheanoError")
        }
    }
}
