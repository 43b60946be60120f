import Foundation
import NDArray
import Synchronization

/// The reference VM's plan: nodes in order, each reading and writing numbered slots; slots are
/// released after their last use so intermediate buffers do not outlive their readers.
final class Program {
    /// A class, so the run loop reads steps without copying their arrays.
    final class Step {
        let node: Apply
        let inputSlots: [Int]
        let outputSlots: [Int]
        /// Slots whose last reader is this step.
        let release: [Int]

        init(node: Apply, inputSlots: [Int], outputSlots: [Int], release: [Int]) {
            self.node = node
            self.inputSlots = inputSlots
            self.outputSlots = outputSlots
            self.release = release
        }
        /// The native kernel computing this step, when there is one.
        var kernel: (any Kernel)?
        /// Output → input pairs that may share memory: the op's `inplaceMap`, limited to
        /// inputs that are not function inputs, constants or shared variables.
        var inplaceCandidates: [(Int, Int)] = []
        /// For a link of an update chain (``Schedule``): the shared variable, updated in place
        /// when nothing else holds its value. Such steps run last, after all of them were
        /// validated.
        var updatesInPlace: SharedVariable?
    }

    let steps: [Step]
    let slotCount: Int
    let inputSlots: [Int]
    let outputSlots: [Int]
    let outputVariables: [Variable]
    let updateVariables: [Variable]
    let updates: [(shared: SharedVariable, slot: Int)]
    /// Constant and shared-variable slots, filled before each run.
    let constants: [(slot: Int, value: NDArray)]
    let sharedSlots: [(slot: Int, shared: SharedVariable)]
    /// Per-node timings, when profiling.
    let profile: Profile?
    /// DEBUG mode: check each node's inputs are left intact and its declared views are views.
    let checkNodes: Bool
    /// Whether steps may overwrite inputs read for the last time (not in DEBUG, nor when the
    /// mode excludes `inplace`).
    let inplace: Bool
    /// The memory plan's buffers from earlier calls.
    private let pool = BufferPool()
    /// Replays of calls at fixed layouts (``Replay``); nil when they do not apply (DEBUG,
    /// profiling, reference kernels, shared variables over ``replayedUpdateBytes`` updated in
    /// place, a mode excluding `"replay"`).
    private let replays: ReplayCache?
    /// The current replay plan's steps by kind (``Replay/summary``), nil without one.
    var replaySummary: String? { replays?.plan?.summary }
    var graphStatistics: GraphStatistics? { callContext?.graphStatistics }
    /// Shared variables updated in place by gemm up to this size still let a function replay
    /// (the logistic tutorial's 31 KB `W`; docs/NATIVE.md, "Figures behind the code"). Larger ones are
    /// updated in their own memory: a copy per call would cost more, and
    /// beyond glibc's 128 KiB `mmap` threshold each new buffer is mapped afresh.
    static let replayedUpdateBytes = 64 << 10
    /// Calls answered by a replay (for tests and diagnostics).
    let replayedCalls = Atomic<Int>(0)
    /// Whether the backend's kernels allow replays (device kernels do not: ``callContext`` is
    /// theirs).
    private let hostReplays: Bool
    /// The backend's state across calls (CUDA: queued launches and graphs); nil when profiling
    /// or checking nodes, which time and check each node's own work, or without replays.
    private let callContext: (any CallContext)?

