import Datasets
import Foundation
import NDArray
import Theano

/// Sigmoid hidden layers with a logistic-regression layer on top: the supervised network that
/// stacked autoencoders and deep belief networks pre-train layer by layer.
public final class SigmoidStack {
    public let layers: [HiddenLayer]
    public let output: LogisticRegression
    public var params: [SharedVariable] { layers.flatMap(\.params) + output.params }

    public init(input: Variable, nIn: Int, hidden: [Int], nOut: Int, rng: inout SplitMix64) throws {
        var layers: [HiddenLayer] = []
        var x = input
        var width = nIn
        for n in hidden {
            let layer = try HiddenLayer(
                input: x, nIn: width, nOut: n, rng: &rng, activation: sigmoid, sigmoidScale: true)
            layers.append(layer)
            x = layer.output
            width = n
        }
        self.layers = layers
        output = try LogisticRegression(input: x, nIn: width, nOut: nOut)
    }

    /// The input of layer `i` (the network's input for i = 0).
    func layerInput(_ i: Int, _ x: Variable) -> Variable { i == 0 ? x : layers[i - 1].output }
}

/// Settings of the two deep tutorials.
public struct DeepOptions: Sendable {
    public var hidden = [1000, 1000, 1000]
    public var pretrainEpochs: Int
    public var pretrainLearningRate: Double
    public var pretrainBatchSize: Int
    public var finetune: TrainingOptions
    /// Stacked autoencoders: the corruption level of each layer.
    public var corruption = [0.1, 0.2, 0.3]
    /// Deep belief networks: Gibbs steps of the CD pre-training.
    public var k = 1
    public var seed: UInt64 = 89677
    /// Fine-tuning patience in epochs (the classic codes: 10 for SdA, 4 for DBN).
    public var patienceEpochs = 10

    /// The classic `SdA.py`: pre-training 15 epochs at lr 0.001, fine-tuning lr 0.1, batch 1.
    public static func stackedAutoencoders(dtype: DType = .float32) -> DeepOptions {
        var f = TrainingOptions(learningRate: 0.1, batchSize: 1, maxEpochs: 1000, patience: 0, dtype: dtype)
        f.seed = 89677
        return DeepOptions(pretrainEpochs: 15, pretrainLearningRate: 0.001, pretrainBatchSize: 1, finetune: f)
    }

    /// The classic `DBN.py`: CD-1 pre-training 100 epochs at lr 0.01, fine-tuning lr 0.1, batch 10.
    public static func deepBeliefNetwork(dtype: DType = .float32) -> DeepOptions {
        var f = TrainingOptions(learningRate: 0.1, batchSize: 10, maxEpochs: 1000, patience: 0, dtype: dtype)
        f.seed = 123
        var o = DeepOptions(pretrainEpochs: 100, pretrainLearningRate: 0.01, pretrainBatchSize: 10, finetune: f)
        o.seed = 123
        o.patienceEpochs = 4
        return o
    }
}

/// What a deep tutorial run reached: per-layer pre-training costs, then the supervised result.
public struct DeepResult: Sendable {
    public var pretrainCosts: [[Double]]
    public var pretrainSeconds: Double
    public var finetune: TrainingResult
    public var json: String {
        var line = finetune.fields
        line.add("pretrain_costs", pretrainCosts)
        line.add("pretrain_seconds", pretrainSeconds, decimals: 2)
        return line.text
    }
}

/// Greedy layer-wise pre-training: one compiled function per layer, run over the training set.
/// With a checkpoint, each epoch is saved; a resumed run builds the layers before the saved one
/// again without training them (so random streams are numbered as before), restores the state at
/// the saved layer and goes on from its next epoch.
private func pretrain(
    layers: Int, epochs: Int, batchSize: Int, data: MNIST, params: [SharedVariable],
    checkpoint: Checkpoint?, resume: Bool,
    function make: (Int, SharedVariable, Variable) throws -> Function,
    log: (String) -> Void
) throws -> ([[Double]], Double) {
    let trainX = shared(data.train.images, name: "trainX", borrow: true)
    let index = lscalar("index")
    let batches = data.train.count / batchSize
    let saved: EpochProgress? = resume ? try checkpoint?.savedProgress(as: EpochProgress.self) : nil
    let resumeAt = saved.map { $0.costs.count - 1 } ?? -1
    if let checkpoint, resumeAt >= layers {
        let found = "\(checkpoint.file.path) pre-trained \(resumeAt + 1) layers"
        throw TheanoError(.badInput, "\(found); this network has \(layers)")
    }
    var progress = EpochProgress()
    for layer in 0..<layers {
        let f = try make(layer, trainX, index)
        if layer < resumeAt { continue }
        let state = checkpointState(params, updatedBy: [f])
        if layer == resumeAt, let checkpoint,
            let restored = try checkpoint.restore(state: state, as: EpochProgress.self)
        {
            progress = restored
            log("resuming pre-training from \(checkpoint.file.path) at layer \(layer)")
        }
        try runEpochs(
            phase: layer, epochs: epochs, progress: &progress, checkpoint: checkpoint,
            state: state
        ) { epoch in
            var total = 0.0
            for i in 0..<batches { total += try f(i)[0].item() }
            log(String(format: "Pre-training layer %d, epoch %d, cost %f", layer, epoch, total / Double(batches)))
            return total / Double(batches)
        }
    }
    return (progress.costs, progress.seconds)
}

