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
    public struct Outcome: Sendable, Codable {
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

    /// Everything the schedule needs to go on after an epoch: what a checkpoint saves.
    public struct Progress: Sendable, Codable {
        /// Epochs completed.
        public var epoch = 0
        public var patience: Int
        /// Whether patience ran out (the run is over).
        public var done = false
        public var outcome = Outcome()

        public init(patience: Int) { self.patience = patience }
    }

    /// Runs the schedule from the start. `train(i)` runs minibatch `i`; `validate()` and
    /// `test()` return mean errors; `log` receives the classic progress lines.
    public func run(
        trainBatches: Int, train: (Int) throws -> Void, validate: () throws -> Double,
        test: () throws -> Double, log: (String) -> Void
    ) rethrows -> Outcome {
        try run(
            trainBatches: trainBatches, from: nil, afterEpoch: { _ in }, train: train, validate: validate,
            test: test, log: log)
    }

    /// Runs the schedule from `start` (a checkpoint's progress; nil: from the start), as
    /// ``run(trainBatches:train:validate:test:log:)``; `afterEpoch` receives the progress after
    /// each epoch (to save it).
    public func run(
        trainBatches: Int, from start: Progress?, afterEpoch: (Progress) throws -> Void,
        train: (Int) throws -> Void, validate: () throws -> Double,
        test: () throws -> Double, log: (String) -> Void
    ) rethrows -> Outcome {
        var state = start ?? Progress(patience: patience)
        let started = Date()
        let totalBefore = state.outcome.totalSeconds
        // Fixed by the initial patience, so a resumed run validates where the first one did.
        let validationFrequency = min(trainBatches, patience / 2)
        while state.epoch < maxEpochs && !state.done {
            state.epoch += 1
            let epoch = state.epoch
            for minibatch in 0..<trainBatches {
                let t0 = Date()
                try train(minibatch)
                state.outcome.trainSeconds += Date().timeIntervalSince(t0)
                let iteration = (epoch - 1) * trainBatches + minibatch
                if (iteration + 1) % validationFrequency == 0 {
                    let loss = try validate()
                    state.outcome.validationHistory.append(loss)
                    log(
                        String(
                            format: "epoch %d, minibatch %d/%d, validation error %f %%", epoch, minibatch + 1,
                            trainBatches, loss * 100))
                    if loss < state.outcome.bestValidationError {
                        if loss < state.outcome.bestValidationError * improvementThreshold {
                            state.patience = max(state.patience, iteration * patienceIncrease)
                        }
                        state.outcome.bestValidationError = loss
                        state.outcome.bestEpoch = epoch
                        state.outcome.bestIteration = iteration
                        state.outcome.testError = try test()
                        log(
                            String(
                                format: "     epoch %d, minibatch %d/%d, test error of best model %f %%", epoch,
                                minibatch + 1, trainBatches, state.outcome.testError * 100))
                    }
                }
                if state.patience <= iteration {
                    state.done = true
                    break
                }
            }
            state.outcome.epochs = state.epoch
            state.outcome.totalSeconds = totalBefore + Date().timeIntervalSince(started)
            try afterEpoch(state)
        }
        state.outcome.epochs = state.epoch
        state.outcome.totalSeconds = totalBefore + Date().timeIntervalSince(started)
        return state.outcome
    }
}