    init(
        inputs: [Variable], outputs: [Variable], updates: [(SharedVariable, Variable)], mode: Mode,
        profile: Bool
    ) throws {
        let checkNodes = mode.name == Mode.debug.name
        let inplace = !checkNodes && !mode.excluded.contains("inplace")
        let schedule = try Schedule(inputs: Set(inputs), outputs: outputs, updates: updates, inplace: inplace)
        let storage = try StoragePlan(schedule, inputs: inputs, outputs: outputs, updates: updates)
        if mode.usesNativeCode {
            let flush = mode.flushesDenormals || Config.current.flushDenormals
            let backend = try mode.backend(on: mode.device ?? Config.current.device)
            let lowered = try backend.kernels(for: schedule.order, options: LoweringOptions(flushDenormals: flush))
            for (i, k) in lowered { storage.steps[i].kernel = k }
            hostReplays = backend.replaysOnHost
            let each = checkNodes || profile || mode.excluded.contains("replay")
            callContext = each ? nil : backend.callContext(excluded: mode.excluded)
        } else {
            hostReplays = true
            callContext = nil
        }
        steps = storage.steps
        slotCount = storage.slotCount
        inputSlots = storage.inputSlots
        outputSlots = storage.outputSlots
        self.updates = storage.updates
        constants = storage.constants
        sharedSlots = storage.sharedSlots
        outputVariables = outputs
        updateVariables = updates.map(\.1)
        self.profile = profile ? Profile(nodes: schedule.order) : nil
        self.checkNodes = checkNodes
        self.inplace = inplace
        // A replay holds the shared values it reads, so an accumulating update can no longer run
        // in the variable's own memory: it writes the other of two buffers, after copying the old
        // value into it. That is cheap for small variables (a classifier's W), not for large ones.
        let smallUpdates = steps.allSatisfy { step in
            step.updatesInPlace.map { $0.value.count * $0.value.dtype.itemSize <= Self.replayedUpdateBytes } ?? true
        }
        let replayed =
            !mode.excluded.contains("replay") && !checkNodes && !profile && mode.usesNativeCode && hostReplays
        replays = replayed && smallUpdates ? ReplayCache() : nil
    }

    /// Rewrites a private copy of `roots` (outputs, then update values) without the `excluded`
    /// rewrites and plans it; also returns the replacements the rewrites made.
    static func compile(
        inputs: [Variable], roots: [Variable], outputCount: Int, updates: [SharedVariable],
        mode: Mode, excluded: Set<String>, profile: Bool
    ) throws
        -> (program: Program, applied: [(String, Variable, Variable)])
    {
        let fgraph = FunctionGraph(inputs: inputs, outputs: roots)
        Rewrites.optimize(fgraph, excluded: excluded)
        let outs = fgraph.outputs
        let program = try Program(
            inputs: inputs, outputs: Array(outs[..<outputCount]),
            updates: zip(updates, outs[outputCount...]).map { ($0, $1) }, mode: mode, profile: profile)
        return (program, fgraph.history)
    }

    /// Runs every step, or replays a plan made for these layouts; returns outputs and the update
    /// values (not yet committed).
    func run(_ inputs: [NDArray]) throws -> ([NDArray], [(SharedVariable, NDArray)]) {
        // Without replays the values are read in `runSteps`, so that an in-place gemm update
        // finds its shared variable's value held by nothing else.
        guard let replays else {
            // Profiling counts this call's transfers alone, not those of whatever runs beside it.
            if let callContext { return try callContext.run { try runSteps(inputs, nil, trace: false).outputs } }
            guard profile != nil else { return try runSteps(inputs, nil, trace: false).outputs }
            return try NDStorage.$tally.withValue(TrafficTally()) { try runSteps(inputs, nil, trace: false).outputs }
        }
        let shared = sharedSlots.map { $0.shared.value }
        if let plan = replays.plan, plan.matches(inputs, shared), plan.acquire() {
            defer { plan.release() }
            if let result = plan.run(inputs, shared) {
                replayedCalls.add(1, ordering: .relaxed)
                return result
            }
            replays.discard(plan)
        }
        let trace = replays.shouldTrace(inputs, shared)
        let (result, slots) = try runSteps(inputs, shared, trace: trace)
        if trace { replays.install(Replay(program: self, trace: slots, inputs: inputs, shared: shared)) }
        return result
    }