/// Pre-training `layerFunction(i, …)` for each layer in turn, then supervised fine-tuning of the
/// whole stack with early stopping. `options.finetune.checkpoint` checkpoints both phases.
private func trainDeep(
    _ model: String, data: MNIST, options: DeepOptions, log: (String) -> Void,
    layerFunction: (
        _ layer: Int, _ net: SigmoidStack, _ x: Variable, _ trainX: SharedVariable,
        _ index: Variable, _ rng: inout SplitMix64,
        _ streams: RandomStreams
    ) throws -> Function
) throws -> DeepResult {
    let d = options.finetune.dtype
    let x = matrix("x", dtype: d)
    let y = ivector("y")
    var rng = SplitMix64(seed: options.seed)
    let net = try SigmoidStack(input: x, nIn: 784, hidden: options.hidden, nOut: 10, rng: &rng)
    let streams = RandomStreams(seed: options.seed &+ 1)
    let checkpoint = options.finetune.checkpoint.map { Checkpoint(directory: $0, model: model + "-pretrain") }
    let (costs, seconds) = try pretrain(
        layers: net.layers.count, epochs: options.pretrainEpochs,
        batchSize: options.pretrainBatchSize, data: data, params: net.params,
        checkpoint: checkpoint, resume: options.finetune.resume,
        function: { i, trainX, index in
            try layerFunction(i, net, x, trainX, index, &rng, streams)
        }, log: log)
    var finetune = options.finetune
    finetune.patience = options.patienceEpochs * (data.train.count / finetune.batchSize)
    let setup = try SupervisedSetup(
        data: data, options: finetune, x: x, y: y, cost: net.output.negativeLogLikelihood(y),
        errors: net.output.errors(y), params: net.params)
    let outcome = try setup.run(model: model + "-finetune", options: finetune, log: log)
    return DeepResult(
        pretrainCosts: costs, pretrainSeconds: seconds,
        finetune: TrainingResult(model: model, outcome: outcome, dtype: d))
}

/// The stacked denoising autoencoders tutorial: each sigmoid layer shares W and b with a dA,
/// pre-trained greedily on the previous layer's output, then the whole network is fine-tuned
/// with early stopping. The pre-training functions take the corruption level and learning rate
/// as inputs with default values.
public func trainStackedAutoencoders(
    data: MNIST, options: DeepOptions, log: (String) -> Void = printFlushed
) throws -> DeepResult {
    try trainDeep("sda", data: data, options: options, log: log) { i, net, x, trainX, index, rng, streams in
        let layer = net.layers[i]
        let d = x.dtype
        let da = try DenoisingAutoencoder(
            input: net.layerInput(i, x), nVisible: layer.W.value.shape[0], nHidden: layer.W.value.shape[1],
            rng: &rng, streams: streams, W: layer.W, bHid: layer.b)
        let corruption = scalar("corruption", dtype: d)
        let lr = scalar("lr", dtype: d)
        let (cost, updates) = try da.costUpdates(corruption: corruption, learningRate: lr)
        let bs = Double(options.pretrainBatchSize)
        return try function(
            inputs: [index, corruption, lr], outputs: [cost], updates: updates,
            givens: [x: trainX[index * bs..<(index + 1) * bs]],
            defaults: [
                corruption: options.corruption[min(i, options.corruption.count - 1)], lr: options.pretrainLearningRate
            ])
    }
}

/// The deep belief network tutorial: RBMs sharing W and hidden biases with the sigmoid layers,
/// pre-trained greedily with CD-k, then fine-tuned with early stopping.
public func trainDeepBeliefNetwork(
    data: MNIST, options: DeepOptions, log: (String) -> Void = printFlushed
) throws -> DeepResult {
    try trainDeep("dbn", data: data, options: options, log: log) { i, net, x, trainX, index, rng, streams in
        let layer = net.layers[i]
        let rbm = try RBM(
            input: net.layerInput(i, x), nVisible: layer.W.value.shape[0], nHidden: layer.W.value.shape[1],
            rng: &rng, streams: streams, W: layer.W, hbias: layer.b)
        let (monitor, updates) = try rbm.costUpdates(
            learningRate: options.pretrainLearningRate, persistent: nil, k: options.k)
        let bs = Double(options.pretrainBatchSize)
        return try function(
            inputs: [index], outputs: [monitor], updates: updates, givens: [x: trainX[index * bs..<(index + 1) * bs]])
    }
}
