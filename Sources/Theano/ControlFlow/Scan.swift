import NDArray

/// A symbolic loop (Theano's `Scan`): the step graph in ``ScanBody`` run once per step, reading
/// slices of its sequences, earlier values of its recurrent outputs and its non-sequences.
///
/// Inputs: the number of steps (an integer scalar), the sequences, each recurrent output's
/// initial rows (as many as its largest lag: row `r` is the value at step `r − lag`), then the
/// non-sequences. Outputs: each recurrent output's values at steps `0..<n`, then each other
/// output's. With a stop condition (``until(_:)``), the loop ends after the first step whose
/// condition is true, and the outputs have that many rows. Built by
/// ``scan(_:sequences:outputsInfo:nonSequences:nSteps:goBackwards:truncateGradient:)``.
public struct Scan: DifferentiableOp {
    let body: ScanBody
    /// Per sequence: its taps (0 is the current step).
    let sequenceTaps: [[Int]]
    /// Per recurrent output: its taps (negative: −1 is the previous step).
    let outputTaps: [[Int]]
    let plainCount: Int
    let nonSequenceCount: Int
    let hasCondition: Bool
    /// Steps back through which gradients flow (nil: all).
    let truncateGradient: Int?

    public static func == (a: Scan, b: Scan) -> Bool { a.body === b.body && a.truncateGradient == b.truncateGradient }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(body)) }

    public var outputCount: Int { outputTaps.count + plainCount }
    public var description: String {
        "Scan{\(outputTaps.count) recurrent, \(plainCount) other" + (hasCondition ? ", until" : "") + "}"
    }
    /// Its steps run a compiled function; replays treat it as any other op.
    public var replayRole: ReplayRole { .computes }

    var lags: [Int] { outputTaps.map { -($0.min() ?? -1) } }
    var span: [Int] { sequenceTaps.map { ($0.max() ?? 0) - ($0.min() ?? 0) } }

    public func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        let (s, r) = (sequenceTaps.count, outputTaps.count)
        guard inputs.count == 1 + s + r + nonSequenceCount else {
            throw OpError("scan takes \(1 + s + r + nonSequenceCount) inputs, got \(inputs.count)")
        }
        guard inputs[0].ndim == 0, inputs[0].dtype.isInteger else {
            throw OpError("scan's number of steps must be an integer scalar, got \(inputs[0])")
        }
        for (k, t) in inputs[1..<(1 + s)].enumerated() where t.ndim == 0 {
            throw OpError("scan's sequence \(k) is a scalar: sequences are iterated over their first axis")
        }
        var types: [TensorType] = []
        for k in 0..<r {
            let initial = inputs[1 + s + k]
            let state = TensorType(initial.dtype, shape: Array(initial.shape.dropFirst()))
            let out = body.outputs[k].type
            guard out.dtype == state.dtype, out.ndim == state.ndim else {
                throw OpError(
                    "scan's step returns \(out) for output \(k), whose initial value is \(state): they must match "
                        + "(cast the initial value or the step's result)")
            }
            types.append(TensorType(state.dtype, shape: [nil] + state.shape))
        }
        for j in 0..<plainCount {
            let out = body.outputs[r + j].type
            types.append(TensorType(out.dtype, shape: [nil] + out.shape))
        }
        if hasCondition, let c = body.outputs.last, c.ndim != 0 {
            throw OpError("scan's stop condition must be a scalar, got \(c.type)")
        }
        return types
    }

    public func perform(_ inputs: [NDArray]) throws -> [NDArray] {
        let (s, r) = (sequenceTaps.count, outputTaps.count)
        let n = Int(try inputs[0].item())
        guard n >= 0 else { throw OpError("scan: \(n) steps", kind: .badInput) }
        let sequences = Array(inputs[1..<(1 + s)])
        for (k, seq) in sequences.enumerated() where seq.shape[0] < n + span[k] {
            throw OpError(
                "scan: sequence \(k) has \(seq.shape[0]) rows; \(n) steps with taps \(sequenceTaps[k]) need "
                    + "\(n + span[k])", kind: .shape)
        }
        var histories: [NDArray] = []
        for k in 0..<r {
            let initial = inputs[1 + s + k]
            guard initial.shape[0] == lags[k] else {
                throw OpError(
                    "scan: output \(k)'s initial value has \(initial.shape[0]) rows, its taps \(outputTaps[k]) need "
                        + "\(lags[k])", kind: .shape)
            }
            let history = try NDArray.empty([lags[k] + n] + initial.shape.dropFirst(), dtype: initial.dtype)
            if lags[k] > 0 { initial.write(into: try history.sliced([.range(start: 0, stop: lags[k], step: 1)])) }
            histories.append(history)
        }
        let nonSequences = Array(inputs[(1 + s + r)...])
        var plain: [NDArray?] = Array(repeating: nil, count: plainCount)
        var steps = n
        for t in 0..<n {
            var values: [NDArray] = []
            for (k, seq) in sequences.enumerated() {
                let first = sequenceTaps[k].min() ?? 0
                for tap in sequenceTaps[k] { values.append(try seq.sliced([.at(t + tap - first)])) }
            }
            for k in 0..<r {
                for tap in outputTaps[k] { values.append(try histories[k].sliced([.at(lags[k] + t + tap)])) }
            }
            let outs = try body.step(values + nonSequences)
            for k in 0..<r { try store(outs[k], into: histories[k], row: lags[k] + t, output: k) }
            for j in 0..<plainCount {
                let o = outs[r + j]
                if plain[j] == nil { plain[j] = try NDArray.empty([n] + o.shape, dtype: o.dtype) }
                if let buffer = plain[j] { try store(o, into: buffer, row: t, output: r + j) }
            }
            if hasCondition, let stop = outs.last, try stop.item() != 0 {
                steps = t + 1
                break
            }
        }
        var results: [NDArray] = []
        for k in 0..<r {
            results.append(try histories[k].sliced([.range(start: lags[k], stop: lags[k] + steps, step: 1)]))
        }
        for j in 0..<plainCount {
            let empty = body.outputs[r + j].type
            let buffer = try plain[j] ?? NDArray.empty([0] + empty.shape.map { $0 ?? 0 }, dtype: empty.dtype)
            results.append(try buffer.sliced([.range(start: 0, stop: steps, step: 1)]))
        }
        return results
    }

    /// Writes one step's value of output `k` into its buffer's row, checking its shape.
    private func store(_ value: NDArray, into buffer: NDArray, row: Int, output k: Int) throws {
        let want = Array(buffer.shape.dropFirst())
        guard value.shape == want else {
            let earlier = k < outputTaps.count ? "initial value" : "first step"
            throw OpError(
                "scan: the step's output \(k) has shape \(value.shape), but its \(earlier) has \(want)", kind: .shape)
        }
        value.write(into: try buffer.sliced([.at(row)]))
    }
}
