import Datasets
import Foundation
import NDArray
import Testing

@testable import Theano
@testable import Tutorials

let mnistDir: URL? = try? MNIST.locate()
let mnist: MNIST? = mnistDir.flatMap { try? MNIST.load(from: $0) }

struct EarlyStoppingTests {
    /// The schedule on a scripted validation curve: patience grows on real improvements only.
    @Test func patienceLogic() throws {
        var curve = [0.5, 0.4, 0.399, 0.398, 0.397, 0.396, 0.395, 0.394, 0.393, 0.392, 0.391, 0.39]
        var tests = 0
        let s = EarlyStopping(patience: 20, maxEpochs: 100)
        let outcome = s.run(
            trainBatches: 5, train: { _ in }, validate: { curve.isEmpty ? 0.39 : curve.removeFirst() },
            test: {
                tests += 1
                return 0.3
            }, log: { _ in })
        // validation every min(5, 20/2) = 5 batches = once per epoch. 0.4 < 0.5·0.995 at iteration 9
        // raises patience to 18 → stays 20; later gains are below the threshold: stop at iteration 20.
        #expect(outcome.epochs == 5)
        #expect(outcome.validationHistory.count == 4)
        #expect(tests == 4)
        #expect(outcome.bestValidationError == 0.398)
    }

    @Test func jsonSummary() {
        var o = EarlyStopping.Outcome()
        o.epochs = 74
        o.bestValidationError = 0.075
        o.testError = 0.074896
        o.trainSeconds = 6.5
        o.totalSeconds = 7
        let json = TrainingResult(model: "logreg", outcome: o, dtype: .float32).json
        #expect(
            json
                == #"{"model":"logreg","epochs":74,"best_valid_error":7.5000,"test_error":7.4896,"#
                + #""train_seconds":6.5000,"dtype":"float32","total_seconds":7.0000}"#
        )
    }

    /// Summary lines are valid JSON whatever they hold: quotes, backslashes and control
    /// characters in paths are escaped, a diverged (NaN or infinite) cost is `null`.
    @Test func jsonLineEscapesAndParses() throws {
        var line = JSONLine()
        line.add("model", "rbm")
        line.add("output_dir", "plots \"new\"\\x\n")
        line.add("persistent", true)
        line.add("costs", [1.5, .nan, -.infinity])
        line.add("layers", [[1], [2, 3]], decimals: 1)
        #expect(
            line.text
                == #"{"model":"rbm","output_dir":"plots \"new\"\\x\n","persistent":true,"#
                + #""costs":[1.5000,null,null],"layers":[[1.0],[2.0,3.0]]}"#
        )
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(line.text.utf8)) as? [String: Any])
        #expect(parsed["output_dir"] as? String == "plots \"new\"\\x\n")
        #expect((parsed["costs"] as? [Any])?.count == 3)
    }
}

