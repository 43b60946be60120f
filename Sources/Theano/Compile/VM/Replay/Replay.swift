import NDArray
import Synchronization

/// A program's work at one set of input layouts, planned once and replayed on later calls with
/// the same layouts (Theano's C VM does the same job by calling C thunks in a loop).
///
/// Why: on small arrays a call's time is the VM's, not the kernels': arrays made and released,
/// reference counts, shapes broadcast and loops coalesced again for every node. With the shapes
/// of the inputs and shared values fixed, all of that is known after one call: every
/// intermediate gets its own buffer, values that depend only on shapes (`shape(x)`, sizes,
/// `alloc` of them) are kept, views become pointer offsets, and each elementwise kernel or
/// small gemv becomes a call with its pointers and strides written down. A replayed call fills
/// the input pointers, runs that list and hands out the outputs.
///
/// Steps without a planned form run their usual implementation; if one of them gives a
/// result of another layout than when planned (a shape that depends on values) or fails, the
/// call is abandoned before anything is committed and runs the ordinary way.
final class Replay: @unchecked Sendable {
    /// Where a slot's data comes from in a replayed call.
    enum Source {
        case input(Int)
        case shared(Int)
        /// Constants, and values that depend only on shapes.
        case fixed(NDArray)
        /// The plan's own memory, reused by every call.
        case buffer(NDArray)
        /// An output or update value: an array handed out, so a new one (or one nobody holds any
        /// more) each call.
        case perCall(Int)
        /// Another slot's data at a byte offset.
        case view(of: Int, bytes: Int)
        /// The result of a step run through its usual implementation.
        case dynamic
    }

    /// A planned call's operands: their slots (inputs, then outputs) and the pointers gathered
    /// from them before each call.
    struct Operands {
        let slots: UnsafeMutablePointer<Int>
        let count: Int
        let pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    }

    /// One planned step. Only plain values and raw pointers, so the replay loop retains nothing.
    enum Instruction {
        /// A kernel's or op's own planned call (``ReplayPlanning``).
        case call(ReplayCall, Operands)
        /// `slot` is `base`'s data at a byte offset.
        case view(base: Int, slot: Int, bytes: Int)
        /// Program step `step` runs through its kernel or `perform`.
        case fallback(step: Int)

        var kind: String {
            switch self {
            case .call(let call, _): "\(call.name)"
            case .view: "view"
            case .fallback: "fallback"
            }
        }
    }

    /// Not retained: the program holds its plans, and only its own calls replay them (so it is
    /// alive whenever this is used, and the per-access reference count is saved).
    private unowned(unsafe) let program: Program
    /// The values a call hands out: per output, then per update, the handed-out array's index
    /// (or -1 and the slot, for values read where they are).
    private let outputs: [(perCall: Int, slot: Int)]
    private let updates: [(shared: SharedVariable, perCall: Int, slot: Int)]
    private let sources: [Source]
    /// Each slot's shape and strides when planned (nil for slots the plan never saw).
    private let layouts: [(shape: [Int], strides: [Int], dtype: DType)?]
    private let instructions: UnsafeMutablePointer<Instruction>
    private let instructionCount: Int
    /// Each slot's data pointer during a call.
    private let table: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private let memory: ReplayMemory
    /// Per handed-out slot: its slot, and up to two arrays from earlier calls to reuse.
    private let perCallSlots: [Int]
    /// Two arrays per handed-out slot, used in turn when nothing else holds them; `using[j]`
    /// says which one this call writes.
    private var spares: [NDArray?]
    private var using: [Int]
    private var dynamicValues: [NDArray?]
    private let hasFallbacks: Bool
    /// The program's input and shared-value slots, as plain integers.
    private let inputSlots: UnsafeMutablePointer<Int>, inputCount: Int
    private let sharedSlots: UnsafeMutablePointer<Int>, sharedCount: Int
    /// Per step run through its usual implementation: its last results, whose memory it may
    /// reuse once nothing else holds them.
    private var kept: [[NDArray]]
    /// The layouts a call must match: inputs, then shared values.
    let expected: [(shape: [Int], strides: [Int])]
    private let busy = Atomic<Bool>(false)

