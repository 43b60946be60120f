import NDArray

/// Something `scan` iterates over: a variable (one slice per step, tap 0) or ``SequenceTaps``.
public protocol ScanSequence {
    var scanSequence: SequenceTaps { get }
}

/// A sequence read at several offsets per step (Theano's `dict(input=x, taps=[-1, 0])`): at step
/// `t` the step receives `x[t + tap − min(taps)]` for each tap, in the order given.
public struct SequenceTaps: ScanSequence {
    public let input: Variable
    public let taps: [Int]
    public init(_ input: Variable, taps: [Int]) {
        self.input = input
        self.taps = taps
    }
    public var scanSequence: SequenceTaps { self }
}

extension Variable: ScanSequence {
    public var scanSequence: SequenceTaps { SequenceTaps(self, taps: [0]) }
}

/// A recurrent output's start: a variable (its value before step 0, fed back as tap −1) or
/// ``InitialTaps``.
public protocol ScanOutputInfo {
    var scanOutput: InitialTaps { get }
}

/// A recurrent output fed back from several earlier steps (Theano's `dict(initial=x0,
/// taps=[-2, -1])`). `initial` holds as many rows as the largest lag, oldest first: with taps
/// −2 and −1, `initial[0]` is the value at step −2 and `initial[1]` the one at step −1.
public struct InitialTaps: ScanOutputInfo {
    public let initial: Variable
    public let taps: [Int]
    /// Whether `initial` is one value (a variable given alone), not rows of them.
    let single: Bool
    public init(initial: Variable, taps: [Int]) {
        self.initial = initial
        self.taps = taps
        single = false
    }
    init(single initial: Variable) {
        self.initial = initial
        taps = [-1]
        single = true
    }
    public var scanOutput: InitialTaps { self }
}

extension Variable: ScanOutputInfo {
    public var scanOutput: InitialTaps { InitialTaps(single: self) }
}

/// The number of steps of a scan: an `Int` or an integer scalar variable.
public protocol ScanLength {
    var scanLength: Variable { get }
}
extension Int: ScanLength {
    public var scanLength: Variable { int64(self) }
}
extension Variable: ScanLength {
    public var scanLength: Variable { dtype == .int64 ? self : cast(self, .int64) }
}

/// Marks a step's last result as its stop condition (Theano's `until`): the loop ends after the
/// first step where it is true, and the outputs hold the steps run.
///
/// ```swift
/// // Doubles x until it exceeds 100, for at most 20 steps.
/// let (out, _) = try scan({ v in [v[0] * 2, until(gt(v[0] * 2, 100))] }, outputsInfo: [x], nSteps: 20)
/// ```
public func until(_ condition: Variable) -> Variable { apply1(Until(), [condition]) }

/// The identity, marking a stop condition for ``scan``.
struct Until: Op {
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs[0].ndim == 0 else { throw OpError("until needs a scalar condition, got \(inputs[0])") }
        return [inputs[0]]
    }
    func perform(_ inputs: [NDArray]) throws -> [NDArray] { [inputs[0]] }
}

