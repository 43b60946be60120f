import NDArray

// Back-propagation through time: the gradient of a scan is another scan, run backwards over the
// steps the forward one ran. Its step re-runs the forward step's graph on that step's values
// (the sequences' slices, the outputs' earlier values, read from the forward outputs) and takes
// its vector-Jacobian product with the output gradients plus what later steps sent back. It
// carries, per recurrent output, what is owed to each of its last `lag` values, and per
// non-sequence, the sum over steps; it emits each sequence slice's gradient.

extension Scan {
    public func pullback(_ node: Apply, _ gradients: [Variable?]) -> [InputGradient] {
        do {
            return try backward(node, gradients)
        } catch {
            let reason = "\(error)"
            return node.inputs.map { $0.isDifferentiable ? .undefined(reason) : .disconnected }
        }
    }

    private func backward(_ node: Apply, _ gradients: [Variable?]) throws -> [InputGradient] {
        let (s, r) = (sequenceTaps.count, outputTaps.count)
        let inputs = node.inputs
        let outputs = node.outputs
        let sequences = Array(inputs[1..<(1 + s)])
        let initials = Array(inputs[(1 + s)..<(1 + s + r)])
        let nonSequences = Array(inputs[(1 + s + r)...])
        // The steps the forward scan ran (fewer than asked when it stopped on its condition).
        let m = cast(outputs[0].shape[0], .int64)
        let floatStates = (0..<r).filter { initials[$0].dtype.isFloat }
        let floatPlain = (0..<plainCount).filter { outputs[r + $0].dtype.isFloat }
        let floatSeqs = (0..<s).filter { sequences[$0].dtype.isFloat }
        let floatNonSeqs = nonSequences.indices.filter { nonSequences[$0].dtype.isFloat }

        // The backward scan's sequences, each exactly m rows, in forward order.
        var bseqs: [Variable] = []
        for k in 0..<s {
            let first = sequenceTaps[k].min() ?? 0
            for tap in sequenceTaps[k] { bseqs.append(rows(sequences[k], from: tap - first, count: m)) }
        }
        for k in 0..<r {
            let history = concatenate([initials[k], outputs[k]], axis: 0)
            for tap in outputTaps[k] { bseqs.append(rows(history, from: lags[k] + tap, count: m)) }
        }
        for k in floatStates { bseqs.append(gradients[k] ?? zerosLike(outputs[k])) }
        for j in floatPlain { bseqs.append(gradients[r + j] ?? zerosLike(outputs[r + j])) }
        var infos: [(any ScanOutputInfo)?] = []
        for k in floatStates { for _ in 0..<lags[k] { infos.append(zerosLike(initials[k][0])) } }
        for i in floatNonSeqs { infos.append(zerosLike(nonSequences[i])) }
        let slotCount = sequenceTaps.reduce(0) { $0 + $1.count }
        let seqGradCount = floatSeqs.reduce(0) { $0 + sequenceTaps[$1].count }
        infos += [(any ScanOutputInfo)?](repeating: nil, count: seqGradCount)

        let steps = truncateGradient.map { minimum(m, int64($0)) } ?? m
        let (bout, _) = try scan(
            { v in try self.step(v, slotCount, floatStates, floatPlain, floatSeqs, floatNonSeqs) },
            sequences: bseqs, outputsInfo: infos, nonSequences: nonSequences, nSteps: steps, goBackwards: true)

        var result = [InputGradient](repeating: .disconnected, count: inputs.count)
        var position = 0
        let truncated = truncateGradient.map { le(m, int64($0)) }
        for k in floatStates {
            // The last carry, per lag: owed to the initial rows, oldest first.
            let owed = (0..<lags[k]).map { bout[position + $0][-1] }
            position += lags[k]
            let g = stack(Array(owed.reversed()), axis: 0)
            result[1 + s + k] = .value(truncated.map { select($0, g, zerosLike(g)) } ?? g)
        }
        for i in floatNonSeqs {
            result[1 + s + r + i] = .value(bout[position][-1])
            position += 1
        }
        for k in floatSeqs {
            let first = sequenceTaps[k].min() ?? 0
            var g = zerosLike(sequences[k])
            for tap in sequenceTaps[k] {
                // Back in forward order: the last `steps` steps, the only ones gradients reached.
                let slice = bout[position][Slice(step: -1)]
                position += 1
                let end = int64(tap - first) + m
                g = incSubtensor(g[(end - steps)..<end], slice)
            }
            result[1 + k] = .value(g)
        }
        return result
    }

