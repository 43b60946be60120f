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
        // Rows as views made directly (the per-step cost of a loop is mostly its bookkeeping).
        let seqRows = sequences.map(Rows.init)
        let historyRows = histories.map(Rows.init)
        var plainRows: [Rows?] = Array(repeating: nil, count: plainCount)
        let firstTaps = sequenceTaps.map { $0.min() ?? 0 }
        var values: [NDArray] = []
        values.reserveCapacity(body.inputs.count)
        for t in 0..<n {
            values.removeAll(keepingCapacity: true)
            for k in 0..<s {
                for tap in sequenceTaps[k] { values.append(seqRows[k][t + tap - firstTaps[k]]) }
            }
            for k in 0..<r {
                for tap in outputTaps[k] { values.append(historyRows[k][lags[k] + t + tap]) }
            }
            values.append(contentsOf: nonSequences)
            let outs = try body.step(values)
            for k in 0..<r { try store(outs[k], into: historyRows[k], row: lags[k] + t, output: k) }
            for j in 0..<plainCount {
                let o = outs[r + j]
                if plain[j] == nil {
                    let buffer = try NDArray.empty([n] + o.shape, dtype: o.dtype)
                    plain[j] = buffer
                    plainRows[j] = Rows(buffer)
                }
                if let rows = plainRows[j] { try store(o, into: rows, row: t, output: r + j) }
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
    private func store(_ value: NDArray, into rows: Rows, row: Int, output k: Int) throws {
        let want = rows.shape
        guard value.shape == want else {
            let earlier = k < outputTaps.count ? "initial value" : "first step"
            throw OpError(
                "scan: the step's output \(k) has shape \(value.shape), but its \(earlier) has \(want)", kind: .shape)
        }
        value.write(into: rows[row])
    }
}

/// The rows of an array as views, sharing one shape and one strides array.
private struct Rows {
    let array: NDArray
    let shape: [Int]
    let strides: [Int]

    init(_ array: NDArray) {
        self.array = array
        shape = Array(array.shape.dropFirst())
        strides = Array(array.strides.dropFirst())
    }

    subscript(i: Int) -> NDArray {
        NDArray(
            storage: array.storage, dtype: array.dtype, shape: shape, strides: strides,
            offset: array.offset + i * array.strides[0])
    }
}

extension Scan: InnerGraphOp {
    var innerGraphs: [(label: String, outputs: [Variable])] { [("step", body.outputs)] }
}
