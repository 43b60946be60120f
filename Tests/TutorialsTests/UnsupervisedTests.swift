import Foundation
import NDArray
import Testing

@testable import Datasets
@testable import Theano
@testable import Tutorials

/// The unsupervised tutorials on small slices of MNIST (the full runs are CLI commands).
@Suite(.serialized, .enabled(if: mnist != nil, "MNIST not found (set MNIST_DIR)"))
struct UnsupervisedTests {
    static func slice(_ s: MNIST.Split, _ n: Int) throws -> MNIST.Split {
        let r = firstRows(n)
        return MNIST.Split(images: try s.images.sliced([r]).contiguous(), labels: try s.labels.sliced([r]).contiguous())
    }

    static func small(train: Int, other: Int) throws -> MNIST {
        let data = try #require(mnist)
        return MNIST(
            train: try slice(data.train, train), valid: try slice(data.valid, other), test: try slice(data.test, other))
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("unsup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Width and height from a PNG's IHDR chunk, after checking the signature.
    static func pngSize(_ url: URL) throws -> (Int, Int) {
        let bytes = [UInt8](try Data(contentsOf: url))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR")
        func be(_ i: Int) -> Int { bytes[i..<i + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be(16), be(20))
    }

    @Test func denoisingAutoencoderLearnsAndDrawsItsFilters() throws {
        let data = try Self.small(train: 400, other: 20)
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = AutoencoderOptions()
        options.hidden = 16
        options.epochs = 3
        options.corruption = 0.3
        options.filters = dir.appendingPathComponent("filters.png")
        let (costs, _, model) = try trainDenoisingAutoencoder(data: data, options: options, log: { _ in })
        #expect(costs.count == 3 && costs[2] < costs[0], "\(costs)")
        #expect(try Self.pngSize(try #require(options.filters)) == (289, 289))
        // The corruption noise changes on every call (the stream's default update).
        let x = matrix("x", dtype: .float32)
        let noisy = try function(inputs: [x], outputs: [model.corrupted(x, level: 0.5)])
        let ones = try NDArray([Float](repeating: 1, count: 4 * 784), shape: [4, 784])
        let a = try noisy(ones)[0].doubles
        let b = try noisy(ones)[0].doubles
        #expect(a != b && Set(a) == [0, 1])
        let kept = a.reduce(0, +) / Double(a.count)
        #expect(abs(kept - 0.5) < 0.05)
    }

    @Test func rbmTrainsAndSamples() throws {
        let data = try Self.small(train: 200, other: 40)
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = RBMOptions()
        options.hidden = 16
        options.k = 2
        options.epochs = 1
        options.outputDirectory = dir
        options.chains = 3
        options.samples = 2
        options.plotEvery = 5
        let (costs, _, rbm) = try trainRBM(data: data, options: options, log: { _ in })
        #expect(costs.count == 1 && costs[0].isFinite && costs[0] < 0)
        #expect(try Self.pngSize(dir.appendingPathComponent("filters_at_epoch_0.png")) == (289, 289))
        #expect(try Self.pngSize(dir.appendingPathComponent("samples.png")) == (29 * 3 - 1, 29 * 2 + 1))
        // Gibbs samples are binary; their probabilities are in (0, 1).
        let v = matrix("v", dtype: .float32)
        let (mean, sample) = rbm.gibbsVHV(v)
        let out = try function(inputs: [v], outputs: [mean, sample])(try data.test.images.sliced([firstRows(5)]))
        #expect(Set(out[1].doubles).isSubset(of: [0, 1]) && out[0].doubles.allSatisfy { $0 > 0 && $0 < 1 })
    }

    /// Both deep tutorials end to end on a slice: greedy pre-training (functions with default
    /// corruption and learning-rate inputs for SdA), then fine-tuning.
    @Test func stackedAutoencodersAndDeepBeliefNetworkRun() throws {
        let data = try Self.small(train: 300, other: 50)
        for build in [DeepOptions.stackedAutoencoders(), .deepBeliefNetwork()] {
            var options = build
            options.hidden = [24, 16]
            options.pretrainEpochs = 1
            options.pretrainBatchSize = 10
            options.finetune.batchSize = 10
            options.finetune.maxEpochs = 2
            let sda = options.patienceEpochs == 10
            let result =
                try sda
                ? trainStackedAutoencoders(data: data, options: options, log: { _ in })
                : trainDeepBeliefNetwork(data: data, options: options, log: { _ in })
            #expect(
                result.pretrainCosts.count == 2 && result.pretrainCosts.allSatisfy { $0.count == 1 && $0[0].isFinite })
            #expect(result.finetune.outcome.epochs == 2)
            #expect(result.finetune.outcome.testError < 0.9)
            #expect(result.json.contains("\"pretrain_costs\":[["), "\(result.json)")
        }
    }
}

/// `.range(0, n)` on the first axis.
func firstRows(_ n: Int) -> AxisIndex { .range(start: 0, stop: n, step: 1) }