    /// Plans `program` from a traced call: `trace` holds every slot's value, `inputs` and
    /// `shared` the call's arguments. Nil when the program cannot be replayed at these shapes.
    init?(program: Program, trace: [NDArray?], inputs: [NDArray], shared: [NDArray]) {
        var planner = ReplayPlanner(program: program, trace: trace)
        guard planner.plan(program.steps) else { return nil }
        var sources = planner.sources
        var memory = planner.memory
        let instructions = planner.instructions
        // Outputs and update values are handed out: a fresh array per call instead of a buffer.
        var perCall: [Int] = []
        for s in program.outputSlots + program.updates.map(\.slot) {
            if case .buffer = sources[s] {
                sources[s] = .perCall(perCall.count)
                perCall.append(s)
            }
        }
        self.program = program
        func handedIndex(_ s: Int) -> Int { if case .perCall(let j) = sources[s] { j } else { -1 } }
        outputs = program.outputSlots.map { (handedIndex($0), $0) }
        updates = program.updates.map { ($0.shared, handedIndex($0.slot), $0.slot) }
        self.sources = sources.map { $0 ?? .dynamic }
        layouts = (0..<program.slotCount).map { s in trace[s].map { ($0.shape, $0.strides, $0.dtype) } }
        instructionCount = instructions.count
        self.instructions = .allocate(capacity: max(instructions.count, 1))
        self.instructions.initialize(from: instructions, count: instructions.count)
        table = .allocate(capacity: max(program.slotCount, 1))
        table.initialize(repeating: nil, count: program.slotCount)
        perCallSlots = perCall
        spares = Array(repeating: nil, count: 2 * perCall.count)
        using = Array(repeating: 0, count: perCall.count)
        hasFallbacks = instructions.contains { if case .fallback = $0 { true } else { false } }
        inputCount = program.inputSlots.count
        inputSlots = memory.store(program.inputSlots)
        sharedCount = program.sharedSlots.count
        sharedSlots = memory.store(program.sharedSlots.map(\.slot))
        // Last: every allocation above is freed in deinit.
        self.memory = memory
        dynamicValues = [NDArray?](repeating: nil, count: program.slotCount)
        kept = Array(repeating: [], count: program.steps.count)
        expected = (inputs + shared).map { ($0.shape, $0.strides) }
        for (s, source) in self.sources.enumerated() {
            switch source {
            case .fixed(let a), .buffer(let a): table[s] = Self.data(a)
            default: break
            }
        }
    }

    /// The planned steps by kind, with the ops run through their usual implementation:
    /// `kernel 9, gemv 2, view 3, fallback 1 (Sum{axes=[0]})`.
    var summary: String {
        var counts: [String: Int] = [:]
        var fallbacks: [String] = []
        for i in 0..<instructionCount {
            counts[instructions[i].kind, default: 0] += 1
            if case .fallback(let step) = instructions[i] { fallbacks.append("\(program.steps[step].node.op)") }
        }
        let kinds = counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return fallbacks.isEmpty ? kinds : kinds + " (" + fallbacks.joined(separator: ", ") + ")"
    }

    deinit {
        memory.free()
        instructions.deinitialize(count: instructionCount)
        instructions.deallocate()
        table.deallocate()
    }

    /// Whether a call with these arguments has the planned layouts.
    func matches(_ inputs: [NDArray], _ shared: [NDArray]) -> Bool {
        for (k, a) in inputs.enumerated() where a.shape != expected[k].shape || a.strides != expected[k].strides {
            return false
        }
        for (k, a) in shared.enumerated()
        where a.shape != expected[inputs.count + k].shape || a.strides != expected[inputs.count + k].strides {
            return false
        }
        return true
    }

    /// Takes the plan for one call; false while another thread replays it.
    func acquire() -> Bool { busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged }
    func release() { busy.store(false, ordering: .releasing) }

    /// The host address of `a`'s first element, as it is: values that may have a newer copy on a
    /// device were synchronised first (``synchronize(_:_:)``), and spares never have one.
    @inline(__always)
    private static func data(_ a: NDArray) -> UnsafeMutableRawPointer {
        a.storage.unsynchronizedHost + a.offset * a.dtype.itemSize
    }

    /// Brings to host memory the inputs and shared values that a device function left on the
    /// device (and marks those copies stale: a step may write the shared value). Separate from the
    /// loops that gather pointers, so that those make no call and retain nothing.
    @inline(never)
    private static func synchronize(_ inputs: [NDArray], _ shared: [NDArray]) -> Bool {
        // A pass that makes no call first: it copies no array, so it retains nothing.
        var mirrored = false
        for k in inputs.indices { mirrored = mirrored || inputs[k].storage.hasMirror }
        for k in shared.indices { mirrored = mirrored || shared[k].storage.hasMirror }
        guard mirrored else { return true }
        for a in inputs where a.storage.hasMirror {
            guard (try? a.storage.synchronizeHost()) != nil else { return false }
        }
        for a in shared where a.storage.hasMirror {
            guard (try? a.storage.synchronizeHost()) != nil else { return false }
        }
        return true
    }

