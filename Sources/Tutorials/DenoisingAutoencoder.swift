import Datasets
import Foundation
import NDArray
import Theano

/// A denoising autoencoder with tied weights, as the classic `dA`: the input is corrupted by a
/// binomial keep-mask, encoded `h = sigmoid(x̃ W + bHid)` and decoded `z = sigmoid(h Wᵀ + bVis)`;
/// the cost is the cross-entropy between `x` and `z`.
public final class DenoisingAutoencoder {
    public let W: SharedVariable
    public let bHid: SharedVariable
    public let bVis: SharedVariable
    public let input: Variable
    let streams: RandomStreams
    public var params: [SharedVariable] { [W, bHid, bVis] }

    /// `W`/`bHid` may be given to share them with a hidden layer (stacked autoencoders); else W
    /// is uniform in ±4·sqrt(6 / (nHidden + nVisible)) and the biases zero.
    public init(
        input: Variable, nVisible: Int, nHidden: Int, rng: inout SplitMix64, streams: RandomStreams,
        W: SharedVariable? = nil, bHid: SharedVariable? = nil
    ) throws {
        (self.W, self.bHid, bVis) = try sigmoidPair(nVisible, nHidden, input.dtype, &rng, W: W, hidden: bHid)
        self.input = input
        self.streams = streams
    }

    /// `x` with each pixel kept with probability `1 − level` (zeroed otherwise).
    public func corrupted(_ x: Variable, level: any RandomParameter) -> Variable {
        x * streams.binomial(x.shape, p: 1 - level.variable(x.dtype), dtype: x.dtype)
    }

    public func hidden(_ x: Variable) -> Variable { sigmoid(dot(x, W) + bHid) }
    public func reconstructed(_ h: Variable) -> Variable { sigmoid(dot(h, W.T) + bVis) }

    /// The mean cross-entropy reconstruction cost of the corrupted input, and the SGD updates.
    public func costUpdates(
        corruption: any RandomParameter, learningRate: any RandomParameter
    ) throws -> (Variable, [SharedVariable: Variable]) {
        let z = reconstructed(hidden(corrupted(input, level: corruption)))
        let perExample = -sum(input * log(z) + (1 - input) * log(1 - z), axis: 1)
        let cost = mean(perExample)
        let grads = try grad(cost, wrt: params)
        let lr = learningRate.variable(input.dtype)
        var updates: [SharedVariable: Variable] = [:]
        for (p, g) in zip(params, grads) { updates[p] = p - lr * g }
        return (cost, updates)
    }
}

/// Settings of the denoising-autoencoder tutorial.
public struct AutoencoderOptions: Sendable {
    public var corruption = 0.0
    public var learningRate = 0.1
    public var batchSize = 20
    public var epochs = 15
    public var hidden = 500
    public var seed: UInt64 = 123
    /// Where to write the first 100 filters as a 10×10 tile PNG.
    public var filters: URL?
    /// Where to write a ``Checkpoint`` after each epoch, and whether to go on from it.
    public var checkpoint: URL?
    public var resume = false
    public init() {}
}

/// Trains a denoising autoencoder on the MNIST training images; returns the mean cost of each
/// epoch.
public func trainDenoisingAutoencoder(
    data: MNIST, options: AutoencoderOptions, log: (String) -> Void = printFlushed
) throws -> (costs: [Double], seconds: Double, model: DenoisingAutoencoder) {
    let d = data.train.images.dtype
    let x = matrix("x", dtype: d)
    var rng = SplitMix64(seed: options.seed)
    let model = try DenoisingAutoencoder(
        input: x, nVisible: 784, nHidden: options.hidden, rng: &rng,
        streams: RandomStreams(seed: options.seed &+ 1))
    let (cost, updates) = try model.costUpdates(corruption: options.corruption, learningRate: options.learningRate)
    let trainX = shared(data.train.images, name: "trainX", borrow: true)
    let index = lscalar("index")
    let bs = Double(options.batchSize)
    let train = try function(
        inputs: [index], outputs: [cost], updates: updates,
        givens: [x: trainX[index * bs..<(index + 1) * bs]])
    let batches = data.train.count / options.batchSize
    let state = checkpointState(model.params, updatedBy: [train])
    let percent = Int((options.corruption * 100).rounded())
    let (checkpoint, start) = try openCheckpoint(
        options.checkpoint, model: "da-\(percent)", resume: options.resume,
        state: state, as: EpochProgress.self, log: log)
    var progress = start ?? EpochProgress()
    try runEpochs(
        phase: 0, epochs: options.epochs, progress: &progress, checkpoint: checkpoint,
        state: state
    ) { epoch in
        var total = 0.0
        for i in 0..<batches { total += try train(i)[0].item() }
        log(String(format: "Training epoch %d, cost %f", epoch, total / Double(batches)))
        return total / Double(batches)
    }
    let costs = progress.costs[0]
    let seconds = progress.seconds
    log(String(format: "The %.0f%% corruption code ran for %.2fm", options.corruption * 100, seconds / 60))
    if let url = options.filters {
        let filters = try model.W.value.transposed().sliced([.range(start: 0, stop: min(100, options.hidden), step: 1)])
        try writePNG(try tileImages(filters, imageShape: (28, 28), tiles: (10, 10)), to: url)
        log("filters written to \(url.path)")
    }
    return (costs, seconds, model)
}

/// The weights and biases of a sigmoid visible–hidden pair (dA, RBM): W uniform in
/// ±4·sqrt(6 / (nHidden + nVisible)) and zero biases, unless W or the hidden bias are shared.
func sigmoidPair(
    _ nVisible: Int, _ nHidden: Int, _ d: DType, _ rng: inout SplitMix64, W: SharedVariable?,
    hidden: SharedVariable?
) throws -> (SharedVariable, SharedVariable, SharedVariable) {
    let bound = 4 * (6.0 / Double(nHidden + nVisible)).squareRoot()
    return (
        try W ?? shared(NDArray.uniform([nVisible, nHidden], in: -bound...bound, dtype: d, using: &rng), name: "W"),
        try hidden ?? shared(NDArray.zeros([nHidden], dtype: d), name: "hbias"),
        shared(try NDArray.zeros([nVisible], dtype: d), name: "vbias")
    )
}
