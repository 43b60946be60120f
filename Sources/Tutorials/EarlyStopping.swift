import Foundation

/// The classic tutorials' early-stopping schedule: validate every `validationFrequency`
/// minibatches; when the validation error improves by more than `improvementThreshold`, extend
/// the patience to `iteration × patienceIncrease`; evaluate the test set at each new best; stop
/// when patience runs out or after `maxEpochs`.
public struct EarlyStopping: Sendable {
    public var patience: Int
    public var patienceIncrease = 2
    public var improvementThreshold = 0.995
    public var maxEpochs: Int

    public init(patience: Int, maxEpochs: Int) {
        self.patience = patience
        self.maxEpochs = maxEpochs
    }

    /// What a run reached.
    public struct Outcome: Sendable {
        public var epochs = 0
        public var bestEpoch = 0
        public var bestIteration = 0
        /// Fractions, not percent.
        public var bestValidationError = Double.infinity
        public var testError = 0.0
        /// Seconds spent in training minibatches (validation and test excluded).
        public var trainSeconds = 0.0
        /// Seconds for the whole loop, validation and test included.
        public var totalSeconds = 0.0
        /// Validation error after each validation, in order.
        public var validationHistory: [Double] = []
    }

    /// Runs the schedule. `train(i)` runs minibatch `i`; `validate()` and `test()` return mean
    /// errors; `log` receives the classic progress lines.
    public func run(trainBatches: Int, train: (Int) throws -> Void, validate: () throws -> Double,
                    test: () throws -> Double, log: (String) -> Void) rethrows -> Outcome {
        var outcome = Outcome()
        let started = Date()
        var patience = self.patience
        let validationFrequency = min(trainBatches, patience / 2)
        var done = false
        var epoch = 0
        while epoch < maxEpochs && !done {
            epoch += 1
            for minibatch in 0..<trainBatches {
                let t0 = Date()
                try train(minibatch)
                outcome.trainSeconds += Date().timeIntervalSince(t0)
                let iteration = (epoch - 1) * trainBatches + minibatch
                if (iteration + 1) % validationFrequency == 0 {
                    let loss = try validate()
                    outcome.validationHistory.append(loss)
                    log(String(format: "epoch %d, minibatch %d/%d, validation error %f %%", epoch, minibatch + 1, trainBatches, loss * 100))
                    if loss < outcome.bestValidationError {
                        if loss < outcome.bestValidationError * improvementThreshold {
                            patience = max(patience, iteration * patienceIncrease)
                        }
                        outcome.bestValidationError = loss
                        outcome.bestEpoch = epoch
                        outcome.bestIteration = iteration
                        outcome.testError = try test()
                        log(String(format: "     epoch %d, minibatch %d/%d, test error of best model %f %%", epoch, minibatch + 1, trainBatches, outcome.testError * 100))
                    }
                }
                if patience <= iteration { done = true; break }
            }
        }
        outcome.epochs = epoch
        outcome.totalSeconds = Date().timeIntervalSince(started)
        return outcome
    }
}
