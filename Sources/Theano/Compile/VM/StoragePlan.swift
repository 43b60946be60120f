import NDArray

/// Where a program's values live: a numbered slot per variable, the constants and shared values
/// filled before each run, and per step the slots it reads, writes and is the last to read.
struct StoragePlan {
    let steps: [Program.Step]
    let slotCount: Int
    let inputSlots: [Int]
    let outputSlots: [Int]
    let updates: [(shared: SharedVariable, slot: Int)]
    let constants: [(slot: Int, value: NDArray)]
    let sharedSlots: [(slot: Int, shared: SharedVariable)]

    /// Free variables must be inputs, constants or shared variables; anything else is a missing
    /// input, reported at the first node that reads it.
    init(_ schedule: Schedule, inputs: [Variable], outputs: [Variable], updates: [(SharedVariable, Variable)]) throws {
        let order = schedule.order
        var slotOf: [Variable: Int] = [:]
        func slot(_ v: Variable) -> Int {
            if let s = slotOf[v] { return s }
            slotOf[v] = slotOf.count
            return slotOf.count - 1
        }
        inputSlots = inputs.map(slot)
        let roots = outputs + updates.map(\.1)
        let inputSet = Set(inputs)
        var constants: [(Int, NDArray)] = []
        var shared: [(Int, SharedVariable)] = []
        for v in Graph.roots(roots, stoppingAt: inputSet) where !inputSet.contains(v) {
            if let c = v as? Constant {
                constants.append((slot(c), c.value))
            } else if let s = v as? SharedVariable {
                shared.append((slot(s), s))
            } else {
                let user = order.first { $0.inputs.contains(v) }
                throw TheanoError(
                    .missingInput,
                    "the graph needs \(v.label), which is not an input of the function; "
                        + "add it to `inputs` or replace it with `givens`",
                    op: user.map { "\($0.op)" }, location: v.location)
            }
        }
        // Last reader of each slot; outputs and updates are kept to the end.
        var lastUse: [Int: Int] = [:]
        let nodeSlots = order.map { node in (node.inputs.map(slot), node.outputs.map(slot)) }
        for (i, (ins, _)) in nodeSlots.enumerated() { for s in ins { lastUse[s] = i } }
        let keep = Set(roots.map(slot) + inputSlots + constants.map(\.0) + shared.map(\.0))
        steps = order.enumerated().map { i, node in
            let (ins, outs) = nodeSlots[i]
            let release = Set(ins).filter { lastUse[$0] == i && !keep.contains($0) }
            let step = Program.Step(node: node, inputSlots: ins, outputSlots: outs, release: Array(release))
            step.updatesInPlace = schedule.inPlaceUpdates[ObjectIdentifier(node)]
            step.inplaceCandidates = node.op.inplaceMap.sorted { $0.key < $1.key }
                .filter { o, i in
                    i < ins.count && release.contains(ins[i]) && ins.filter { $0 == ins[i] }.count == 1
                        && o < outs.count
                }
                .map { ($0.key, $0.value) }
            return step
        }
        outputSlots = outputs.map(slot)
        self.updates = updates.map { ($0.0, slot($0.1)) }
        self.constants = constants
        sharedSlots = shared
        slotCount = slotOf.count
    }
}