    /// Replays one call (the caller holds the plan); nil when it had to be abandoned.
    func run(_ inputs: [NDArray], _ shared: [NDArray]) -> ([NDArray], [(SharedVariable, NDArray)])? {
        defer {
            if hasFallbacks { for s in dynamicValues.indices where dynamicValues[s] != nil { dynamicValues[s] = nil } }
        }
        guard Self.synchronize(inputs, shared) else { return nil }
        for k in 0..<inputCount { table[inputSlots[k]] = Self.data(inputs[k]) }
        for k in 0..<sharedCount { table[sharedSlots[k]] = Self.data(shared[k]) }
        for j in 0..<perCallSlots.count {
            guard let p = handOut(j) else { return nil }
            table[perCallSlots[j]] = p
        }
        for i in 0..<instructionCount {
            switch instructions[i] {
            case .call(let call, let operands):
                for k in 0..<operands.count { operands.pointers[k] = table[operands.slots[k]] }
                call.body(operands.pointers, call.parameters)
            case .view(let base, let slot, let bytes):
                table[slot] = table[base].map { $0 + bytes }
            case .fallback(let step):
                guard fallback(step, inputs, shared) else { return nil }
            }
        }
        var outs: [NDArray] = []
        outs.reserveCapacity(outputs.count)
        for (j, s) in outputs {
            guard let a = j >= 0 ? spares[2 * j + using[j]] : handed(s, inputs, shared) else { return nil }
            outs.append(a)
        }
        var ups: [(SharedVariable, NDArray)] = []
        ups.reserveCapacity(updates.count)
        for (variable, j, s) in updates {
            guard let a = j >= 0 ? spares[2 * j + using[j]] : handed(s, inputs, shared) else { return nil }
            ups.append((variable, a))
        }
        return (outs, ups)
    }

    /// The memory for handed-out slot `j` this call: one of its two arrays that nothing else
    /// holds, or a new one in place of the older.
    private func handOut(_ j: Int) -> UnsafeMutableRawPointer? {
        // The other one first: an update's latest array is its shared variable's value.
        // A spare a device function has read since carries a mirror: it is not reused, since
        // writing its host memory directly would leave that copy looking current.
        for k in 0..<2 {
            let pick = using[j] ^ 1 ^ k
            if spares[2 * j + pick]?.hasUniqueHostStorage() == true {
                using[j] = pick
                return spares[2 * j + pick].map(Self.data)
            }
        }
        guard let layout = layouts[perCallSlots[j]], let a = try? NDArray.empty(layout.shape, dtype: layout.dtype)
        else { return nil }
        using[j] ^= 1
        spares[2 * j + using[j]] = a
        return Self.data(a)
    }

    /// Runs a step through its kernel or `perform`; false when it fails or its results are not
    /// laid out as planned.
    private func fallback(_ index: Int, _ inputs: [NDArray], _ shared: [NDArray]) -> Bool {
        let step = program.steps[index]
        let args = step.inputSlots.compactMap { array($0, inputs, shared) }
        guard args.count == step.inputSlots.count else { return false }
        var free: [NDArray?] = []
        for k in kept[index].indices { free.append(kept[index][k].hasUniqueStorage() ? kept[index][k] : nil) }
        kept[index] = []
        guard
            let results = try?
                (step.kernel.map { try $0.run(args, into: free) } ?? step.node.op.perform(args, reusing: free)),
            results.count == step.outputSlots.count
        else { return false }
        if step.kernel != nil || step.node.op.reusesBuffers { kept[index] = results }
        for (s, r) in zip(step.outputSlots, results) {
            guard let layout = layouts[s], r.dtype == layout.dtype, r.shape == layout.shape,
                zip(r.shape.indices, r.strides).allSatisfy({ r.shape[$0] == 1 || $1 == layout.strides[$0] })
            else { return false }
            dynamicValues[s] = r
            table[s] = Self.data(r)
        }
        return true
    }

    /// A slot's value as an array, for steps run through their usual implementation.
    private func array(_ slot: Int, _ inputs: [NDArray], _ shared: [NDArray]) -> NDArray? {
        switch sources[slot] {
        case .input(let k): return inputs[k]
        case .shared(let k): return shared[k]
        case .fixed(let a), .buffer(let a): return a
        case .perCall(let j): return spares[2 * j + using[j]]
        case .view(let base, let bytes):
            guard let b = array(base, inputs, shared), let layout = layouts[slot] else { return nil }
            return NDArray(
                storage: b.storage, dtype: b.dtype, shape: layout.shape, strides: layout.strides,
                offset: b.offset + bytes / b.dtype.itemSize)
        case .dynamic: return dynamicValues[slot]
        }
    }

    /// An output or update value: arrays in the plan's own buffers are copied, since the next
    /// call overwrites them.
    private func handed(_ slot: Int, _ inputs: [NDArray], _ shared: [NDArray]) -> NDArray? {
        var root = slot
        while case .view(let base, _) = sources[root] { root = base }
        guard let a = array(slot, inputs, shared) else { return nil }
        if case .buffer = sources[root] { return a.contiguous(forceCopy: true) }
        return a
    }
}
