import Foundation
import Theano

/// The progress of loops of epochs that record each epoch's mean cost, one loop per phase (the
/// dA and RBM have one phase; pre-training has one per layer): what their checkpoints save.
public struct EpochProgress: Sendable, Codable {
    /// Mean cost of each completed epoch, per phase.
    public var costs: [[Double]] = []
    /// Seconds spent in the epochs so far.
    public var seconds = 0.0

    public init() {}

    /// Epochs of `phase` already done.
    public func completed(_ phase: Int) -> Int { phase < costs.count ? costs[phase].count : 0 }
}

/// Runs epochs `progress.completed(phase)..<epochs` of one phase: `epoch(e)` returns the epoch's
/// mean cost; after each, the progress goes to `checkpoint` with `state` (when there is one).
func runEpochs(
    phase: Int, epochs: Int, progress: inout EpochProgress, checkpoint: Checkpoint?,
    state: [String: SharedVariable], epoch body: (Int) throws -> Double
) throws {
    while progress.costs.count <= phase { progress.costs.append([]) }
    for e in progress.completed(phase)..<max(epochs, progress.completed(phase)) {
        let t0 = Date()
        let cost = try body(e)
        progress.costs[phase].append(cost)
        progress.seconds += Date().timeIntervalSince(t0)
        try checkpoint?.save(state: state, progress: progress)
    }
}

/// What a checkpoint saves: `params` by position and name, then every other shared variable
/// that `functions` update (random-stream states, counters, persistent chains) by name, in name
/// order (their names are unique: random states are numbered).
func checkpointState(_ params: [SharedVariable], updatedBy functions: [Function] = []) -> [String: SharedVariable] {
    var state: [String: SharedVariable] = [:]
    for (i, p) in params.enumerated() { state["param\(i)_\(p.name ?? "")"] = p }
    let known = Set(params.map(ObjectIdentifier.init))
    var others: [SharedVariable] = []
    for f in functions {
        for s in f.updatedSharedVariables
        where !known.contains(ObjectIdentifier(s)) && !others.contains(where: { $0 === s }) {
            others.append(s)
        }
    }
    others.sort { ($0.name ?? "", "\($0.value.shape)") < ($1.name ?? "", "\($1.value.shape)") }
    for (i, s) in others.enumerated() { state["state\(i)_\(s.name ?? "")"] = s }
    return state
}

/// The checkpoint of `model` in `directory` and, when resuming, the progress restored from it
/// (nil when there is nothing to resume).
func openCheckpoint<P: Codable>(
    _ directory: URL?, model: String, resume: Bool, state: [String: SharedVariable],
    as: P.Type, log: (String) -> Void
) throws -> (Checkpoint?, P?) {
    guard let directory else { return (nil, nil) }
    let checkpoint = Checkpoint(directory: directory, model: model)
    guard resume, let progress = try checkpoint.restore(state: state, as: P.self) else { return (checkpoint, nil) }
    log("resuming from \(checkpoint.file.path)")
    return (checkpoint, progress)
}
