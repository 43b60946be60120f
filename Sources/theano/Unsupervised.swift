import ArgumentParser
import Datasets
import Foundation
import Tutorials

/// `theano da`: the denoising-autoencoder tutorial.
struct DACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "da",
        abstract:
            "Denoising autoencoder 784-500-784 (tied weights, sigmoid) on MNIST; prints the cost per epoch and "
                + "writes the filters as a PNG."
    )

    @OptionGroup var data: DataOptions
    @OptionGroup var checkpointing: CheckpointOptions
    @Option(help: "Corruption levels to train with, comma-separated (one model each).") var corruption = "0,0.3"
    @Option(help: "Training epochs.") var epochs = 15
    @Option(help: "Minibatch size.") var batchSize = 20
    @Option(help: "Learning rate.") var lr = 0.1
    @Option(help: "Hidden units.") var hidden = 500
    @Option(help: "Filters PNG; with several corruption levels, _corruption_<percent> is added before the extension.")
    var filters = "filters.png"
    @Option(help: "Seed of the weights and the corruption noise.") var seed: UInt64 = 123

    var levels: [Double] {
        corruption.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }

    func validate() throws {
        guard !levels.isEmpty, levels.allSatisfy({ $0 >= 0 && $0 < 1 }) else {
            throw ValidationError("--corruption takes levels in [0, 1), e.g. 0,0.3")
        }
        guard epochs > 0, batchSize > 0, lr > 0, hidden >= 1 else {
            throw ValidationError("--epochs, --batch-size, --lr and --hidden must be positive")
        }
    }

    func run() throws {
        let mnist = try data.load()
        for level in levels {
            var options = AutoencoderOptions()
            options.corruption = level
            options.epochs = epochs
            options.batchSize = batchSize
            options.learningRate = lr
            options.hidden = hidden
            options.seed = seed
            options.checkpoint = checkpointing.directory
            options.resume = checkpointing.resume
            options.filters = URL(
                fileURLWithPath: levels.count > 1 ? Self.suffixed(filters, Int((level * 100).rounded())) : filters)
            let (costs, seconds, _) = try trainDenoisingAutoencoder(data: mnist, options: options)
            var line = JSONLine()
            line.add("model", "da")
            line.add("corruption", level, decimals: 2)
            line.add("epochs", epochs)
            line.add("costs", costs)
            line.add("train_seconds", seconds, decimals: 2)
            line.add("filters", options.filters?.path ?? "")
            print(line.text)
        }
    }

    /// `filters.png` → `filters_corruption_30.png`.
    static func suffixed(_ path: String, _ percent: Int) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension.isEmpty ? "png" : url.pathExtension
        return url.deletingPathExtension().path + "_corruption_\(percent)." + ext
    }
}

/// `theano rbm`: the restricted Boltzmann machine tutorial.
struct RBMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rbm",
        abstract:
            "Binary RBM 784-500 trained with PCD-15 on MNIST; monitors the pseudo-likelihood, writes filters per "
                + "epoch and Gibbs samples as PNGs."
    )

    @OptionGroup var data: DataOptions
    @OptionGroup var checkpointing: CheckpointOptions
    @Option(help: "Training epochs.") var epochs = 15
    @Option(help: "Minibatch size.") var batchSize = 20
    @Option(help: "Learning rate.") var lr = 0.1
    @Option(help: "Hidden units.") var hidden = 500
    @Option(help: "Gibbs steps per update.") var k = 15
    @Flag(help: "Plain contrastive divergence (CD-k) instead of persistent chains.") var cd = false
    @Option(help: "Folder for filters_at_epoch_N.png and samples.png.") var outputDir = "rbm_plots"
    @Option(help: "Gibbs steps between two rows of the samples picture.") var plotEvery = 1000
    @Option(help: "Seed of the weights and the sampling.") var seed: UInt64 = 123

    func validate() throws {
        guard epochs > 0, batchSize > 0, lr > 0, hidden > 0, k > 0, plotEvery > 0 else {
            throw ValidationError("--epochs, --batch-size, --lr, --hidden, --k and --plot-every must be positive")
        }
    }

    func run() throws {
        var options = RBMOptions()
        options.epochs = epochs
        options.batchSize = batchSize
        options.learningRate = lr
        options.hidden = hidden
        options.k = k
        options.persistent = !cd
        options.seed = seed
        options.plotEvery = plotEvery
        options.outputDirectory = URL(fileURLWithPath: outputDir)
        options.checkpoint = checkpointing.directory
        options.resume = checkpointing.resume
        let (costs, seconds, _) = try trainRBM(data: try data.load(), options: options)
        var line = JSONLine()
        line.add("model", "rbm")
        line.add("k", k)
        line.add("persistent", !cd)
        line.add("epochs", epochs)
        line.add("costs", costs)
        line.add("train_seconds", seconds, decimals: 2)
        line.add("output_dir", outputDir)
        print(line.text)
    }
}

