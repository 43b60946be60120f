import Datasets
import Foundation
import NDArray
import Theano

/// Settings shared by the supervised tutorials.
public struct TrainingOptions: Sendable {
    public var learningRate: Double
    public var batchSize: Int
    public var maxEpochs: Int
    public var patience: Int
    public var dtype: DType
    public var seed: UInt64 = 1234
    public var l1 = 0.0
    public var l2 = 0.0
    public var hidden = 500
    /// Momentum of the SGD update (0: plain SGD). With momentum μ, each parameter p has a
    /// velocity v: `v ← μ v + g; p ← p − lr v` (torch.optim.SGD's convention).
    public var momentum = 0.0
    /// Minibatch size of validation and test (nil: the training batch size).
    public var evaluationBatchSize: Int?
    /// Filters of LeNet's two convolutional layers.
    public var nkerns = [20, 50]
    /// Where to save the parameters (`.npz`), if anywhere.
    public var saveTo: URL?
    /// The compile mode of the training functions (default: `Config.current.mode`).
    public var mode: Mode?
    /// Where to write a ``Checkpoint`` after each epoch, if anywhere.
    public var checkpoint: URL?
    /// Whether to go on from the checkpoint in ``checkpoint`` (when there is one) instead of
    /// starting over.
    public var resume = false

    public init(learningRate: Double, batchSize: Int, maxEpochs: Int, patience: Int, dtype: DType) {
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.maxEpochs = maxEpochs
        self.patience = patience
        self.dtype = dtype
    }

    /// The logistic-regression tutorial's settings.
    public static func logisticRegression(dtype: DType = .float32) -> TrainingOptions {
        TrainingOptions(learningRate: 0.13, batchSize: 600, maxEpochs: 1000, patience: 5000, dtype: dtype)
    }

    /// The convolutional (LeNet-5) tutorial's settings.
    public static func lenet(dtype: DType = .float32) -> TrainingOptions {
        TrainingOptions(learningRate: 0.1, batchSize: 500, maxEpochs: 200, patience: 10000, dtype: dtype)
    }

    /// The MLP tutorial's settings.
    public static func mlp(dtype: DType = .float32) -> TrainingOptions {
        var o = TrainingOptions(learningRate: 0.01, batchSize: 20, maxEpochs: 1000, patience: 10000, dtype: dtype)
        o.l2 = 0.0001
        return o
    }
}

/// What a tutorial run printed as its final JSON line.
public struct TrainingResult: Sendable {
    public var model: String
    public var outcome: EarlyStopping.Outcome
    public var dtype: DType

    /// `{"model":"logreg","epochs":74,"best_valid_error":7.5,"test_error":7.49,"train_seconds":…,`
    /// `"dtype":"float32","total_seconds":…}`
    /// (errors in percent; `train_seconds` counts training minibatches only, `total_seconds` the
    /// whole loop with validation).
    public var json: String { fields.text }

    /// The summary's fields, for results that extend it (``DeepResult``).
    var fields: JSONLine {
        var line = JSONLine()
        line.add("model", model)
        line.add("epochs", outcome.epochs)
        line.add("best_valid_error", outcome.bestValidationError * 100)
        line.add("test_error", outcome.testError * 100)
        line.add("train_seconds", outcome.trainSeconds)
        line.add("dtype", "\(dtype)")
        line.add("total_seconds", outcome.totalSeconds)
        return line
    }
}

/// The data in shared variables and the compiled train/validate/test functions of a classifier.
struct SupervisedSetup {
    let train: Function
    let validate: Function
    let test: Function
    let nTrain: Int, nValid: Int, nTest: Int
    /// What a checkpoint saves: the parameters, by position and name.
    let state: [String: SharedVariable]

    init(
        data: MNIST, options: TrainingOptions, x: Variable, y: Variable, cost: Variable, errors: Variable,
        params: [SharedVariable]
    ) throws {
        let d = options.dtype
        let bs = options.batchSize
        func sharedSplit(_ s: MNIST.Split, _ name: String) -> (SharedVariable, SharedVariable) {
            (
                shared(s.images.dtype == d ? s.images : s.images.cast(to: d), name: name + "X", borrow: true),
                shared(s.labels, name: name + "Y", borrow: true)
            )
        }
        let (trX, trY) = sharedSplit(data.train, "train")
        let (vaX, vaY) = sharedSplit(data.valid, "valid")
        let (teX, teY) = sharedSplit(data.test, "test")
        // Never more than a split holds, so small data sets still have a batch to evaluate.
        let ebs = min(options.evaluationBatchSize ?? bs, max(1, min(data.valid.count, data.test.count)))
        let index = lscalar("index")
        func batch(_ v: Variable, _ n: Int) -> Variable { v[index * Double(n)..<(index + 1) * Double(n)] }
        let grads = try grad(cost, wrt: params)
        var updates: [SharedVariable: Variable] = [:]
        for (p, g) in zip(params, grads) {
            guard options.momentum != 0 else {
                updates[p] = p - options.learningRate * g
                continue
            }
            let v = shared(try NDArray.zeros(p.value.shape, dtype: p.dtype), name: "v" + (p.name ?? ""))
            let velocity = options.momentum * v + g
            updates[v] = velocity
            updates[p] = p - options.learningRate * velocity
        }
        train = try function(
            inputs: [index], outputs: [cost], updates: updates, givens: [x: batch(trX, bs), y: batch(trY, bs)],
            mode: options.mode)
        validate = try function(
            inputs: [index], outputs: [errors], givens: [x: batch(vaX, ebs), y: batch(vaY, ebs)],
            mode: options.mode)
        test = try function(
            inputs: [index], outputs: [errors], givens: [x: batch(teX, ebs), y: batch(teY, ebs)],
            mode: options.mode)
        nTrain = data.train.count / bs
        nValid = data.valid.count / ebs
        nTest = data.test.count / ebs
        state = checkpointState(params, updatedBy: [train])
    }

