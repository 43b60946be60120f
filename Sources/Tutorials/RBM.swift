import Datasets
import Foundation
import NDArray
import Theano

/// A binary restricted Boltzmann machine, as the classic `RBM`: free energy
/// `F(v) = −v·vbias − Σ softplus(v W + hbias)`, block Gibbs sampling through binomial draws, and
/// contrastive divergence (CD-k, or persistent PCD-k) training.
public final class RBM {
    public let W: SharedVariable
    public let hbias: SharedVariable
    public let vbias: SharedVariable
    public let input: Variable
    public let nVisible: Int
    let streams: RandomStreams
    public var params: [SharedVariable] { [W, hbias, vbias] }

    /// `W`/`hbias` may be given to share them with a sigmoid layer (deep belief networks).
    public init(
        input: Variable, nVisible: Int, nHidden: Int, rng: inout SplitMix64, streams: RandomStreams,
        W: SharedVariable? = nil, hbias: SharedVariable? = nil
    ) throws {
        (self.W, self.hbias, vbias) = try sigmoidPair(nVisible, nHidden, input.dtype, &rng, W: W, hidden: hbias)
        self.input = input
        self.nVisible = nVisible
        self.streams = streams
    }

    public func freeEnergy(_ v: Variable) -> Variable {
        -dot(v, vbias) - sum(softplus(dot(v, W) + hbias), axis: 1)
    }

    /// Hidden activation probabilities and a sample of them, given visible units.
    public func sampleH(_ v: Variable) -> (mean: Variable, sample: Variable) {
        let mean = sigmoid(dot(v, W) + hbias)
        return (mean, streams.binomial(mean.shape, p: mean, dtype: v.dtype))
    }

    /// Visible activation probabilities and a sample of them, given hidden units.
    public func sampleV(_ h: Variable) -> (mean: Variable, sample: Variable) {
        let mean = sigmoid(dot(h, W.T) + vbias)
        return (mean, streams.binomial(mean.shape, p: mean, dtype: h.dtype))
    }

    /// One step of Gibbs sampling from the visible state.
    public func gibbsVHV(_ v: Variable) -> (vMean: Variable, vSample: Variable) {
        let s = sampleV(sampleH(v).sample)
        return (s.mean, s.sample)
    }

    /// The CD-k / PCD-k cost and updates. With `persistent` (a shared matrix of hidden states,
    /// one row per example of the minibatch) the chain continues from where the last call left
    /// it. The k Gibbs steps are a `scan`, as in the classic `rbm.py`; its random streams' updates
    /// are among the returned ones. Returns the monitoring cost: the stochastic pseudo-likelihood
    /// for PCD, the reconstruction cross-entropy for CD.
    public func costUpdates(
        learningRate: Double, persistent: SharedVariable?, k: Int
    ) throws -> (monitor: Variable, updates: [SharedVariable: Variable]) {
        let (_, phSample) = sampleH(input)
        let start = persistent ?? phSample
        // Each step: from the hidden state, the visible means and sample, then the next hidden sample.
        let (chain, chainUpdates) = try scan(
            { v in
                let visible = self.sampleV(v[0])
                return [self.sampleH(visible.sample).sample, visible.mean, visible.sample]
            }, outputsInfo: [start, nil, nil], nSteps: k)
        let h = chain[0][-1]
        let vMean = chain[1][-1]
        let vSample = chain[2][-1]
        let chainEnd = vSample
        let cost = mean(freeEnergy(input)) - mean(freeEnergy(chainEnd))
        let grads = try grad(cost, wrt: params, considerConstant: [chainEnd])
        var updates = chainUpdates
        for (p, g) in zip(params, grads) { updates[p] = p - learningRate * g }
        if let persistent {
            updates[persistent] = h
            return (try pseudoLikelihood(&updates), updates)
        }
        return (reconstructionCost(vMean), updates)
    }

    /// Stochastic pseudo-likelihood: flips one bit (a different one each call) of the rounded
    /// input and compares free energies, scaled by the number of visible units.
    func pseudoLikelihood(_ updates: inout [SharedVariable: Variable]) throws -> Variable {
        let bit = shared(NDArray(scalar: Int64(0)), name: "bit_i_idx")
        let xi = round(input)
        let feXi = freeEnergy(xi)
        let xiFlip = setSubtensor(xi[.all, bit], 1 - xi[.all, bit])
        let feFlip = freeEnergy(xiFlip)
        updates[bit] = (bit + 1) % Double(nVisible)
        return mean(Double(nVisible) * log(sigmoid(feFlip - feXi)))
    }

    /// Mean cross-entropy between the input and the chain's last visible probabilities.
    func reconstructionCost(_ vMean: Variable) -> Variable {
        mean(sum(input * log(vMean) + (1 - input) * log(1 - vMean), axis: 1))
    }
}

