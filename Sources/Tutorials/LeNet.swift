import Datasets
import NDArray
import Theano

/// A convolution + max-pooling layer: `tanh(pool(conv(input, W)) + b)` with W uniform in
/// ±sqrt(6 / (fanIn + fanOut)), fanIn = channels·rows·cols, fanOut = filters·rows·cols / pool
/// area, b zero, as the classic tutorial's `LeNetConvPoolLayer`.
public final class LeNetConvPoolLayer {
    public let W: SharedVariable
    public let b: SharedVariable
    public let output: Variable
    public var params: [SharedVariable] { [W, b] }

    /// `filterShape`: (filters, channels, rows, cols).
    public init(
        input: Variable, filterShape: [Int], poolSize: (Int, Int) = (2, 2), rng: inout SplitMix64, dtype: DType? = nil
    ) throws {
        let d = dtype ?? input.dtype
        let fanIn = filterShape.dropFirst().reduce(1, *)
        let fanOut = filterShape[0] * filterShape[2] * filterShape[3] / (poolSize.0 * poolSize.1)
        let bound = (6.0 / Double(fanIn + fanOut)).squareRoot()
        W = shared(try NDArray.uniform(filterShape, in: -bound...bound, dtype: d, using: &rng), name: "W")
        b = shared(try NDArray.zeros([filterShape[0]], dtype: d), name: "b")
        let pooled = pool2d(conv2d(input, W), window: poolSize, ignoreBorder: true)
        output = tanh(pooled + b.dimshuffle("x", 0, "x", "x"))
    }
}

/// LeNet-5 as in the classic convolutional tutorial: two conv+pool layers (5×5 filters, 2×2
/// max-pooling), a 500-unit tanh layer and a softmax layer, on minibatches of 28×28 images.
public final class LeNet {
    public let layer0: LeNetConvPoolLayer
    public let layer1: LeNetConvPoolLayer
    public let hidden: HiddenLayer
    public let output: LogisticRegression
    public var params: [SharedVariable] { output.params + hidden.params + layer1.params + layer0.params }

    /// `input`: a (batch, 784) matrix of images.
    public init(input: Variable, batchSize: Int, nkerns: [Int] = [20, 50], rng: inout SplitMix64) throws {
        let images = input.reshape([batchSize, 1, 28, 28])
        layer0 = try LeNetConvPoolLayer(input: images, filterShape: [nkerns[0], 1, 5, 5], rng: &rng)
        layer1 = try LeNetConvPoolLayer(input: layer0.output, filterShape: [nkerns[1], nkerns[0], 5, 5], rng: &rng)
        hidden = try HiddenLayer(input: layer1.output.flatten(2), nIn: nkerns[1] * 4 * 4, nOut: 500, rng: &rng)
        output = try LogisticRegression(input: hidden.output, nIn: 500, nOut: 10)
    }

    public func negativeLogLikelihood(_ y: Variable) -> Variable { output.negativeLogLikelihood(y) }
    public func errors(_ y: Variable) -> Variable { output.errors(y) }
}

/// Trains LeNet-5 (the convolutional tutorial) and returns its result.
public func trainLeNet(
    data: MNIST, options: TrainingOptions = .lenet(),
    log: (String) -> Void = printFlushed
) throws -> (TrainingResult, LeNet) {
    let x = matrix("x", dtype: options.dtype)
    let y = ivector("y")
    var rng = SplitMix64(seed: options.seed)
    let model = try LeNet(input: x, batchSize: options.batchSize, nkerns: options.nkerns, rng: &rng)
    let setup = try SupervisedSetup(
        data: data, options: options, x: x, y: y, cost: model.negativeLogLikelihood(y),
        errors: model.errors(y), params: model.params)
    let outcome = try setup.run(model: "lenet", options: options, log: log)
    if let url = options.saveTo {
        try saveParameters(
            [
                "layer0_W": model.layer0.W.value, "layer0_b": model.layer0.b.value,
                "layer1_W": model.layer1.W.value, "layer1_b": model.layer1.b.value,
                "hidden_W": model.hidden.W.value, "hidden_b": model.hidden.b.value,
                "W": model.output.W.value, "b": model.output.b.value
            ], to: url)
    }
    return (TrainingResult(model: "lenet", outcome: outcome, dtype: options.dtype), model)
}
