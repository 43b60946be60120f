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

    /// One planned step. Only plain values and raw pointers, so the replay loop retains nothing.
    struct Instruction {
        enum Kind { case kernel, reducingKernel, reduce, view, gemv, fallback }
        var kind: Kind
        /// Operand slots: inputs, then outputs.
        var slots: UnsafeMutablePointer<Int>
        var count: Int
        var entry: ElementwiseKernel.Entry?
        var total: Int64 = 0
        var nd: Int32 = 0
        var flags: Int32 = 0
        var dims: UnsafeMutablePointer<Int64>?
        var strides: UnsafeMutablePointer<Int64>?
        var pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        /// view: the byte offset; fallback: the step's index.
        var extra = 0
        /// reducingKernel: the result's dtype and whether it is a mean; gemv: the dtype.
        var dtype: DType = .float64
        var mean = false
        /// gemv: rows, columns, A's strides and y's stride, in elements; reduce: outer, n, inner.
        var m = 0, k = 0, rowStride = 0, columnStride = 0, yStride = 0
        /// reduce: the kernels (one of them) and the kind code.
        var reduce: FixedKernels.Table.Reduction?
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
    private var allocations: [UnsafeMutableRawPointer] = []
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
        var sources = [Source?](repeating: nil, count: program.slotCount)
        for (k, s) in program.inputSlots.enumerated() { sources[s] = .input(k) }
        for (k, entry) in program.sharedSlots.enumerated() { sources[entry.slot] = .shared(k) }
        for (s, v) in program.constants { sources[s] = .fixed(v) }
        var instructions: [Instruction] = []
        var allocations: [UnsafeMutableRawPointer] = []
        func raw<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
            p.initialize(from: values, count: values.count)
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        func isFixed(_ s: Int) -> Bool { if case .fixed = sources[s] { true } else { false } }
        func cancel() { for p in allocations { p.deallocate() } }
        var bufferBytes = 0
        for (index, step) in program.steps.enumerated() {
            let args = step.inputSlots.compactMap { trace[$0] }, results = step.outputSlots.compactMap { trace[$0] }
            guard args.count == step.inputSlots.count, results.count == step.outputSlots.count else { cancel(); return nil }
            let op = step.node.op
            // Shapes are fixed, so whatever is computed from shapes and constants alone is too.
            if op.replayRole == .shapeOnly || (step.inputSlots.allSatisfy(isFixed) && op.replayRole != .impure) {
                for (s, r) in zip(step.outputSlots, results) { sources[s] = .fixed(r) }
                continue
            }
            if let kernel = step.kernel as? ElementwiseKernel,
               let shape = try? NDArray.broadcastShapes(args.map(\.shape)), case let total = shape.reduce(1, *),
               total > 0, !kernel.splits(total) {
                let reducing = kernel.op.reduction != nil
                let outputs = reducing ? [] : results
                if outputs.allSatisfy({ $0.shape == shape && $0.isContiguous }),
                   !reducing || results[0].dtype.isFloat {
                    let (dims, strides, flags) = kernel.loop(shape, args + outputs)
                    for (s, r) in zip(step.outputSlots, outputs) {
                        guard let b = try? NDArray.empty(r.shape, dtype: r.dtype) else { cancel(); return nil }
                        sources[s] = .buffer(b)
                        bufferBytes += r.count * r.dtype.itemSize
                    }
                    let operands = args.count + outputs.count + (reducing ? 1 : 0)
                    var ins = Instruction(kind: reducing ? .reducingKernel : .kernel, slots: raw(step.inputSlots + step.outputSlots),
                                          count: step.inputSlots.count + step.outputSlots.count, entry: kernel.entry,
                                          total: Int64(total), nd: Int32(dims.count), flags: flags,
                                          dims: raw(dims.map(Int64.init)), strides: raw(strides.map(Int64.init)),
                                          pointers: raw([UnsafeMutableRawPointer?](repeating: nil, count: operands)))
                    if reducing {
                        sources[step.outputSlots[0]] = .buffer(results[0].contiguous(forceCopy: true))
                        ins.dtype = results[0].dtype
                        ins.mean = kernel.op.reduction == .mean
                    }
                    instructions.append(ins)
                    continue
                }
            }
            // A ReduceTo that sums, with its target shape kept from the traced call: the reduction
            // it runs, planned like one.
            var reduction = step.kernel as? ReduceKernel
            if let kernel = step.kernel as? ReduceToKernel, args.count == 2, step.inputSlots.dropFirst().allSatisfy(isFixed),
               let (axes, _) = (try? ReduceTo.plan(args[0], args[1])) ?? nil {
                reduction = ReduceKernel(fixed: kernel.fixed, op: Reduce(kind: .sum, axes: axes))
            }
            if let kernel = reduction, args[0].isContiguous, let block = kernel.block(args[0]), block.shape.reduce(1, *) == results[0].count,
               let out = try? NDArray.empty(results[0].shape, dtype: args[0].dtype),
               let f = kernel.fixed[args[0].dtype]?.reduce {
                sources[step.outputSlots[0]] = .buffer(out)
                bufferBytes += out.count * out.dtype.itemSize
                instructions.append(Instruction(kind: .reduce, slots: raw([step.inputSlots[0], step.outputSlots[0]]), count: 2, flags: block.code,
                                                m: block.outer, k: block.n, rowStride: block.inner, reduce: f))
                continue
            }
            if op.replayRole == .view, results.count == 1,
               results[0].sharesStorage(with: args[0]), step.inputSlots.dropFirst().allSatisfy(isFixed) {
                let bytes = (results[0].offset - args[0].offset) * results[0].dtype.itemSize
                sources[step.outputSlots[0]] = .view(of: step.inputSlots[0], bytes: bytes)
                instructions.append(Instruction(kind: .view, slots: raw([step.inputSlots[0], step.outputSlots[0]]), count: 2, extra: bytes))
                continue
            }
            if op is Gemv, case let (y, a, x) = (args[0], args[2], args[3]), a.dtype == .float32 || a.dtype == .float64,
               a.shape[0] * a.shape[1] <= smallGemvLimit, x.shape[0] <= 1 || x.strides[0] == 1,
               y.count == 1 || y.shape == [a.shape[0]] {
                guard let b = try? NDArray.empty([a.shape[0]], dtype: a.dtype) else { cancel(); return nil }
                sources[step.outputSlots[0]] = .buffer(b)
                bufferBytes += b.count * b.dtype.itemSize
                instructions.append(Instruction(kind: .gemv, slots: raw(step.inputSlots + step.outputSlots), count: 6,
                                                dtype: a.dtype, m: a.shape[0], k: a.shape[1], rowStride: a.strides[0],
                                                columnStride: a.strides[1], yStride: y.count == 1 ? 0 : y.strides[0]))
                continue
            }
            for s in step.outputSlots { sources[s] = .dynamic }
            instructions.append(Instruction(kind: .fallback, slots: raw(step.inputSlots + step.outputSlots),
                                            count: step.inputSlots.count + step.outputSlots.count, extra: index))
        }
        // Large intermediates are better served by the VM's memory reuse than by a buffer each.
        guard bufferBytes <= 16 << 20 else { cancel(); return nil }
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
        hasFallbacks = instructions.contains { $0.kind == .fallback }
        inputCount = program.inputSlots.count
        inputSlots = raw(program.inputSlots)
        sharedCount = program.sharedSlots.count
        sharedSlots = raw(program.sharedSlots.map(\.slot))
        // Last: every `raw` allocation above is freed in deinit.
        self.allocations = allocations
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
        var counts: [String: Int] = [:], fallbacks: [String] = []
        for i in 0..<instructionCount {
            counts["\(instructions[i].kind)", default: 0] += 1
            if instructions[i].kind == .fallback { fallbacks.append("\(program.steps[instructions[i].extra].node.op)") }
        }
        let kinds = counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return fallbacks.isEmpty ? kinds : kinds + " (" + fallbacks.joined(separator: ", ") + ")"
    }

    deinit {
        for p in allocations { p.deallocate() }
        instructions.deinitialize(count: instructionCount)
        instructions.deallocate()
        table.deallocate()
    }

    /// Whether a call with these arguments has the planned layouts.
    func matches(_ inputs: [NDArray], _ shared: [NDArray]) -> Bool {
        for (k, a) in inputs.enumerated() where a.shape != expected[k].shape || a.strides != expected[k].strides { return false }
        for (k, a) in shared.enumerated() where a.shape != expected[inputs.count + k].shape || a.strides != expected[inputs.count + k].strides {
            return false
        }
        return true
    }

    /// Takes the plan for one call; false while another thread replays it.
    func acquire() -> Bool { busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged }
    func release() { busy.store(false, ordering: .releasing) }

    @inline(__always)
    private static func data(_ a: NDArray) -> UnsafeMutableRawPointer { a.storage.pointer + a.offset * a.dtype.itemSize }

    /// Replays one call (the caller holds the plan); nil when it had to be abandoned.
    func run(_ inputs: [NDArray], _ shared: [NDArray]) -> ([NDArray], [(SharedVariable, NDArray)])? {
        defer { if hasFallbacks { for s in dynamicValues.indices where dynamicValues[s] != nil { dynamicValues[s] = nil } } }
        for k in 0..<inputCount { table[inputSlots[k]] = Self.data(inputs[k]) }
        for k in 0..<sharedCount { table[sharedSlots[k]] = Self.data(shared[k]) }
        for j in 0..<perCallSlots.count {
            guard let p = handOut(j) else { return nil }
            table[perCallSlots[j]] = p
        }
        for i in 0..<instructionCount {
            let ins = instructions[i]
            switch ins.kind {
            case .kernel:
                guard let pointers = ins.pointers, let entry = ins.entry else { return nil }
                for k in 0..<ins.count { pointers[k] = table[ins.slots[k]] }
                entry(0, ins.total, ins.nd, ins.dims, pointers, ins.strides, ins.flags)
            case .reducingKernel:
                guard let pointers = ins.pointers, let entry = ins.entry, let out = table[ins.slots[ins.count - 1]] else { return nil }
                for k in 0..<ins.count - 1 { pointers[k] = table[ins.slots[k]] }
                var sum = 0.0
                withUnsafeMutablePointer(to: &sum) { acc in
                    pointers[ins.count - 1] = UnsafeMutableRawPointer(acc)
                    entry(0, ins.total, ins.nd, ins.dims, pointers, ins.strides, ins.flags)
                }
                let value = ins.mean ? sum / Double(ins.total) : sum
                switch ins.dtype {
                case .float32: out.storeBytes(of: Float(value), as: Float.self)
                default: out.storeBytes(of: value, as: Double.self)
                }
            case .reduce:
                ins.reduce?(Int64(ins.m), Int64(ins.k), Int64(ins.rowStride), table[ins.slots[0]], table[ins.slots[1]],
                            ins.flags)
            case .view:
                table[ins.slots[1]] = table[ins.slots[0]].map { $0 + ins.extra }
            case .gemv:
                if ins.dtype == .float32 { gemv(Float.self, ins) } else { gemv(Double.self, ins) }
            case .fallback:
                guard fallback(ins, inputs, shared) else { return nil }
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
        for k in 0 ..< 2 {
            let pick = using[j] ^ 1 ^ k
            if spares[2 * j + pick]?.hasUniqueStorage() == true {
                using[j] = pick
                return spares[2 * j + pick].map(Self.data)
            }
        }
        guard let layout = layouts[perCallSlots[j]], let a = try? NDArray.empty(layout.shape, dtype: layout.dtype) else { return nil }
        using[j] ^= 1
        spares[2 * j + using[j]] = a
        return Self.data(a)
    }

    /// `out = beta · y + alpha · A x` for a planned small gemv (operands y, alpha, A, x, beta, out).
    private func gemv<T: BinaryFloatingPoint & SIMDScalar>(_: T.Type, _ ins: Instruction) {
        guard let py = table[ins.slots[0]], let pa = table[ins.slots[2]], let px = table[ins.slots[3]], let po = table[ins.slots[5]],
              let alpha = table[ins.slots[1]], let beta = table[ins.slots[4]] else { return }
        let out = po.assumingMemoryBound(to: T.self), y = py.assumingMemoryBound(to: T.self)
        let al = alpha.load(as: T.self), be = beta.load(as: T.self)
        if be != 0 { for i in 0..<ins.m { out[i] = y[i * ins.yStride] } }
        smallGemv(UnsafePointer(pa.assumingMemoryBound(to: T.self)), rows: ins.m, columns: ins.k, rowStride: ins.rowStride,
                  columnStride: ins.columnStride, UnsafePointer(px.assumingMemoryBound(to: T.self)), out, alpha: al, beta: be)
    }

    /// Runs a step through its kernel or `perform`; false when it fails or its results are not
    /// laid out as planned.
    private func fallback(_ ins: Instruction, _ inputs: [NDArray], _ shared: [NDArray]) -> Bool {
        let step = program.steps[ins.extra]
        let args = step.inputSlots.compactMap { array($0, inputs, shared) }
        guard args.count == step.inputSlots.count else { return false }
        var free: [NDArray?] = []
        for k in kept[ins.extra].indices { free.append(kept[ins.extra][k].hasUniqueStorage() ? kept[ins.extra][k] : nil) }
        kept[ins.extra] = []
        guard let results = try? (step.kernel.map { try $0.run(args, into: free) } ?? step.node.op.perform(args, reusing: free)),
              results.count == step.outputSlots.count else { return false }
        if step.kernel != nil || step.node.op.reusesBuffers { kept[ins.extra] = results }
        for (s, r) in zip(step.outputSlots, results) {
            guard let layout = layouts[s], r.dtype == layout.dtype, r.shape == layout.shape,
                  zip(r.shape.indices, r.strides).allSatisfy({ r.shape[$0] == 1 || $1 == layout.strides[$0] }) else { return false }
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
            return NDArray(storage: b.storage, dtype: b.dtype, shape: layout.shape, strides: layout.strides, offset: b.offset + bytes / b.dtype.itemSize)
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