/// Settings of the RBM tutorial.
public struct RBMOptions: Sendable {
    public var learningRate = 0.1
    public var batchSize = 20
    public var epochs = 15
    public var hidden = 500
    /// Gibbs steps per update.
    public var k = 15
    /// Persistent chains (PCD); false: plain CD-k.
    public var persistent = true
    public var seed: UInt64 = 123
    /// Folder for `filters_at_epoch_N.png` and `samples.png`.
    public var outputDirectory: URL?
    /// Sampling after training: chains, samples per chain, Gibbs steps between samples.
    public var chains = 20, samples = 10, plotEvery = 1000
    /// Where to write a ``Checkpoint`` after each epoch, and whether to go on from it.
    public var checkpoint: URL?
    public var resume = false
    public init() {}
}

/// Trains the RBM tutorial; returns the monitored cost of each epoch.
public func trainRBM(
    data: MNIST, options: RBMOptions, log: (String) -> Void = printFlushed
) throws -> (costs: [Double], seconds: Double, model: RBM) {
    let d = data.train.images.dtype
    let x = matrix("x", dtype: d)
    var rng = SplitMix64(seed: options.seed)
    let streams = RandomStreams(seed: options.seed &+ 1)
    let rbm = try RBM(input: x, nVisible: 784, nHidden: options.hidden, rng: &rng, streams: streams)
    let chain =
        options.persistent
        ? shared(try NDArray.zeros([options.batchSize, options.hidden], dtype: d), name: "persistent_chain") : nil
    let (monitor, updates) = try rbm.costUpdates(learningRate: options.learningRate, persistent: chain, k: options.k)
    let trainX = shared(data.train.images, name: "trainX", borrow: true)
    let index = lscalar("index")
    let bs = Double(options.batchSize)
    let train = try function(
        inputs: [index], outputs: [monitor], updates: updates, givens: [x: trainX[index * bs..<(index + 1) * bs]])
    let batches = data.train.count / options.batchSize
    let dir = options.outputDirectory
    if let dir { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
    let state = checkpointState(rbm.params, updatedBy: [train])
    let (checkpoint, start) = try openCheckpoint(
        options.checkpoint, model: "rbm", resume: options.resume, state: state,
        as: EpochProgress.self, log: log)
    var progress = start ?? EpochProgress()
    try runEpochs(
        phase: 0, epochs: options.epochs, progress: &progress, checkpoint: checkpoint,
        state: state
    ) { epoch in
        var total = 0.0
        for i in 0..<batches { total += try train(i)[0].item() }
        log(String(format: "Training epoch %d, cost is %f", epoch, total / Double(batches)))
        if let dir {
            let filters = try rbm.W.value.transposed().sliced([
                .range(start: 0, stop: min(100, options.hidden), step: 1)
            ])
            let png = dir.appendingPathComponent("filters_at_epoch_\(epoch).png")
            try writePNG(try tileImages(filters, imageShape: (28, 28), tiles: (10, 10)), to: png)
        }
        return total / Double(batches)
    }
    let costs = progress.costs[0]
    let seconds = progress.seconds
    log(String(format: "Training took %.2f minutes", seconds / 60))
    if let dir {
        try sampleRBM(rbm, data: data, options: options, to: dir.appendingPathComponent("samples.png"), log: log)
    }
    return (costs, seconds, rbm)
}

/// The classic samples picture: `chains` Gibbs chains started from consecutive test images,
/// one row of their visible probabilities every `plotEvery` steps.
func sampleRBM(_ rbm: RBM, data: MNIST, options: RBMOptions, to url: URL, log: (String) -> Void) throws {
    var rng = SplitMix64(seed: options.seed &+ 2)
    let start = Int(rng.next() % UInt64(max(1, data.test.count - options.chains)))
    let images = try data.test.images.sliced([.range(start: start, stop: start + options.chains, step: 1)])
    let chain = shared(images, name: "persistent_vis_chain")
    // `plotEvery` Gibbs steps per call, as a scan (the classic code's `theano.scan` of `gibbs_vhv`).
    let (steps, stepUpdates) = try scan(
        { v in
            let s = rbm.gibbsVHV(v[0])
            return [s.vSample, s.vMean]
        }, outputsInfo: [chain, nil], nSteps: options.plotEvery)
    var updates = stepUpdates
    updates[chain] = steps[0][-1]
    let step = try function(inputs: [], outputs: [steps[1][-1]], updates: updates)
    let side = 28
    let width = (side + 1) * options.chains - 1
    var picture = [Double](repeating: 0, count: ((side + 1) * options.samples + 1) * width)
    for s in 0..<options.samples {
        let mean = try step()[0]
        log(" ... plotting sample \(s)")
        let row = try tileImages(mean, imageShape: (side, side), tiles: (1, options.chains), scaleEach: false).doubles
        let top = (side + 1) * s * width
        for i in 0..<row.count { picture[top + i] = row[i] }
    }
    try writePNG(try NDArray(picture, shape: [(side + 1) * options.samples + 1, width]), to: url)
}