    func run(model: String, options: TrainingOptions, log: (String) -> Void) throws -> EarlyStopping.Outcome {
        let (checkpoint, start) = try openCheckpoint(
            options.checkpoint, model: model, resume: options.resume,
            state: state, as: EarlyStopping.Progress.self, log: log)
        func meanError(_ f: Function, _ n: Int) throws -> Double {
            var total = 0.0
            for i in 0..<n { total += try f(i)[0].item() }
            return total / Double(n)
        }
        let outcome = try EarlyStopping(patience: options.patience, maxEpochs: options.maxEpochs).run(
            trainBatches: nTrain, from: start, afterEpoch: { p in try checkpoint?.save(state: state, progress: p) },
            train: { i in _ = try train(i) },
            validate: { try meanError(validate, nValid) }, test: { try meanError(test, nTest) }, log: log)
        if let p = train.profile { log("profile of the training function:\n\(p)") }
        if let p = validate.profile { log("profile of the validation function:\n\(p)") }
        return outcome
    }
}

/// Trains the logistic-regression tutorial and returns its result (parameters saved if asked).
public func trainLogisticRegression(
    data: MNIST, options: TrainingOptions = .logisticRegression(),
    log: (String) -> Void = printFlushed
) throws -> (TrainingResult, LogisticRegression) {
    let x = matrix("x", dtype: options.dtype)
    let y = ivector("y")
    let model = try LogisticRegression(input: x, nIn: 784, nOut: 10)
    let setup = try SupervisedSetup(
        data: data, options: options, x: x, y: y, cost: model.negativeLogLikelihood(y),
        errors: model.errors(y), params: model.params)
    let outcome = try setup.run(model: "logreg", options: options, log: log)
    if let url = options.saveTo { try saveParameters(["W": model.W.value, "b": model.b.value], to: url) }
    return (TrainingResult(model: "logreg", outcome: outcome, dtype: options.dtype), model)
}

/// Trains the MLP tutorial and returns its result.
public func trainMLP(
    data: MNIST, options: TrainingOptions = .mlp(),
    log: (String) -> Void = printFlushed
) throws -> (TrainingResult, MLP) {
    let x = matrix("x", dtype: options.dtype)
    let y = ivector("y")
    var rng = SplitMix64(seed: options.seed)
    let model = try MLP(input: x, nIn: 784, nHidden: options.hidden, nOut: 10, rng: &rng)
    // Terms with a zero weight are left out rather than computed and multiplied by zero.
    var cost = model.negativeLogLikelihood(y)
    if options.l1 != 0 { cost = cost + options.l1 * model.L1 }
    if options.l2 != 0 { cost = cost + options.l2 * model.L2sqr }
    let setup = try SupervisedSetup(
        data: data, options: options, x: x, y: y, cost: cost,
        errors: model.errors(y), params: model.params)
    let outcome = try setup.run(model: "mlp", options: options, log: log)
    if let url = options.saveTo {
        try saveParameters(
            [
                "hidden_W": model.hidden.W.value, "hidden_b": model.hidden.b.value,
                "W": model.output.W.value, "b": model.output.b.value
            ], to: url)
    }
    return (TrainingResult(model: "mlp", outcome: outcome, dtype: options.dtype), model)
}

/// Writes parameters as an `.npz` file numpy can open (atomically: temp file + rename).
public func saveParameters(_ params: [String: NDArray], to url: URL) throws {
    try NPZ.write(params, to: url)
}

/// The predicted digits of the first `count` test images, with parameters from an `.npz` written
/// by `theano logreg --save` (W, b) or `theano mlp --save` (hidden_W, hidden_b, W, b).
public func predict(parameters url: URL, images: NDArray, count: Int) throws -> [Int] {
    let params = try NPZ.read(from: url)
    guard let W = params["W"], let b = params["b"] else {
        throw TheanoError(
            .badInput,
            "\(url.lastPathComponent) has no W and b arrays (found: \(params.keys.sorted().joined(separator: ", ")))")
    }
    let n = min(count, images.shape[0])
    let rows = try images.sliced([.range(start: 0, stop: n, step: 1)]).cast(to: W.dtype)
    let x = matrix("x", dtype: W.dtype)
    var input = x
    if let hW = params["hidden_W"], let hb = params["hidden_b"] {
        input = tanh(dot(x, constant(hW)) + constant(hb))
    }
    let yPred = argmax(softmax(dot(input, constant(W)) + constant(b)), axis: 1)
    return try yPred.eval([x: rows]).doubles.map { Int($0) }
}

/// Prints a progress line and flushes, so progress shows when stdout is a file or a pipe.
public func printFlushed(_ line: String) {
    print(line)
    fflush(nil)  // all streams: `stdout` itself is not concurrency-safe to name in Swift 6
}

/// Builds the logistic-regression tutorial's three compiled functions (train, validate, test)
/// without running them: what `theano bench` times as the tutorial's compile time.
public func compileLogisticRegressionFunctions(
    data: MNIST, options: TrainingOptions = .logisticRegression()
) throws -> [Function] {
    let x = matrix("x", dtype: options.dtype)
    let y = ivector("y")
    let model = try LogisticRegression(input: x, nIn: 784, nOut: 10)
    let setup = try SupervisedSetup(
        data: data, options: options, x: x, y: y, cost: model.negativeLogLikelihood(y),
        errors: model.errors(y), params: model.params)
    return [setup.train, setup.validate, setup.test]
}
