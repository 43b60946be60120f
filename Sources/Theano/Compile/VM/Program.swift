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
        /// For a `Gemm` whose accumulator is a shared variable and whose result is that
        /// variable's update and nothing else: the variable, updated in place when nothing else
        /// holds its value. Such steps run last, after all of them were validated.
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
    /// The memory plan: per step and output, buffers from earlier calls (at most two, so an update
    /// can alternate between them while the shared variable holds the other). A call takes the
    /// pool and puts it back, so concurrent calls never share a buffer.
    private let pool = Mutex<[[[NDArray]]]>([])
    /// Replays of calls at fixed layouts (``Replay``); nil when they do not apply (DEBUG,
    /// profiling, reference kernels, shared variables over ``replayedUpdateBytes`` updated in
    /// place, a mode excluding `"replay"`).
    private let replays: ReplayCache?
    /// The current replay plan's steps by kind (``Replay/summary``), nil without one.
    var replaySummary: String? { replays?.plan?.summary }
    /// Shared variables updated in place by gemm up to this size still let a function replay
    /// (the logistic tutorial's 31 KB `W`: its whole run 1.30–1.59 → 1.12–1.41 s in interleaved
    /// runs). Larger ones are updated in their own memory: a copy per call would cost more, and
    /// beyond glibc's 128 KiB `mmap` threshold each new buffer is mapped afresh.
    static let replayedUpdateBytes = 64 << 10
    /// Calls answered by a replay (for tests and diagnostics).
    let replayedCalls = Atomic<Int>(0)

    init(inputs: [Variable], outputs: [Variable], updates: [(SharedVariable, Variable)], mode: Mode,
         profile: Bool) throws {
        let inputSet = Set(inputs)
        let roots = outputs + updates.map(\.1)
        var order = Graph.topologicalOrder(roots, stoppingAt: inputSet)
        if let bad = order.first(where: { $0.error != nil }), let e = bad.error { throw e }
        // Updates that gemms can make in place go last: nothing reads them, and running them
        // after everything else keeps a failed call from changing any shared variable. The
        // update may be a chain of gemms, each accumulating into the one before, the first into
        // the variable (two gradient terms of a tied weight, the two phases of CD).
        var inPlaceUpdates: [ObjectIdentifier: SharedVariable] = [:]
        if mode.name != Mode.debug.name && !mode.excluded.contains("inplace") {
            var reads: [ObjectIdentifier: Int] = [:]
            for node in order { for v in node.inputs { reads[ObjectIdentifier(v), default: 0] += 1 } }
            for (shared, value) in updates {
                guard reads[ObjectIdentifier(value)] == nil, !outputs.contains(where: { $0 === value }),
                      updates.filter({ $0.1 === value }).count == 1 else { continue }
                var chain: [Apply] = []
                var v = value
                while let node = v.owner, node.op is Gemm, !node.inputs.dropFirst().contains(where: { $0 === node.inputs[0] }) {
                    chain.append(node)
                    let accumulator = node.inputs[0]
                    if accumulator === shared { break }
                    // An earlier link: read by this gemm alone, as its accumulator.
                    guard reads[ObjectIdentifier(accumulator)] == 1, !outputs.contains(where: { $0 === accumulator }),
                          !updates.contains(where: { $0.1 === accumulator }) else { break }
                    v = accumulator
                }
                guard let first = chain.last, first.inputs[0] === shared else { continue }
                for node in chain { inPlaceUpdates[ObjectIdentifier(node)] = shared }
            }
            order = order.filter { inPlaceUpdates[ObjectIdentifier($0)] == nil } + order.filter { inPlaceUpdates[ObjectIdentifier($0)] != nil }
        }

        var slotOf: [Variable: Int] = [:]
        var next = 0
        func slot(_ v: Variable) -> Int {
            if let s = slotOf[v] { return s }
            slotOf[v] = next
            next += 1
            return next - 1
        }
        inputSlots = inputs.map(slot)
        var constants: [(Int, NDArray)] = [], shared: [(Int, SharedVariable)] = []
        // Free variables must be inputs, constants or shared variables.
        for v in Graph.roots(roots, stoppingAt: inputSet) where !inputSet.contains(v) {
            if let c = v as? Constant { constants.append((slot(c), c.value)) }
            else if let s = v as? SharedVariable { shared.append((slot(s), s)) }
            else {
                let user = order.first { $0.inputs.contains(v) }
                throw TheanoError(.missingInput, "the graph needs \(v.label), which is not an input of the function; add it to `inputs` or replace it with `givens`",
                                  op: user.map { "\($0.op)" }, location: v.location)
            }
        }
        // Last reader of each slot; outputs and updates are kept to the end.
        var steps: [Step] = []
        var lastUse: [Int: Int] = [:]
        let nodeSlots = order.map { node in (node.inputs.map(slot), node.outputs.map(slot)) }
        for (i, (ins, _)) in nodeSlots.enumerated() { for s in ins { lastUse[s] = i } }
        let keep = Set(roots.map(slot) + inputSlots + constants.map(\.0) + shared.map(\.0))
        for (i, node) in order.enumerated() {
            let (ins, outs) = nodeSlots[i]
            let release = Set(ins).filter { lastUse[$0] == i && !keep.contains($0) }
            let step = Step(node: node, inputSlots: ins, outputSlots: outs, release: Array(release))
            step.updatesInPlace = inPlaceUpdates[ObjectIdentifier(node)]
            step.inplaceCandidates = node.op.inplaceMap.sorted { $0.key < $1.key }
                .filter { o, i in i < ins.count && release.contains(ins[i]) && ins.filter { $0 == ins[i] }.count == 1 && o < outs.count }
                .map { ($0.key, $0.value) }
            steps.append(step)
        }
        if mode.usesNativeCode {
            let flush = mode.flushesDenormals || Config.current.flushDenormals
            let lowered = try mode.backend.kernels(for: order, options: LoweringOptions(flushDenormals: flush))
            for (i, k) in lowered { steps[i].kernel = k }
        }
        self.steps = steps
        self.constants = constants
        self.sharedSlots = shared
        self.outputSlots = outputs.map(slot)
        self.updates = updates.map { ($0.0, slot($0.1)) }
        self.outputVariables = outputs
        self.updateVariables = updates.map(\.1)
        slotCount = next
        self.profile = profile ? Profile(nodes: order) : nil
        self.checkNodes = mode.name == Mode.debug.name
        self.inplace = !checkNodes && !mode.excluded.contains("inplace")
        // A replay holds the shared values it reads, so a gemm update can no longer run in the
        // variable's own memory: it writes the other of two buffers, after copying the old value
        // into it. That is cheap for small variables (a classifier's W), not for large ones.
        let smallUpdates = steps.allSatisfy { step in
            step.updatesInPlace.map { $0.value.count * $0.value.dtype.itemSize <= Self.replayedUpdateBytes } ?? true
        }
        replays = !mode.excluded.contains("replay") && !checkNodes && !profile && mode.usesNativeCode && smallUpdates
            ? ReplayCache() : nil
    }

    /// Rewrites a private copy of `roots` (outputs, then update values) without the `excluded`
    /// rewrites and plans it; also returns the replacements the rewrites made.
    static func compile(inputs: [Variable], roots: [Variable], outputCount: Int, updates: [SharedVariable],
                        mode: Mode, excluded: Set<String>, profile: Bool) throws
        -> (program: Program, applied: [(String, Variable, Variable)]) {
        let fgraph = FunctionGraph(inputs: inputs, outputs: roots)
        Rewrites.optimize(fgraph, excluded: excluded)
        let outs = fgraph.outputs
        let program = try Program(inputs: inputs, outputs: Array(outs[..<outputCount]),
                                  updates: zip(updates, outs[outputCount...]).map { ($0, $1) }, mode: mode, profile: profile)
        return (program, fgraph.history)
    }

    /// Runs every step, or replays a plan made for these layouts; returns outputs and the update
    /// values (not yet committed).
    func run(_ inputs: [NDArray]) throws -> ([NDArray], [(SharedVariable, NDArray)]) {
        // Without replays the values are read in `runSteps`, so that an in-place gemm update
        // finds its shared variable's value held by nothing else.
        guard let replays else { return try runSteps(inputs, nil, trace: false).outputs }
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
    private func runSteps(_ inputs: [NDArray], _ shared: [NDArray]?, trace: Bool) throws
        -> (outputs: ([NDArray], [(SharedVariable, NDArray)]), slots: [NDArray?]) {
        var buffers = pool.withLock { p -> [[[NDArray]]] in
            let taken = p
            p = []
            return taken
        }
        if buffers.count != steps.count { buffers = Array(repeating: [], count: steps.count) }
        defer { pool.withLock { $0 = buffers } }
        var slots = [NDArray?](repeating: nil, count: slotCount)
        for (s, v) in zip(inputSlots, inputs) { slots[s] = v }
        for (s, v) in constants { slots[s] = v }
        for (k, (s, v)) in sharedSlots.enumerated() { slots[s] = shared?[k] ?? v.value }
        var args: [NDArray] = []
        var validated = false
        for (index, step) in steps.enumerated() {
            let started = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
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
                    throw TheanoError(.runtime, "internal error: an input of \(step.node.op) was released early", location: step.node.location)
                }
                args.append(v)
            }
            let results: [NDArray]
            // Inputs over a million elements (whole datasets behind minibatch views) are not
            // snapshotted: the check would cost more than the graph.
            let before = checkNodes ? args.map { $0.count <= 1_000_000 ? $0.contiguous(forceCopy: true) : $0 } : []
            let reuses = step.kernel != nil || step.node.op.reusesBuffers
            var free = reuses && !buffers[index].isEmpty ? Self.freeBuffers(&buffers[index], outputs: step.outputSlots.count) : []
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
            } catch {
                throw nodeError(step.node, args, error)
            }
            // An update made in place must not be held by the pool (it would never be unique).
            if reuses && step.updatesInPlace == nil { Self.remember(results, in: &buffers[index]) }
            if checkNodes {
                try check(step.node, args: args, before: before, results: results)
                if step.kernel != nil { try compareWithReference(step.node, args: args, results: results) }
            }
            for (k, (s, r)) in zip(step.outputSlots, results).enumerated() {
                let want = step.node.outputs[k].type
                guard want.accepts(r) else {
                    throw TheanoError(.runtime, "internal error: \(step.node.op) produced \(r.dtype) shape \(r.shape), but its type is \(want)",
                                      op: "\(step.node.op)", inputs: args.summary, location: step.node.location)
                }
                slots[s] = r
            }
            if !trace { for s in step.release { slots[s] = nil } }
            if let profile {
                profile.record(node: index, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            }
        }
        profile?.finishCall()
        var outs: [NDArray] = [], ups: [(SharedVariable, NDArray)] = []
        for s in outputSlots {
            guard let v = slots[s] else { throw TheanoError(.runtime, "internal error: output slot \(s) was not computed") }
            outs.append(v)
        }
        for u in updates {
            guard let v = slots[u.slot] else { throw TheanoError(.runtime, "internal error: update slot \(u.slot) was not computed") }
            ups.append((u.shared, v))
        }
        return ((outs, ups), trace ? slots : [])
    }

    /// Checks every in-place update from `start` on (shapes and dtypes), so that once the first
    /// writes its shared variable, none of the rest can fail.
    private func validateInPlaceUpdates(from start: Int, _ slots: [NDArray?]) throws {
        for step in steps[start...] {
            guard let shared = step.updatesInPlace else { continue }
            let args = step.inputSlots.map { slots[$0] ?? shared.value }
            do { try Gemm.validate(args) } catch { throw nodeError(step.node, args, error) }
        }
    }

    /// Runs a gemm of an update chain in the shared variable's own memory when its accumulator
    /// is that memory (the variable itself, or an earlier link made in place) and nothing but
    /// the variable holds it (under the variable's lock, so no reader sees it half-written);
    /// nil otherwise, with the accumulator left in its slot.
    private func updateInPlace(_ step: Step, _ shared: SharedVariable, _ slots: inout [NDArray?]) throws -> NDArray? {
        let c = step.inputSlots[0]
        // This call's own reference to the accumulator goes first; other inputs are read as usual.
        let others = step.inputSlots.dropFirst().map { slots[$0] }
        guard !others.contains(where: { $0 == nil }), !step.inputSlots.dropFirst().contains(c) else { return nil }
        var accumulator = slots[c]
        slots[c] = nil
        let memory = accumulator.map { (ObjectIdentifier($0.storage), $0.offset, $0.shape) }
        let result = try shared.withStoredValue { stored -> NDArray? in
            guard let memory, ObjectIdentifier(stored.storage) == memory.0, stored.offset == memory.1, stored.shape == memory.2 else { return nil }
            accumulator = nil
            guard stored.hasUniqueStorage(), stored.isContiguous else { return nil }
            let args = [stored] + others.compactMap { $0 }
            let result: NDArray
            do { result = try step.node.op.perform(args, reusing: [stored])[0] } catch { throw nodeError(step.node, args, error) }
            return result.sharesStorage(with: stored) ? result : nil
        }
        // Not in place: the accumulator goes back (when it was the variable's memory, the
        // variable's value is the same array).
        if result == nil { slots[c] = accumulator ?? shared.value }
        return result
    }

    /// Per output, a kept buffer that nothing outside the pool holds any more.
    private static func freeBuffers(_ kept: inout [[NDArray]], outputs: Int) -> [NDArray?] {
        (0..<outputs).map { o in
            guard o < kept.count else { return nil }
            for k in kept[o].indices where kept[o][k].hasUniqueStorage() { return kept[o][k] }
            return nil
        }
    }

    /// Keeps each contiguous result for later calls (the two most recent buffers per output).
    private static func remember(_ results: [NDArray], in kept: inout [[NDArray]]) {
        while kept.count < results.count { kept.append([]) }
        for (o, r) in results.enumerated() where r.isContiguous && r.count > 0 {
            if kept[o].contains(where: { $0.sharesStorage(with: r) }) { continue }
            kept[o].append(r)
            if kept[o].count > 2 { kept[o].removeFirst() }
        }
    }

    /// DEBUG: an op must not change its inputs, and the outputs it declares as views must share
    /// their input's storage.
    private func check(_ node: Apply, args: [NDArray], before: [NDArray], results: [NDArray]) throws {
        for (i, (now, then)) in zip(args, before).enumerated()
        where !now.sharesStorage(with: then) && now.doubles != then.doubles && !now.doubles.contains(where: { $0.isNaN }) {
            throw TheanoError(.runtime, "DEBUG: \(node.op) changed its input \(i) without declaring it",
                              op: "\(node.op)", inputs: args.summary, location: node.location)
        }
        for (o, i) in node.op.viewMap where results[o].count > 0 && !results[o].sharesStorage(with: args[i]) {
            throw TheanoError(.runtime, "DEBUG: \(node.op) declares output \(o) a view of input \(i), but it is a copy",
                              op: "\(node.op)", inputs: args.summary, location: node.location)
        }
    }

    /// DEBUG: a native kernel must agree with the op's reference `perform`.
    private func compareWithReference(_ node: Apply, args: [NDArray], results: [NDArray]) throws {
        let reference = try node.op.perform(args)
        for (o, (got, want)) in zip(results, reference).enumerated() {
            guard got.shape == want.shape, got.dtype == want.dtype else {
                throw TheanoError(.runtime, "DEBUG: the native kernel of \(node.op) gave output \(o) as \(got.dtype) \(got.shape), the reference \(want.dtype) \(want.shape)",
                                  op: "\(node.op)", inputs: args.summary, location: node.location)
            }
            // Fused sums add in another order than the reference's lanes.
            let agreement = node.op.kernelAgreement
            let summed = agreement == .reorderedSums
            // A float64 result computed from float32 values (a float32 `exp` divided into a
            // float64) carries float32 rounding: the native and reference transcendentals differ
            // by a few float32 ulps there, not float64 ones.
            let single = got.dtype == .float32 || (got.dtype == .float64 && args.contains { $0.dtype == .float32 })
            var (rtol, atol) = single ? (1e-5, 1e-6) : (summed ? 1e-10 : 1e-12, 1e-14)
            // A direct convolution sums its taps in another order than the GEMM: an entry near
            // zero after cancellation differs by rounding relative to the largest entries.
            if agreement == .reorderedProducts {
                rtol = got.dtype == .float32 ? 1e-4 : 1e-10
                atol = rtol * (want.doubles.lazy.map(abs).max() ?? 0)
            }
            for (k, (u, v)) in zip(got.doubles, want.doubles).enumerated() {
                if u == v || (u.isNaN && v.isNaN) { continue }
                if !(abs(u - v) <= atol + rtol * abs(v)) {
                    throw TheanoError(.runtime, "DEBUG: the native kernel of \(node.op) differs from its reference at output \(o), element \(k): \(u) instead of \(v)",
                                      op: "\(node.op)", inputs: args.summary, location: node.location)
                }
            }
        }
    }

    private func nodeError(_ node: Apply, _ args: [NDArray], _ error: any Error) -> TheanoError {
        let kind: TheanoError.Kind = (error as? OpError)?.kind ?? .runtime
        return TheanoError(kind, "\(error)", op: "\(node.op)", inputs: args.summary, location: node.location)
    }
}