/// What `theano sda` and `theano dbn` share.
struct DeepArguments: ParsableArguments {
    @Option(help: "Pre-training epochs per layer (default: the classic 15 for sda, 100 for dbn).") var pretrainEpochs:
        Int?
    @Option(help: "Fine-tuning epochs at most (early stopping may end sooner).") var finetuneEpochs = 1000
    @Option(help: "Minibatch size (default: the classic 1 for sda, 10 for dbn), for pre-training and fine-tuning.")
    var batchSize: Int?
    @Option(help: "Pre-training learning rate (default: 0.001 for sda, 0.01 for dbn).") var pretrainLr: Double?
    @Option(help: "Fine-tuning learning rate.") var finetuneLr = 0.1
    @Option(help: "Hidden layer sizes.") var hidden = "1000,1000,1000"
    @Option(help: "Seed of the weights and the noise.") var seed: UInt64?

    var layers: [Int] { hidden.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard !layers.isEmpty, layers.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--hidden takes positive layer sizes, e.g. 1000,1000,1000")
        }
        guard finetuneEpochs > 0, (pretrainEpochs ?? 1) >= 0, (batchSize ?? 1) > 0, (pretrainLr ?? 1) > 0,
            finetuneLr > 0
        else {
            throw ValidationError("epochs, batch size and learning rates must be positive")
        }
    }

    func applied(to base: DeepOptions) -> DeepOptions {
        var o = base
        o.hidden = layers
        if let pretrainEpochs { o.pretrainEpochs = pretrainEpochs }
        if let batchSize {
            o.pretrainBatchSize = batchSize
            o.finetune.batchSize = batchSize
        }
        if let pretrainLr { o.pretrainLearningRate = pretrainLr }
        o.finetune.learningRate = finetuneLr
        o.finetune.maxEpochs = finetuneEpochs
        if let seed { o.seed = seed }
        return o
    }
}

/// `theano sda`: stacked denoising autoencoders.
struct SdACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sda",
        abstract:
            "Stacked denoising autoencoders 784-1000-1000-1000-10 on MNIST: greedy pre-training (corruption 0.1, "
                + "0.2, 0.3), then fine-tuning with early stopping."
    )

    @OptionGroup var data: DataOptions
    @OptionGroup var checkpointing: CheckpointOptions
    @OptionGroup var deep: DeepArguments

    func run() throws {
        var options = deep.applied(to: .stackedAutoencoders(dtype: data.dtype))
        options.finetune.checkpoint = checkpointing.directory
        options.finetune.resume = checkpointing.resume
        print(try trainStackedAutoencoders(data: try data.load(), options: options).json)
    }
}

/// `theano dbn`: a deep belief network.
struct DBNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbn",
        abstract:
            "Deep belief network 784-1000-1000-1000-10 on MNIST: greedy CD-1 pre-training of RBMs, then fine-tuning "
                + "with early stopping."
    )

    @OptionGroup var data: DataOptions
    @OptionGroup var checkpointing: CheckpointOptions
    @OptionGroup var deep: DeepArguments
    @Option(help: "Gibbs steps of the CD pre-training.") var k = 1

    func run() throws {
        var options = deep.applied(to: .deepBeliefNetwork(dtype: data.dtype))
        options.k = k
        options.finetune.checkpoint = checkpointing.directory
        options.finetune.resume = checkpointing.resume
        print(try trainDeepBeliefNetwork(data: try data.load(), options: options).json)
    }
}