/// A symbolic loop: `step` is called once, on placeholders, and its graph is run once per step
/// (Theano's `scan`). It receives, in this order: the current slice of each sequence (one per
/// tap), the previous values of each recurrent output (one per tap), then the non-sequences; it
/// returns one value per `outputsInfo` entry, and may end with ``until(_:)``.
///
/// - `outputsInfo`: per output, its initial value (fed back as tap −1), ``InitialTaps``, or nil
///   for an output that is not fed back.
/// - `nSteps`: an `Int` or a symbolic integer; without it, the sequences' length.
/// - `goBackwards`: iterate the sequences from their end.
/// - `truncateGradient`: back-propagate through at most this many steps (−1: all).
///
/// Variables from outside the step (shared variables, outer inputs, values computed before the
/// loop) may be used inside it: they become inputs of the loop, computed once, and gradients
/// reach them. Returns each output's values at every step (`out[k][-1]` is the last) and the
/// updates of the random streams drawn from in the step (their states after the last step; also
/// their default updates, so `function` applies them unasked).
///
/// ```swift
/// // A**k by repeated multiplication.
/// let (out, _) = try scan({ v in [v[0] * v[1]] }, outputsInfo: [onesLike(A)], nonSequences: [A], nSteps: k)
/// let Ak = out[0][-1]
/// ```
public func scan(
    _ step: ([Variable]) throws -> [Variable], sequences: [any ScanSequence] = [],
    outputsInfo: [(any ScanOutputInfo)?] = [], nonSequences: [Variable] = [], nSteps: (any ScanLength)? = nil,
    goBackwards: Bool = false, truncateGradient: Int = -1
) throws -> ([Variable], [SharedVariable: Variable]) {
    let location = SourceLocation.capture()
    let seqs = sequences.map(\.scanSequence)
    let infos = outputsInfo.map { $0?.scanOutput }
    for s in seqs where s.taps.isEmpty || Set(s.taps).count != s.taps.count {
        throw TheanoError(
            .type, "scan: a sequence's taps must be distinct and at least one: \(s.taps)", location: location)
    }
    for case let i? in infos
    where i.taps.isEmpty || i.taps.contains(where: { $0 >= 0 }) || Set(i.taps).count != i.taps.count {
        throw TheanoError(
            .type, "scan: an output's taps must be distinct and negative (−1: the previous step): \(i.taps)",
            location: location)
    }
    func placeholder(_ type: TensorType, _ name: String) -> Variable {
        Variable(type: type, name: name, owner: nil, index: 0, location: location)
    }
    func row(_ v: Variable) -> TensorType { TensorType(v.dtype, shape: Array(v.type.shape.dropFirst())) }
    var stepInputs: [Variable] = []
    for (k, s) in seqs.enumerated() {
        for tap in s.taps { stepInputs.append(placeholder(row(s.input), "seq\(k)[t\(tap >= 0 ? "+" : "")\(tap)]")) }
    }
    let recurrent = infos.enumerated().compactMap { k, i in i.map { (k, $0) } }
    for (k, i) in recurrent {
        let type = i.single ? i.initial.type : row(i.initial)
        for tap in i.taps { stepInputs.append(placeholder(type, "out\(k)[t\(tap)]")) }
    }
    let nonSeqs = nonSequences.map { placeholder($0.type, $0.name ?? "nonseq") }
    let draws = ScanStepDraws()
    var results = try ScanStepDraws.$current.withValue(draws) { try step(stepInputs + nonSeqs) }
    let condition = results.last.flatMap { $0.owner?.op is Until ? $0 : nil }
    if condition != nil { results.removeLast() }
    guard results.count == infos.count else {
        throw TheanoError(
            .type, "scan: the step returned \(results.count) outputs for \(infos.count) entries of outputsInfo",
            location: location)
    }
    // Random draws made in the step draw anew each step: their states become recurrent outputs
    // (after the user's), each step's draw reading the state the previous one left.
    let states = draws.states
    let statePlaceholders = states.map { placeholder($0.type, ($0.name ?? "random_state") + "[t-1]") }
    let stateSwap = Dictionary(uniqueKeysWithValues: zip(states.map { $0 as Variable }, statePlaceholders))
    let nextStates = states.compactMap(\.defaultUpdate)
    let swapped = Graph.clone(results + nextStates + (condition.map { [$0] } ?? []), replacing: stateSwap)
    results = Array(swapped[..<results.count])
    let stateUpdates = Array(swapped[results.count..<(results.count + nextStates.count)])
    let swappedCondition = condition.map { _ in swapped[swapped.count - 1] }
    // The step's inputs in the op's order: sequence slices, every recurrent output's taps (the
    // random states' last), then the non-sequences.
    stepInputs += statePlaceholders
    // Recurrent outputs first, as the op orders them.
    let order = recurrent.map(\.0) + infos.indices.filter { infos[$0] == nil }
    let recurrentResults = recurrent.map { results[$0.0] } + stateUpdates
    let plainResults = infos.indices.filter { infos[$0] == nil }.map { results[$0] }
    let capture = ScanCapture(
        outputs: recurrentResults + plainResults + (swappedCondition.map { [$0] } ?? []),
        stepInputs: stepInputs + nonSeqs)
    let body = ScanBody(inputs: stepInputs + nonSeqs + capture.placeholders, outputs: capture.outputs)
    let op = Scan(
        body: body, sequenceTaps: seqs.map(\.taps),
        outputTaps: recurrent.map { $0.1.taps } + states.map { _ in [-1] },
        plainCount: infos.count - recurrent.count, nonSequenceCount: nonSequences.count + capture.outer.count,
        hasCondition: condition != nil, truncateGradient: truncateGradient >= 0 ? truncateGradient : nil)
    let inputs = seqs.map { goBackwards ? $0.input[Slice(step: -1)] : $0.input }
    let initials =
        recurrent.map { _, i -> Variable in
            let lag = -(i.taps.min() ?? -1)
            return i.single ? i.initial.expandDims(0) : i.initial[(-lag)...]
        } + states.map { $0.expandDims(0) }
    let length = try steps(nSteps, seqs, inputs, location)
    let node = Apply.make(op, [length] + inputs + initials + nonSequences + capture.outer, location: location)
    let outs = node.outputs
    var byEntry = [Variable](repeating: outs[0], count: infos.count)
    for (position, entry) in order.enumerated() {
        byEntry[entry] = outs[position < recurrent.count ? position : position + states.count]
    }
    // Each random state ends where the last step left it: the function's default update.
    var updates: [SharedVariable: Variable] = [:]
    for (k, state) in states.enumerated() {
        let last = outs[recurrent.count + k][-1]
        state.defaultUpdate = last
        updates[state] = last
    }
    return (byEntry, updates)
}

/// The number of steps: `nSteps` when given, else the shortest sequence's (less its taps' span).
private func steps(
    _ nSteps: (any ScanLength)?, _ seqs: [SequenceTaps], _ inputs: [Variable], _ location: SourceLocation
) throws -> Variable {
    if let nSteps { return nSteps.scanLength }
    guard !seqs.isEmpty else {
        throw TheanoError(.type, "scan needs nSteps or at least one sequence to know its length", location: location)
    }
    let lengths = zip(seqs, inputs).map { s, x -> Variable in
        let span = (s.taps.max() ?? 0) - (s.taps.min() ?? 0)
        let n = cast(x.shape[0], .int64)
        return span == 0 ? n : n - int64(span)
    }
    return lengths.dropFirst().reduce(lengths[0]) { minimum($0, $1) }
}

/// An int64 constant.
func int64(_ v: Int) -> Variable { Constant(NDArray(scalar: Double(v), dtype: .int64)) }

/// The random states created while a scan's step function builds its graph: their draws are the
/// step's own, drawn anew each step.
final class ScanStepDraws: @unchecked Sendable {
    @TaskLocal static var current: ScanStepDraws?
    private(set) var states: [SharedVariable] = []
    func add(_ state: SharedVariable) { states.append(state) }
}
