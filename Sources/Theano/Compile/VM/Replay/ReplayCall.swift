import NDArray

/// One planned call of a replay: a C-convention body over the step's operand pointers (inputs,
/// then outputs) and a block of parameters the planner wrote down. Only a thin function pointer
/// and raw pointers, so replaying it retains nothing.
struct ReplayCall {
    typealias Body = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeRawPointer) -> Void
    /// The kind shown by ``Replay/summary`` (`kernel`, `gemv`, …).
    let name: StaticString
    let body: Body
    let parameters: UnsafeRawPointer
}

/// A step as traced, for a kernel or op planning its replayed call.
struct ReplayStep {
    /// The traced inputs and results.
    let args: [NDArray]
    let results: [NDArray]
    /// Per input: whether its value is the same in every replayed call (a constant, or computed
    /// from shapes alone).
    let fixed: [Bool]
}

/// Memory a plan owns for its lifetime: parameter blocks, slot lists, loop dimensions.
struct ReplayMemory {
    private(set) var allocations: [UnsafeMutableRawPointer] = []

    /// A copy of `values` that lives as long as the plan.
    mutating func store<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
        p.initialize(from: values, count: values.count)
        allocations.append(UnsafeMutableRawPointer(p))
        return p
    }

    /// A parameter block for a ``ReplayCall``.
    mutating func parameters<T>(_ value: T) -> UnsafeRawPointer { UnsafeRawPointer(store([value])) }

    /// Frees everything (the plan is gone, or was abandoned).
    func free() { for p in allocations { p.deallocate() } }
}

/// A kernel (or an op without one) whose work at fixed layouts is one planned call. The replay
/// planner asks the step's kernel, then its op; neither is named anywhere else in the VM.
protocol ReplayPlanning {
    /// The call computing `step` at its traced layouts, nil to run it the usual way. Each output
    /// is given a contiguous buffer of its traced shape and dtype.
    func replayCall(_ step: ReplayStep, _ memory: inout ReplayMemory) -> ReplayCall?
}
