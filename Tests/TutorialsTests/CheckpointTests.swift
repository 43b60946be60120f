import Datasets
import Foundation
import NDArray
import Testing

@testable import Theano
@testable import Tutorials

/// A run stopped after some epochs and resumed from its checkpoint ends exactly where an
/// uninterrupted run ends: same parameters, random streams and early-stopping state.
@Suite(.serialized)
struct CheckpointTests {
    /// Small synthetic digits: 300 to train, 100 to validate, 100 to test.
    static let data: MNIST? = {
        guard let dir = try? temporaryFolder() else { return nil }
        defer { try? FileManager.default.removeItem(at: dir) }
        guard (try? MNIST.writeSynthetic(to: dir, trainCount: 400, testCount: 100, seed: 5)) != nil else { return nil }
        return try? MNIST.load(from: dir, validationCount: 100)
    }()

    static func temporaryFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func same(_ a: EarlyStopping.Outcome, _ b: EarlyStopping.Outcome) -> Bool {
        a.epochs == b.epochs && a.bestEpoch == b.bestEpoch && a.bestValidationError == b.bestValidationError
            && a.testError == b.testError && a.validationHistory == b.validationHistory
    }

    @Test func mlpResumedEqualsUninterrupted() throws {
        let data = try #require(Self.data)
        var options = TrainingOptions.mlp()
        options.hidden = 16
        options.batchSize = 20
        options.learningRate = 0.1
        options.maxEpochs = 4
        let (straight, model) = try trainMLP(data: data, options: options, log: { _ in })
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        options.checkpoint = dir
        options.maxEpochs = 2
        _ = try trainMLP(data: data, options: options, log: { _ in })  // stopped after epoch 2
        options.maxEpochs = 4
        options.resume = true
        var lines: [String] = []
        let (resumed, again) = try trainMLP(data: data, options: options, log: { lines.append($0) })
        #expect(lines.first?.hasPrefix("resuming from \(dir.path)/mlp.checkpoint.npz") == true)
        #expect(lines.filter { $0.hasPrefix("epoch ") }.count == 2)  // only epochs 3 and 4 ran
        #expect(same(straight.outcome, resumed.outcome), "\(straight.json) vs \(resumed.json)")
        #expect(model.output.W.value.doubles == again.output.W.value.doubles)
    }

    @Test func denoisingAutoencoderResumesItsRandomStreams() throws {
        let data = try #require(Self.data)
        var options = AutoencoderOptions()
        options.hidden = 12
        options.corruption = 0.3
        options.epochs = 3
        let straight = try trainDenoisingAutoencoder(data: data, options: options, log: { _ in })
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        options.checkpoint = dir
        options.epochs = 1
        _ = try trainDenoisingAutoencoder(data: data, options: options, log: { _ in })
        options.epochs = 3
        options.resume = true
        let resumed = try trainDenoisingAutoencoder(data: data, options: options, log: { _ in })
        #expect(resumed.costs == straight.costs)
        #expect(resumed.model.W.value.doubles == straight.model.W.value.doubles)
        // Without --resume the same folder starts over (and overwrites the checkpoint).
        options.resume = false
        options.epochs = 1
        let fresh = try trainDenoisingAutoencoder(data: data, options: options, log: { _ in })
        #expect(fresh.costs == Array(straight.costs.prefix(1)))
    }

    @Test func rbmResumesChainCounterAndStreams() throws {
        let data = try #require(Self.data)
        var options = RBMOptions()
        options.hidden = 10
        options.k = 2
        options.epochs = 3
        let straight = try trainRBM(data: data, options: options, log: { _ in })
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        options.checkpoint = dir
        options.epochs = 2
        _ = try trainRBM(data: data, options: options, log: { _ in })
        options.epochs = 3
        options.resume = true
        let resumed = try trainRBM(data: data, options: options, log: { _ in })
        #expect(resumed.costs == straight.costs)
        #expect(resumed.model.vbias.value.doubles == straight.model.vbias.value.doubles)
    }

    @Test func stackedAutoencodersResumeInPretrainingAndFineTuning() throws {
        let data = try #require(Self.data)
        var options = DeepOptions.stackedAutoencoders()
        options.hidden = [12, 8]
        options.pretrainEpochs = 2
        options.pretrainBatchSize = 20
        options.pretrainLearningRate = 0.1
        options.finetune.batchSize = 20
        options.finetune.maxEpochs = 3
        options.patienceEpochs = 10
        let straight = try trainStackedAutoencoders(data: data, options: options, log: { _ in })
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        options.finetune.checkpoint = dir
        // Stopped after pre-training and one fine-tuning epoch (a stop inside pre-training is
        // the kill test's: CheckpointKillTests).
        var short = options
        short.finetune.maxEpochs = 1
        _ = try trainStackedAutoencoders(data: data, options: short, log: { _ in })
        options.finetune.resume = true
        var lines: [String] = []
        let resumed = try trainStackedAutoencoders(data: data, options: options, log: { lines.append($0) })
        #expect(lines.contains { $0.hasPrefix("resuming pre-training") })
        #expect(!lines.contains { $0.hasPrefix("Pre-training layer") })  // nothing pre-trained again
        #expect(resumed.pretrainCosts == straight.pretrainCosts)
        #expect(same(straight.finetune.outcome, resumed.finetune.outcome), "\(straight.json) vs \(resumed.json)")
    }

    @Test func aCheckpointOfAnotherModelOrShapeIsAClearError() throws {
        let data = try #require(Self.data)
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = TrainingOptions.mlp()
        options.hidden = 16
        options.maxEpochs = 1
        options.checkpoint = dir
        _ = try trainMLP(data: data, options: options, log: { _ in })
        options.hidden = 17
        options.resume = true
        let e = #expect(throws: TheanoError.self) { _ = try trainMLP(data: data, options: options, log: { _ in }) }
        #expect("\(e.map { "\($0)" } ?? "")".contains("the model's is float32[784, 17]"))
        try FileManager.default.moveItem(
            at: dir.appendingPathComponent("mlp.checkpoint.npz"),
            to: dir.appendingPathComponent("logreg.checkpoint.npz"))
        var logreg = TrainingOptions.logisticRegression()
        logreg.checkpoint = dir
        logreg.resume = true
        let e2 = #expect(throws: TheanoError.self) {
            _ = try trainLogisticRegression(data: data, options: logreg, log: { _ in })
        }
        #expect("\(e2.map { "\($0)" } ?? "")".contains("is a checkpoint of mlp, not of logreg"))
    }
}
