import NDArray

/// Turns a traced call into a replay's instructions, one planning function per kind of step:
/// values fixed by shapes, planned calls, views, and steps run the usual way.
struct ReplayPlanner {
    /// Large intermediates are better served by the VM's memory reuse than by a buffer each.
    static let bufferLimit = 16 << 20

    private(set) var sources: [Replay.Source?]
    private(set) var instructions: [Replay.Instruction] = []
    var memory = ReplayMemory()
    private var bufferBytes = 0
    private let trace: [NDArray?]

    init(program: Program, trace: [NDArray?]) {
        self.trace = trace
        sources = [Replay.Source?](repeating: nil, count: program.slotCount)
        for (k, s) in program.inputSlots.enumerated() { sources[s] = .input(k) }
        for (k, entry) in program.sharedSlots.enumerated() { sources[entry.slot] = .shared(k) }
        for (s, v) in program.constants { sources[s] = .fixed(v) }
    }

    /// Plans every step; false when the program cannot be replayed at the traced shapes (the
    /// memory is then freed).
    mutating func plan(_ steps: [Program.Step]) -> Bool {
        for (index, step) in steps.enumerated() {
            let args = step.inputSlots.compactMap { trace[$0] }
            let results = step.outputSlots.compactMap { trace[$0] }
            guard args.count == step.inputSlots.count, results.count == step.outputSlots.count else { return cancel() }
            let traced = ReplayStep(args: args, results: results, fixed: step.inputSlots.map(isFixed))
            if planFixed(step, traced) { continue }
            switch planCall(step, traced) {
            case .some(true): continue
            case .some(false): return cancel()
            case .none: break
            }
            if planView(step, traced) { continue }
            planFallback(step, index)
        }
        return bufferBytes <= Self.bufferLimit || cancel()
    }

    private func cancel() -> Bool {
        memory.free()
        return false
    }

    private func isFixed(_ s: Int) -> Bool { if case .fixed = sources[s] { true } else { false } }

    /// Shapes are fixed, so whatever is computed from shapes and constants alone is too.
    private mutating func planFixed(_ step: Program.Step, _ traced: ReplayStep) -> Bool {
        let role = step.node.op.replayRole
        guard role == .shapeOnly || (traced.fixed.allSatisfy { $0 } && role != .impure) else { return false }
        for (s, r) in zip(step.outputSlots, traced.results) { sources[s] = .fixed(r) }
        return true
    }

    /// The step's kernel, or else its op, plans a call (``ReplayPlanning``); its outputs get
    /// buffers of their own. Nil when neither does, false when a buffer cannot be made.
    private mutating func planCall(_ step: Program.Step, _ traced: ReplayStep) -> Bool? {
        let planner: (any ReplayPlanning)? =
            if let kernel = step.kernel { kernel as? any ReplayPlanning } else { step.node.op as? any ReplayPlanning }
        guard let planner, let call = planner.replayCall(traced, &memory) else { return nil }
        for (s, r) in zip(step.outputSlots, traced.results) {
            guard let b = try? NDArray.empty(r.shape, dtype: r.dtype) else { return false }
            sources[s] = .buffer(b)
            bufferBytes += r.count * r.dtype.itemSize
        }
        let slots = step.inputSlots + step.outputSlots
        let operands = Replay.Operands(
            slots: memory.store(slots), count: slots.count,
            pointers: memory.store([UnsafeMutableRawPointer?](repeating: nil, count: slots.count)))
        instructions.append(.call(call, operands))
        return true
    }

    /// A view at a fixed offset into its first input becomes pointer arithmetic.
    private mutating func planView(_ step: Program.Step, _ traced: ReplayStep) -> Bool {
        let (args, results) = (traced.args, traced.results)
        guard step.node.op.replayRole == .view, results.count == 1, results[0].sharesStorage(with: args[0]),
            traced.fixed.dropFirst().allSatisfy({ $0 })
        else { return false }
        let bytes = (results[0].offset - args[0].offset) * results[0].dtype.itemSize
        sources[step.outputSlots[0]] = .view(of: step.inputSlots[0], bytes: bytes)
        instructions.append(.view(base: step.inputSlots[0], slot: step.outputSlots[0], bytes: bytes))
        return true
    }

    /// Anything else runs through its kernel or `perform` in the replayed call.
    private mutating func planFallback(_ step: Program.Step, _ index: Int) {
        for s in step.outputSlots { sources[s] = .dynamic }
        instructions.append(.fallback(step: index))
    }
}
