import Foundation
import NDArray
import Testing

@testable import Theano

/// Graphs, functions and their programs are freed when dropped (no Apply↔Variable cycle), and a
/// process that builds many functions stays within a bounded footprint.
@Suite(.serialized)
struct GraphMemoryTests {
    @Test func aDroppedGraphIsFreed() throws {
        weak var node: Apply?
        weak var input: Variable?
        weak var big: Constant?
        do {
            let x = dmatrix("x")
            let c = Constant(try NDArray.zeros([1000, 1000], dtype: .float64))
            let y = tanh(x + c) * 2
            node = y.owner
            input = x
            big = c
            #expect(node != nil && node?.outputs[0] === y)
        }
        #expect(node == nil && input == nil && big == nil)
    }

    @Test func anOutputNobodyHoldsIsMadeAgainWithItsType() throws {
        let x = dvector("x")
        let node = Apply.make(Reduce(kind: .sum, axes: [0]), [x])
        weak let first: Variable? = node.outputs[0]
        #expect(first == nil)
        let a = node.outputs[0]
        let b = node.outputs[0]
        #expect(a === b && a.owner === node && a.type == TensorType(.float64, shape: []))
        #expect(try a.eval([x: [1, 2, 3]]).doubles == [6])
    }

    @Test func aDroppedFunctionFreesItsGraphAndShared() throws {
        weak var function: Function?
        weak var weights: SharedVariable?
        do {
            let (f, W) = try logisticStep()
            function = f
            weights = W
            _ = try f(try NDArray.zeros([20, 784], dtype: .float32), try NDArray.zeros([20], dtype: .int32))
            _ = try f(try NDArray.zeros([20, 784], dtype: .float32), try NDArray.zeros([20], dtype: .int32))
        }
        #expect(function == nil && weights == nil)
    }

    // The figure (1,000 functions within 20 MB of resident memory) is measured in a
    // process of its own: TutorialsTests/MemoryFootprintTests.swift.

    /// One SGD step of the logistic-regression tutorial on a minibatch given as inputs.
    func logisticStep() throws -> (Function, SharedVariable) {
        let x = fmatrix("x")
        let y = ivector("y")
        let W = shared(try NDArray.zeros([784, 10], dtype: .float32), name: "W")
        let b = shared(try NDArray.zeros([10], dtype: .float32), name: "b")
        let p = softmax(dot(x, W) + b)
        let cost = -mean(log(p)[arange(y.shape[0]), y])
        let (gW, gb) = try grad(cost, wrt: W, b)
        let f = try function(
            inputs: [x, y], outputs: [cost, mean(neq(argmax(p, axis: 1), y))],
            updates: [W: W - 0.13 * gW, b: b - 0.13 * gb])
        return (f, W)
    }
}

/// Random streams' states hold their default updates without a cycle.
struct RandomGraphMemoryTests {
    @Test func aDroppedRandomFunctionIsFreedAndTheStreamStillDraws() throws {
        let srng = RandomStreams(seed: 3)
        weak var compiled: Function?
        weak var node: Apply?
        do {
            let x = dvector("x")
            let noisy = x * srng.binomial(x.shape, p: 0.5, dtype: .float64)
            node = noisy.owner
            let f = try function(inputs: [x], outputs: [noisy])
            compiled = f
            let ones: [Double] = Array(repeating: 1, count: 32)
            let a = try f(ones)[0].doubles
            let b = try f(ones)[0].doubles
            #expect(a != b)  // the default update advanced the state
        }
        #expect(compiled == nil && node == nil)
        #expect(srng.stateVariables.count == 1 && srng.stateVariables[0].defaultUpdate == nil)
        // A new draw from the same streams still works and advances.
        let y = dvector("y")
        let f = try function(inputs: [y], outputs: [y * srng.uniform(y.shape, dtype: .float64)])
        let a = try f([1, 1, 1])[0].doubles
        let b = try f([1, 1, 1])[0].doubles
        #expect(a != b)
    }
}