    /// `count` rows of `x` from row `start`.
    private func rows(_ x: Variable, from start: Int, count: Variable) -> Variable {
        x[int64(start)..<(int64(start) + count)]
    }

    /// One backward step. `v` holds, as the backward scan passes them: the forward step's values
    /// (sequence slices, earlier outputs), the output gradients, the carries, the non-sequence
    /// sums, then the non-sequences.
    private func step(
        _ v: [Variable], _ slotCount: Int, _ floatStates: [Int], _ floatPlain: [Int], _ floatSeqs: [Int],
        _ floatNonSeqs: [Int]
    ) throws -> [Variable] {
        let r = outputTaps.count
        let stateSlots = outputTaps.reduce(0) { $0 + $1.count }
        var i = 0
        func take(_ n: Int) -> [Variable] {
            defer { i += n }
            return Array(v[i..<(i + n)])
        }
        let seqValues = take(slotCount)
        let stateValues = take(stateSlots)
        let gStates = take(floatStates.count)
        let gPlain = take(floatPlain.count)
        var carries: [[Variable]] = []
        for k in floatStates { carries.append(take(lags[k])) }
        let sums = take(floatNonSeqs.count)
        let nonSeqValues = Array(v[i...])

        let forward = Array(body.outputs.prefix(r + plainCount))
        let values = seqValues + stateValues + nonSeqValues
        let outs = Graph.clone(forward, replacing: Dictionary(uniqueKeysWithValues: zip(body.inputs, values)))
        var cost: Variable?
        func add(_ term: Variable) { cost = cost.map { $0 + term } ?? term }
        for (c, k) in floatStates.enumerated() { add(sum(outs[k] * (gStates[c] + carries[c][0]))) }
        for (c, j) in floatPlain.enumerated() { add(sum(outs[r + j] * gPlain[c])) }

        // The values to differentiate: float sequence slices, earlier float outputs, float non-sequences.
        var seqSlots: [Int: Range<Int>] = [:]
        var at = 0
        for k in sequenceTaps.indices {
            seqSlots[k] = at..<(at + sequenceTaps[k].count)
            at += sequenceTaps[k].count
        }
        var stateSlotRanges: [Int: Range<Int>] = [:]
        at = 0
        for k in 0..<r {
            stateSlotRanges[k] = at..<(at + outputTaps[k].count)
            at += outputTaps[k].count
        }
        let wrtSeqs = floatSeqs.flatMap { seqSlots[$0].map { Array(seqValues[$0]) } ?? [] }
        let wrtStates = floatStates.flatMap { stateSlotRanges[$0].map { Array(stateValues[$0]) } ?? [] }
        let wrtNonSeqs = floatNonSeqs.map { nonSeqValues[$0] }
        let wrt = wrtSeqs + wrtStates + wrtNonSeqs
        let grads: [Variable]
        if let cost, !wrt.isEmpty {
            grads = try grad(cost, wrt: wrt, disconnectedInputs: .ignore)
        } else {
            grads = wrt.map { zerosLike($0) }
        }
        var g = grads[...]
        let gSeqs = Array(g.prefix(wrtSeqs.count))
        g = g.dropFirst(wrtSeqs.count)
        var next: [Variable] = []
        for (c, k) in floatStates.enumerated() {
            // What this step owes each earlier value, by lag.
            var byLag: [Int: Variable] = [:]
            for tap in outputTaps[k] {
                byLag[-tap] = g.first
                g = g.dropFirst()
            }
            for j in 0..<lags[k] {
                let later = j + 1 < lags[k] ? carries[c][j + 1] : nil
                let owed = byLag[j + 1]
                switch (later, owed) {
                case (let a?, let b?): next.append(a + b)
                case (let a?, nil): next.append(a)
                case (nil, let b?): next.append(b)
                case (nil, nil): next.append(zerosLike(carries[c][j]))
                }
            }
        }
        for (c, _) in floatNonSeqs.enumerated() {
            next.append(sums[c] + (g.first ?? zerosLike(sums[c])))
            g = g.dropFirst()
        }
        return next + gSeqs
    }
}
