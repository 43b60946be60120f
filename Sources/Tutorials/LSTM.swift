import Datasets
import Foundation
import NDArray
import Theano

/// An LSTM classifier of row-sequential MNIST, as `../shared/anchors/lstm_mnist.py` defines it:
/// each image is `steps` time steps of `inputs` pixels; one LSTM layer with gates i, f, g, o (in
/// that order, PyTorch's), then a softmax layer on the last hidden state.
///
/// ```swift
/// let x = matrix("x")
/// let model = try LSTMClassifier(input: x, hidden: 128, rng: &rng)
/// let cost = model.negativeLogLikelihood(ivector("y"))
/// ```
public final class LSTMClassifier {
    /// Input weights `(inputs, 4·hidden)`, one Glorot-uniform block per gate.
    public let W: SharedVariable
    /// Recurrent weights `(hidden, 4·hidden)`, one Glorot-uniform block per gate.
    public let U: SharedVariable
    /// Gate biases `(4·hidden,)`: zero, except 1 for the forget gate.
    public let b: SharedVariable
    /// The softmax layer on the last hidden state.
    public let output: LogisticRegression
    /// The hidden state after the last step, `(batch, hidden)`.
    public let lastHidden: Variable
    public var params: [SharedVariable] { [W, U, b, output.W, output.b] }

    public init(
        input x: Variable, hidden: Int, steps: Int = 28, inputs: Int = 28, classes: Int = 10,
        rng: inout SplitMix64
    ) throws {
        let d = x.dtype
        // Glorot uniform per gate: `blocks` matrices side by side.
        func glorot(_ nIn: Int, _ nOut: Int, blocks: Int, _ rng: inout SplitMix64) throws -> NDArray {
            let bound = (6.0 / Double(nIn + nOut)).squareRoot()
            let parts = try (0..<blocks).map { _ in
                try NDArray.uniform([nIn, nOut], in: -bound...bound, dtype: .float64, using: &rng).doubles
            }
            var flat: [Double] = []
            flat.reserveCapacity(nIn * nOut * blocks)
            for r in 0..<nIn { for p in parts { flat += p[(r * nOut)..<((r + 1) * nOut)] } }
            return try NDArray(flat, shape: [nIn, nOut * blocks]).cast(to: d)
        }
        W = shared(try glorot(inputs, hidden, blocks: 4, &rng), name: "W")
        U = shared(try glorot(hidden, hidden, blocks: 4, &rng), name: "U")
        let bias = (0..<4 * hidden).map { $0 >= hidden && $0 < 2 * hidden ? 1.0 : 0.0 }
        b = shared(NDArray(vector: bias).cast(to: d), name: "b")
        // The input projection of every step is one product, outside the loop.
        let rows = x.reshape([.int(-1), .int(steps), .int(inputs)]).dimshuffle(1, 0, 2)
        let projected = (dot(rows.reshape([.int(-1), .int(inputs)]), W) + b)
            .reshape([.int(steps), .int(-1), .int(4 * hidden)])
        let h0 = alloc(Constant(NDArray(scalar: 0, dtype: d)), [.variable(x.shape[0]), .int(hidden)])
        let H = hidden
        let (states, _) = try scan(
            { v in
                let pre = v[0] + dot(v[1], v[3])
                let i = sigmoid(pre[.all, 0..<H])
                let f = sigmoid(pre[.all, H..<2 * H])
                let g = tanh(pre[.all, 2 * H..<3 * H])
                let o = sigmoid(pre[.all, 3 * H..<4 * H])
                let c = f * v[2] + i * g
                return [o * tanh(c), c]
            }, sequences: [projected], outputsInfo: [h0, h0], nonSequences: [U])
        lastHidden = states[0][-1]
        var wrng = rng
        output = try LogisticRegression(input: lastHidden, nIn: hidden, nOut: classes)
        try output.W.setValue(try glorot(hidden, classes, blocks: 1, &wrng))
        rng = wrng
    }

    public func negativeLogLikelihood(_ y: Variable) -> Variable { output.negativeLogLikelihood(y) }
    public func errors(_ y: Variable) -> Variable { output.errors(y) }
}

extension TrainingOptions {
    /// The LSTM tutorial's settings: SGD with momentum 0.9, learning rate 0.1, minibatches of 100,
    /// hidden 128, a fixed number of epochs (no early stopping), evaluation in chunks of 1000.
    public static func lstm(dtype: DType = .float32) -> TrainingOptions {
        var o = TrainingOptions(learningRate: 0.1, batchSize: 100, maxEpochs: 10, patience: 0, dtype: dtype)
        o.hidden = 128
        o.momentum = 0.9
        o.evaluationBatchSize = 1000
        return o
    }
}

/// Trains the LSTM tutorial: every epoch runs all minibatches, then validates; the test error
/// is that of the epoch with the best validation error.
public func trainLSTM(
    data: MNIST, options: TrainingOptions = .lstm(),
    log: (String) -> Void = printFlushed
) throws -> (TrainingResult, LSTMClassifier) {
    let x = matrix("x", dtype: options.dtype)
    let y = ivector("y")
    var rng = SplitMix64(seed: options.seed)
    let model = try LSTMClassifier(input: x, hidden: options.hidden, rng: &rng)
    var fixed = options
    // Patience never runs out: the schedule is the epochs, validating once per epoch.
    fixed.patience = 2 * options.maxEpochs * max(1, data.train.count / options.batchSize) + 2
    let setup = try SupervisedSetup(
        data: data, options: fixed, x: x, y: y, cost: model.negativeLogLikelihood(y),
        errors: model.errors(y), params: model.params)
    let outcome = try setup.run(model: "lstm", options: fixed, log: log)
    if let url = options.saveTo {
        let names = ["W", "U", "b", "Wo", "bo"]
        try saveParameters(Dictionary(uniqueKeysWithValues: zip(names, model.params.map(\.value))), to: url)
    }
    return (TrainingResult(model: "lstm", outcome: outcome, dtype: options.dtype), model)
}
