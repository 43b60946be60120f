import NDArray

/// An op whose result accumulates into its first input, so an update of a shared variable built
/// from it can run in the variable's own memory (``Schedule``).
protocol AccumulatingOp: Op {
    /// Every check `perform` makes, without computing, so that a chain of such updates is known
    /// to succeed before the first one writes.
    func validate(_ inputs: [NDArray]) throws
}

/// The order a program runs its nodes in, and which of them update a shared variable in place.
struct Schedule {
    let order: [Apply]
    /// Nodes of update chains run in their shared variable's memory, by node.
    let inPlaceUpdates: [ObjectIdentifier: SharedVariable]

    /// A topological order of the graph from `outputs` and the update values back to `inputs`,
    /// with the in-place update chains last; throws the first node's error.
    init(inputs: Set<Variable>, outputs: [Variable], updates: [(SharedVariable, Variable)], inplace: Bool) throws {
        let order = Graph.topologicalOrder(outputs + updates.map(\.1), stoppingAt: inputs)
        if let bad = order.first(where: { $0.error != nil }), let e = bad.error { throw e }
        guard inplace else {
            self.order = order
            inPlaceUpdates = [:]
            return
        }
        var reads: [ObjectIdentifier: Int] = [:]
        for node in order { for v in node.inputs { reads[ObjectIdentifier(v), default: 0] += 1 } }
        var chains: [ObjectIdentifier: SharedVariable] = [:]
        for (shared, value) in updates {
            guard reads[ObjectIdentifier(value)] == nil, !outputs.contains(where: { $0 === value }),
                updates.filter({ $0.1 === value }).count == 1
            else { continue }
            for node in Self.chain(shared, value, reads: reads, outputs: outputs, updates: updates) {
                chains[ObjectIdentifier(node)] = shared
            }
        }
        // Nothing reads these updates, and running them after everything else keeps a failed call
        // from changing any shared variable.
        self.order =
            order.filter { chains[ObjectIdentifier($0)] == nil } + order.filter { chains[ObjectIdentifier($0)] != nil }
        inPlaceUpdates = chains
    }

    /// The accumulating nodes from `value` back to `shared`, each accumulating into the one before
    /// and the first into the variable (two gradient terms of a tied weight, the two phases of
    /// CD); empty when the chain does not reach the variable.
    private static func chain(
        _ shared: SharedVariable, _ value: Variable, reads: [ObjectIdentifier: Int],
        outputs: [Variable], updates: [(SharedVariable, Variable)]
    ) -> [Apply] {
        var chain: [Apply] = []
        var v = value
        while let node = v.owner, node.op is any AccumulatingOp,
            !node.inputs.dropFirst().contains(where: { $0 === node.inputs[0] })
        {
            chain.append(node)
            let accumulator = node.inputs[0]
            if accumulator === shared { break }
            // An earlier link: read by this node alone, as its accumulator.
            guard reads[ObjectIdentifier(accumulator)] == 1, !outputs.contains(where: { $0 === accumulator }),
                !updates.contains(where: { $0.1 === accumulator })
            else { break }
            v = accumulator
        }
        guard let first = chain.last, first.inputs[0] === shared else { return [] }
        return chain
    }
}