@Suite(.serialized, .enabled(if: mnist != nil, "MNIST not found (set MNIST_DIR)"))
struct TutorialRunTests {
    /// Two epochs of the real logistic-regression tutorial: the classic code's first two
    /// validation errors are 12.458333 % and 11.010417 %.
    @Test func logisticRegressionTwoEpochsOnRealData() throws {
        let data = try #require(mnist)
        var options = TrainingOptions.logisticRegression()
        options.maxEpochs = 2
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        options.saveTo = dir.appendingPathComponent("params.npz")
        var lines: [String] = []
        let (result, _) = try trainLogisticRegression(data: data, options: options) { lines.append($0) }
        #expect(result.outcome.epochs == 2)
        #expect(abs(result.outcome.validationHistory[0] - 0.12458333) < 1e-6, "\(lines)")
        #expect(abs(result.outcome.bestValidationError - 0.11010417) < 1e-6, "\(lines)")
        #expect(lines.first == "epoch 1, minibatch 83/83, validation error 12.458333 %")

        // predict prints 20 digits, mostly right; numpy reads the file.
        let digits = try predict(parameters: try #require(options.saveTo), images: data.test.images, count: 20)
        #expect(digits.count == 20)
        let right = zip(digits, data.test.labels.doubles).filter { Double($0) == $1 }.count
        #expect(right >= 17)
        let params = try NPZ.read(from: try #require(options.saveTo))
        #expect(params["W"]?.shape == [784, 10] && params["b"]?.shape == [10])
        if let out = try? python(
            "import numpy as np; z = np.load('\(dir.path)/params.npz'); print(z['W'].shape, z['W'].dtype, z['b'].shape)"
        ) {
            #expect(out == "(784, 10) float32 (10,)")
        }
    }

    /// The whole logistic-regression tutorial with its fused kernels on the simulated CUDA device
    /// (`device=cuda-sim`: the CUDA backend's generated kernels, compiled for the CPU, replayed
    /// as graphs): the CPU's 74 epochs, 7.5000 % and 7.4896 %.
    @Test func logisticRegressionOnTheSimulatedDevice() throws {
        let data = try #require(mnist)
        var options = TrainingOptions.logisticRegression()
        options.mode = Mode.fastRun.on(.simulatedCUDA)
        let mine = SimulatedDevice.Tally()
        let (result, _) = try SimulatedDevice.$tally.withValue(mine) {
            try trainLogisticRegression(data: data, options: options) { _ in }
        }
        // Three fused kernels per training call at least, 83 calls an epoch.
        #expect(mine.counters.launches > 74 * 83 * 3, "\(mine.counters)")
        // From its third call, each training call's work runs as CUDA graphs.
        #expect(mine.counters.graphLaunches > 74 * 83, "\(mine.counters)")
        #expect(result.outcome.epochs == 74)
        #expect(abs(result.outcome.bestValidationError - 0.075) < 1e-9)
        #expect(abs(result.outcome.testError - 0.07489583) < 1e-8)
    }

    @Test func predictNamesMissingArrays() throws {
        let data = try #require(mnist)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).npz")
        defer { try? FileManager.default.removeItem(at: url) }
        try NPZ.write(["x": try NDArray([1] as [Float])], to: url)
        #expect(throws: TheanoError.self) { try predict(parameters: url, images: data.test.images, count: 3) }
    }
}

/// Runs a python3 snippet; nil when python3 or numpy is missing.
func python(_ script: String) throws -> String? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { return nil }
    return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(
        in: .whitespacesAndNewlines)
}

@Suite(.enabled(if: mnist != nil, "MNIST not found (set MNIST_DIR)"))
struct TutorialGraphTests {
    /// The optimizer acceptance: the logistic-regression training function runs the fused
    /// cross-entropy and gemm updates.
    @Test func logisticRegressionTrainingGraph() throws {
        let data = try #require(mnist)
        let x = matrix("x")
        let y = ivector("y")
        let model = try LogisticRegression(input: x, nIn: 784, nOut: 10)
        let setup = try SupervisedSetup(
            data: data, options: .logisticRegression(), x: x, y: y,
            cost: model.negativeLogLikelihood(y), errors: model.errors(y), params: model.params)
        let kinds = setup.train.program.steps.map { "\($0.node.op)" }
        #expect(kinds.contains("SoftmaxCrossEntropy"), "\(kinds)")
        #expect(kinds.contains("Gemm"), "\(kinds)")
        #expect(!kinds.contains("LogSoftmax{axis=1}") && !kinds.contains("Log"))
    }
}

@Suite(.enabled(if: mnist != nil, "MNIST not found (set MNIST_DIR)"))
struct DebugModeTutorialTests {
    /// DEBUG mode runs both tutorials' training functions for a few minibatches without a report.
    @Test func tutorialsRunCleanInDebugMode() throws {
        let data = try #require(mnist)
        var options = TrainingOptions.logisticRegression()
        options.mode = .debug
        let x = matrix("x")
        let y = ivector("y")
        let model = try LogisticRegression(input: x, nIn: 784, nOut: 10)
        let setup = try SupervisedSetup(
            data: data, options: options, x: x, y: y, cost: model.negativeLogLikelihood(y),
            errors: model.errors(y), params: model.params)
        for i in 0..<3 { _ = try setup.train(i) }
        _ = try setup.validate(0)

        var mlpOptions = TrainingOptions.mlp()
        mlpOptions.mode = .debug
        var rng = SplitMix64(seed: 1)
        let mx = matrix("x")
        let my = ivector("y")
        let mlp = try MLP(input: mx, nIn: 784, nHidden: 50, nOut: 10, rng: &rng)
        let cost = mlp.negativeLogLikelihood(my) + 0.0001 * mlp.L2sqr
        let mlpSetup = try SupervisedSetup(
            data: data, options: mlpOptions, x: mx, y: my, cost: cost,
            errors: mlp.errors(my), params: mlp.params)
        for i in 0..<3 { _ = try mlpSetup.train(i) }
        #expect(try mlpSetup.validate(0)[0].item() <= 1)
    }
}

@Suite(.enabled(if: mnist != nil, "MNIST not found (set MNIST_DIR)"))
struct LeNetTests {
    /// A small LeNet (4 and 6 filters, minibatches of 50) learns: the cost of the first 30
    /// minibatches falls; its graph's filters and layers have the tutorial's shapes.
    @Test func smallLeNetLearns() throws {
        let data = try #require(mnist)
        var options = TrainingOptions.lenet()
        options.batchSize = 50
        options.nkerns = [4, 6]
        let x = matrix("x", dtype: .float32)
        let y = ivector("y")
        var rng = SplitMix64(seed: 23455)
        let model = try LeNet(input: x, batchSize: 50, nkerns: [4, 6], rng: &rng)
        #expect(model.layer0.W.value.shape == [4, 1, 5, 5] && model.layer1.W.value.shape == [6, 4, 5, 5])
        #expect(model.hidden.W.value.shape == [6 * 4 * 4, 500])
        // Weights uniform in ±sqrt(6 / (fan_in + fan_out)), fan_out divided by the pool area.
        let bound0 = (6.0 / Double(25 + 4 * 25 / 4)).squareRoot()
        #expect(
            model.layer0.W.value.doubles.allSatisfy { abs($0) <= bound0 }
                && model.layer0.W.value.doubles.contains { abs($0) > bound0 / 2 })
        let setup = try SupervisedSetup(
            data: data, options: options, x: x, y: y, cost: model.negativeLogLikelihood(y),
            errors: model.errors(y), params: model.params)
        var costs: [Double] = []
        for i in 0..<30 { costs.append(try setup.train(i)[0].item()) }
        let first = costs.prefix(5).reduce(0, +) / 5
        let last = costs.suffix(5).reduce(0, +) / 5
        #expect(first > 2.0 && last < 0.75 * first, "\(costs)")
        #expect(try setup.validate(0)[0].item() < 0.6)
    }

    /// DEBUG mode (every rewrite and kernel checked) on the LeNet training graph.
    @Test func leNetRunsCleanInDebugMode() throws {
        let data = try #require(mnist)
        var options = TrainingOptions.lenet()
        options.batchSize = 10
        options.mode = .debug
        let x = matrix("x", dtype: .float32)
        let y = ivector("y")
        var rng = SplitMix64(seed: 1)
        let model = try LeNet(input: x, batchSize: 10, nkerns: [2, 3], rng: &rng)
        let setup = try SupervisedSetup(
            data: data, options: options, x: x, y: y, cost: model.negativeLogLikelihood(y),
            errors: model.errors(y), params: model.params)
        for i in 0..<2 { _ = try setup.train(i) }
        #expect(try setup.validate(0)[0].item() <= 1)
    }
}
