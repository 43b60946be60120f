import Datasets
import Foundation
import NDArray
import Testing

@testable import Theano
@testable import Tutorials

struct LSTMModelTests {
    /// The last hidden state of a tiny LSTM (2 examples, 3 steps of 2 inputs, hidden 2) against
    /// the recurrence written out by hand; the forget-gate bias starts at 1, the others at 0.
    @Test func lastHiddenMatchesTheRecurrence() throws {
        let x = matrix("x", dtype: .float64)
        var rng = SplitMix64(seed: 7)
        let model = try LSTMClassifier(input: x, hidden: 2, steps: 3, inputs: 2, classes: 3, rng: &rng)
        #expect(model.W.value.shape == [2, 8] && model.U.value.shape == [2, 8])
        #expect(model.b.value.doubles == [0, 0, 1, 1, 0, 0, 0, 0])
        #expect(model.output.W.value.shape == [2, 3] && model.output.W.value.doubles.contains { $0 != 0 })
        let xs: [Double] = [0.1, -0.4, 0.7, 0.2, -0.3, 0.9, 0.5, 0.5, -0.8, 0.3, 0.0, 0.6]
        let got = try model.lastHidden.eval([x: try NDArray(xs, shape: [2, 6])]).doubles

        let W = model.W.value.doubles
        let U = model.U.value.doubles
        let b = model.b.value.doubles
        func sig(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        var want: [Double] = []
        for n in 0..<2 {
            var h = [0.0, 0.0]
            var c = [0.0, 0.0]
            for t in 0..<3 {
                let xt = [xs[n * 6 + t * 2], xs[n * 6 + t * 2 + 1]]
                let pre = (0..<8).map { j in
                    b[j] + xt[0] * W[j] + xt[1] * W[8 + j] + h[0] * U[j] + h[1] * U[8 + j]
                }
                for k in 0..<2 {
                    c[k] = sig(pre[2 + k]) * c[k] + sig(pre[k]) * Foundation.tanh(pre[4 + k])
                    h[k] = sig(pre[6 + k]) * Foundation.tanh(c[k])
                }
            }
            want += h
        }
        #expect(zip(got, want).allSatisfy { abs($0 - $1) < 1e-12 }, "\(got) vs \(want)")
    }

    /// The gradient of the LSTM's cost through the loop matches finite differences.
    @Test func gradientThroughTheLoop() throws {
        var rng = SplitMix64(seed: 3)
        let x0 = try NDArray.uniform([2, 6], in: -1...1, dtype: .float64, using: &rng)
        let report = try verifyGrad(
            { v in
                var r = SplitMix64(seed: 11)
                guard let model = try? LSTMClassifier(input: v[0], hidden: 3, steps: 3, inputs: 2, rng: &r) else {
                    return v[0]
                }
                return sum(model.lastHidden * model.lastHidden)
            }, at: [x0])
        #expect(report.passed, "\(report)")
    }
}

@Suite(.enabled(if: mnist != nil, "MNIST not found (set MNIST_DIR)"))
struct LSTMTutorialTests {
    /// A small LSTM's model, its symbolic inputs and its compiled tutorial functions.
    func small(
        _ data: MNIST, hidden: Int, seed: UInt64, _ options: TrainingOptions
    ) throws -> (LSTMClassifier, Variable, Variable, SupervisedSetup) {
        let x = matrix("x", dtype: .float32)
        let y = ivector("y")
        var rng = SplitMix64(seed: seed)
        let model = try LSTMClassifier(input: x, hidden: hidden, rng: &rng)
        let setup = try SupervisedSetup(
            data: data, options: options, x: x, y: y, cost: model.negativeLogLikelihood(y),
            errors: model.errors(y), params: model.params)
        return (model, x, y, setup)
    }

    /// A small LSTM (hidden 16) learns from 40 minibatches of real MNIST (its mean cost falls from
    /// 2.28 to about 1.95), and its first momentum step is a plain SGD step (the velocity starts
    /// at zero).
    @Test func smallLSTMLearns() throws {
        let data = try #require(mnist).prefix(train: 4000, evaluation: 1000)
        var options = TrainingOptions.lstm()
        options.hidden = 16
        options.maxEpochs = 1
        let (model, x, y, setup) = try small(data, hidden: 16, seed: 1234, options)
        #expect(setup.nTrain == 40 && setup.nValid == 1)

        let batch = try data.train.images.sliced([.range(start: 0, stop: 100, step: 1)])
        let labels = try data.train.labels.sliced([.range(start: 0, stop: 100, step: 1)])
        let gU = try #require(try grad(model.negativeLogLikelihood(y), wrt: [model.U]).first)
        let expectedU = try (model.U - 0.1 * gU).eval([x: batch, y: labels]).doubles
        var costs: [Double] = [try setup.train(0)[0].item()]
        let U1 = model.U.value.doubles
        #expect(zip(U1, expectedU).allSatisfy { abs($0 - $1) < 1e-5 })
        for i in 1..<40 { costs.append(try setup.train(i)[0].item()) }
        let first = costs.prefix(5).reduce(0, +) / 5
        let last = costs.suffix(5).reduce(0, +) / 5
        #expect(first > 2.2 && last < first - 0.15, "\(costs)")
        #expect(try setup.validate(0)[0].item() < 0.8)
        // The velocities are saved by checkpoints with the parameters.
        #expect(setup.state.keys.filter { $0.hasPrefix("state") }.count == 5, "\(setup.state.keys.sorted())")
    }

    /// DEBUG mode checks the LSTM's training graph, scan included, for two minibatches.
    @Test func lstmRunsCleanInDebugMode() throws {
        let data = try #require(mnist).prefix(train: 200, evaluation: 100)
        var options = TrainingOptions.lstm()
        options.mode = .debug
        options.batchSize = 10
        let setup = try small(data, hidden: 4, seed: 1, options).3
        for i in 0..<2 { _ = try setup.train(i) }
        #expect(try setup.validate(0)[0].item() <= 1)
    }
}