    /// Runs every step. With `trace`, no value is released or overwritten in place, and every
    /// slot's value is returned for ``Replay`` to plan from.
    private func runSteps(
        _ inputs: [NDArray], _ shared: [NDArray]?, trace: Bool
    ) throws
        -> (outputs: ([NDArray], [(SharedVariable, NDArray)]), slots: [NDArray?])
    {
        var buffers = pool.take(steps: steps.count)
        defer { pool.putBack(buffers) }
        var slots = [NDArray?](repeating: nil, count: slotCount)
        for (s, v) in zip(inputSlots, inputs) { slots[s] = v }
        for (s, v) in constants { slots[s] = v }
        for (k, (s, v)) in sharedSlots.enumerated() { slots[s] = shared?[k] ?? v.value }
        var args: [NDArray] = []
        var validated = false
        let tally = profile == nil ? nil : NDStorage.tally
        for (index, step) in steps.enumerated() {
            let started = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            let traffic = tally?.traffic
            if let shared = step.updatesInPlace {
                // The first in-place update: check all of them before any writes.
                if !validated {
                    try validateInPlaceUpdates(from: index, slots)
                    validated = true
                }
                if let result = try updateInPlace(step, shared, &slots) {
                    slots[step.outputSlots[0]] = result
                    profile?.record(node: index, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
                    continue
                }
            }
            args.removeAll(keepingCapacity: true)
            for s in step.inputSlots {
                guard let v = slots[s] ?? (step.updatesInPlace.map { $0.value }) else {
                    throw TheanoError(
                        .runtime, "internal error: an input of \(step.node.op) was released early",
                        location: step.node.location)
                }
                args.append(v)
            }
            let results: [NDArray]
            // Inputs over a million elements (whole datasets behind minibatch views) are not
            // snapshotted: the check would cost more than the graph.
            let before = checkNodes ? args.map { $0.count <= 1_000_000 ? $0.contiguous(forceCopy: true) : $0 } : []
            let reuses = step.kernel != nil || step.node.op.reusesBuffers
            var free =
                reuses && !buffers[index].isEmpty
                ? BufferPool.free(&buffers[index], outputs: step.outputSlots.count) : []
            // In place: an input read for the last time, held by nothing but this call, becomes
            // the output's memory (DEBUG mode keeps inputs intact to check them).
            if reuses && inplace && !trace {
                for (o, i) in step.inplaceCandidates where step.release.contains(step.inputSlots[i]) {
                    slots[step.inputSlots[i]] = nil
                    if args[i].hasUniqueStorage() && args[i].isContiguous {
                        while free.count <= o { free.append(nil) }
                        free[o] = args[i]
                    }
                }
            }
            do {
                if let kernel = step.kernel {
                    results = try kernel.run(args, into: free)
                } else {
                    results = try step.node.op.perform(args, reusing: free)
                }
                // A download that failed where it could not throw (host code reading a device value).
                if step.kernel?.runsOnDevice != true {
                    for a in args where a.storage.hasMirror { try a.storage.checkHost() }
                }
            } catch {
                throw TheanoError(at: step.node, args, error)
            }
            // An update made in place must not be held by the pool (it would never be unique).
            if reuses && step.updatesInPlace == nil { BufferPool.remember(results, in: &buffers[index]) }
            if checkNodes {
                try NodeChecks.check(step.node, args: args, before: before, results: results)
                if step.kernel != nil { try NodeChecks.compareWithReference(step.node, args: args, results: results) }
            }
            for (k, (s, r)) in zip(step.outputSlots, results).enumerated() {
                let want = step.node.outputs[k].type
                guard want.accepts(r) else {
                    throw TheanoError(
                        .runtime,
                        "internal error: \(step.node.op) produced \(r.dtype) shape \(r.shape), but its type is \(want)",
                        op: "\(step.node.op)", inputs: args.summary, location: step.node.location)
                }
                slots[s] = r
            }
            if !trace { for s in step.release { slots[s] = nil } }
            if let profile {
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                let moved = traffic.flatMap { before in tally.map { $0.traffic - before } }
                profile.record(node: index, seconds: seconds, traffic: moved)
            }
        }
        profile?.finishCall()
        var outs: [NDArray] = []
        var ups: [(SharedVariable, NDArray)] = []
        for s in outputSlots {
            guard let v = slots[s] else {
                throw TheanoError(.runtime, "internal error: output slot \(s) was not computed")
            }
            outs.append(v)
        }
        for u in updates {
            guard let v = slots[u.slot] else {
                throw TheanoError(.runtime, "internal error: update slot \(u.slot) was not computed")
            }
            ups.append((u.shared, v))
        }
        return ((outs, ups), trace ? slots : [])
    }
}
