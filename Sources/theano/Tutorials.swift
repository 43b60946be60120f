import ArgumentParser
import Datasets
import Foundation
import Tutorials

/// `theano logreg`: the logistic-regression tutorial.
struct LogReg: ParsableCommand, SGDCommand {
    static let configuration = CommandConfiguration(
        commandName: "logreg",
        abstract: "Logistic regression on MNIST (SGD, minibatches of 600, early stopping); prints a JSON summary.")

    @OptionGroup var data: DataOptions
    @OptionGroup var checkpointing: CheckpointOptions
    @Option(help: "Maximum epochs.") var epochs = 1000
    @Option(help: "Minibatch size.") var batchSize = 600
    @Option(help: "Learning rate.") var lr = 0.13
    @Option(help: "Save W and b to this .npz file.") var save: String?

    func validate() throws { try checkPositive() }

    func run() throws {
        let options = configured(.logisticRegression(dtype: data.dtype))
        let (result, _) = try trainLogisticRegression(data: try data.load(), options: options)
        print(result.json)
    }
}

/// `theano mlp`: the multi-layer perceptron tutorial.
struct MLPCommand: ParsableCommand, SGDCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp",
        abstract:
            "784-500-10 tanh MLP on MNIST (SGD, minibatches of 20, L2 1e-4, early stopping); prints a JSON summary.")

    @OptionGroup var data: DataOptions
    @OptionGroup var checkpointing: CheckpointOptions
    @Option(help: "Maximum epochs.") var epochs = 1000
    @Option(help: "Minibatch size.") var batchSize = 20
    @Option(help: "Learning rate.") var lr = 0.01
    @Option(help: "Hidden units.") var hidden = 500
    @Option(help: "L1 regularisation weight.") var l1 = 0.0
    @Option(help: "L2 (squared) regularisation weight.") var l2 = 0.0001
    @Option(help: "Seed of the weight initialisation.") var seed: UInt64 = 1234
    @Option(help: "Save the parameters to this .npz file.") var save: String?

    func validate() throws {
        try checkPositive()
        guard hidden > 0 else { throw ValidationError("--hidden must be positive") }
    }

    func run() throws {
        var options = configured(.mlp(dtype: data.dtype))
        options.hidden = hidden
        options.l1 = l1
        options.l2 = l2
        options.seed = seed
        let (result, _) = try trainMLP(data: try data.load(), options: options)
        print(result.json)
    }
}

/// `theano lenet`: the convolutional (LeNet-5) tutorial.
struct LeNetCommand: ParsableCommand, SGDCommand {
    static let configuration = CommandConfiguration(
        commandName: "lenet",
        abstract:
            "LeNet-5 on MNIST: conv 5×5 + 2×2 max-pool twice, 500 tanh, softmax (SGD, minibatches of 500, early "
            + "stopping); prints a JSON summary."
    )

    @OptionGroup var data: DataOptions
    @OptionGroup var checkpointing: CheckpointOptions
    @Option(help: "Maximum epochs.") var epochs = 200
    @Option(help: "Minibatch size.") var batchSize = 500
    @Option(help: "Learning rate.") var lr = 0.1
    @Option(help: "Filters of the two convolutional layers.") var nkerns = "20,50"
    @Option(help: "Seed of the weight initialisation.") var seed: UInt64 = 23455
    @Option(help: "Save the parameters to this .npz file.") var save: String?

    var kernels: [Int] { nkerns.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        try checkPositive()
        guard kernels.count == 2, kernels.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--nkerns takes two positive integers, e.g. 20,50")
        }
    }

    func run() throws {
        var options = configured(.lenet(dtype: data.dtype))
        options.nkerns = kernels
        options.seed = seed
        let (result, _) = try trainLeNet(data: try data.load(), options: options)
        print(result.json)
    }
}

/// `theano lstm`: the recurrent tutorial, an LSTM over the rows of each image.
struct LSTMCommand: ParsableCommand, SGDCommand {
    static let configuration = CommandConfiguration(
        commandName: "lstm",
        abstract:
            "LSTM (hidden 128) on row-sequential MNIST, 28 steps of 28 pixels (SGD momentum 0.9, minibatches of "
            + "100, a fixed number of epochs); prints a JSON summary.")

    @OptionGroup var data: DataOptions
    @OptionGroup var checkpointing: CheckpointOptions
    @Option(help: "Epochs.") var epochs = 10
    @Option(help: "Minibatch size.") var batchSize = 100
    @Option(help: "Learning rate.") var lr = 0.1
    @Option(help: "Momentum.") var momentum = 0.9
    @Option(help: "Hidden units.") var hidden = 128
    @Option(help: "Seed of the weight initialisation.") var seed: UInt64 = 1234
    @Option(help: "Save W, U, b, Wo and bo to this .npz file.") var save: String?

    func validate() throws {
        try checkPositive()
        guard hidden > 0, momentum >= 0, momentum < 1 else {
            throw ValidationError("--hidden must be positive and --momentum in [0, 1)")
        }
    }

    func run() throws {
        var options = configured(.lstm(dtype: data.dtype))
        options.hidden = hidden
        options.momentum = momentum
        options.seed = seed
        let (result, _) = try trainLSTM(data: try data.load(), options: options)
        print(result.json)
    }
}

/// `theano predict`: digits predicted by saved parameters.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the digits predicted for the first test images by saved parameters (from logreg/mlp --save).")

    @OptionGroup var data: DataOptions
    @Option(help: "The .npz file written by --save.") var params: String
    @Option(help: "How many test images.") var count = 20

    func run() throws {
        let mnist = try data.load()
        let digits = try predict(parameters: URL(fileURLWithPath: params), images: mnist.test.images, count: count)
        print("Predicted values for the first \(digits.count) examples in test set:")
        print(digits.map(String.init).joined(separator: " "))
        print("True labels:")
        print(mnist.test.labels.doubles.prefix(digits.count).map { String(Int($0)) }.joined(separator: " "))
    }
}

/// What the SGD tutorials' commands share: epochs, minibatch size, learning rate, where to save.
protocol SGDCommand {
    var checkpointing: CheckpointOptions { get }
    var epochs: Int { get }
    var batchSize: Int { get }
    var lr: Double { get }
    var save: String? { get }
}

extension SGDCommand {
    /// `base` with the command's settings applied.
    func configured(_ base: TrainingOptions) -> TrainingOptions {
        var options = base
        options.maxEpochs = epochs
        options.batchSize = batchSize
        options.learningRate = lr
        options.saveTo = save.map { URL(fileURLWithPath: $0) }
        options.checkpoint = checkpointing.directory
        options.resume = checkpointing.resume
        return options
    }

    func checkPositive() throws {
        guard epochs > 0, batchSize > 0, lr > 0 else {
            throw ValidationError("--epochs, --batch-size and --lr must be positive")
        }
    }
}
