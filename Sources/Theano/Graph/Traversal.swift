/// Graph walks: topological order of nodes and the variables a graph depends on.
public enum Graph {
    /// The nodes computing `outputs`, each after the nodes it depends on. The walk stops at
    /// `stoppingAt` (variables treated as inputs even if they have an owner).
    public static func topologicalOrder(_ outputs: [Variable], stoppingAt: Set<Variable> = []) -> [Apply] {
        var order: [Apply] = []
        var seen = Set<ObjectIdentifier>()
        // Iterative DFS: deep graphs (long unrolled chains) must not overflow the stack.
        var stack: [(Apply, Int)] = []
        for out in outputs {
            guard !stoppingAt.contains(out), let root = out.owner, !seen.contains(ObjectIdentifier(root)) else {
                continue
            }
            seen.insert(ObjectIdentifier(root))
            stack.append((root, 0))
            while let (node, i) = stack.last {
                if i < node.inputs.count {
                    stack[stack.count - 1].1 += 1
                    let v = node.inputs[i]
                    if !stoppingAt.contains(v), let o = v.owner, !seen.contains(ObjectIdentifier(o)) {
                        seen.insert(ObjectIdentifier(o))
                        stack.append((o, 0))
                    }
                } else {
                    order.append(node)
                    stack.removeLast()
                }
            }
        }
        return order
    }

    /// Every variable `outputs` depend on (including themselves), stopping at `stoppingAt`.
    public static func ancestors(_ outputs: [Variable], stoppingAt: Set<Variable> = []) -> [Variable] {
        var result: [Variable] = []
        var seen = Set<Variable>()
        func add(_ v: Variable) { if seen.insert(v).inserted { result.append(v) } }
        outputs.forEach(add)
        for node in topologicalOrder(outputs, stoppingAt: stoppingAt) {
            node.inputs.forEach(add)
            node.outputs.forEach(add)
        }
        return result
    }

    /// The variables without an owner (or in `stoppingAt`) that `outputs` depend on.
    public static func roots(_ outputs: [Variable], stoppingAt: Set<Variable> = []) -> [Variable] {
        ancestors(outputs, stoppingAt: stoppingAt).filter { $0.owner == nil || stoppingAt.contains($0) }
    }

    /// Copies the graph of `outputs`, substituting `replacements` (old → new). Nodes that depend on
    /// no replaced variable are shared, not copied, unless `full` (every node copied: what a
    /// ``FunctionGraph`` rewrites in place). Returns the new outputs in order.
    public static func clone(
        _ outputs: [Variable], replacing replacements: [Variable: Variable],
        full: Bool = false
    ) -> [Variable] {
        var map = replacements
        for node in topologicalOrder(outputs, stoppingAt: Set(replacements.keys)) {
            let newInputs = node.inputs.map { map[$0] ?? $0 }
            if !full && zip(newInputs, node.inputs).allSatisfy({ $0 === $1 }) { continue }
            let copy = Apply.make(node.op, newInputs, location: node.location)
            for (old, new) in zip(node.outputs, copy.outputs) {
                new.name = old.name
                map[old] = new
            }
        }
        return outputs.map { map[$0] ?? $0 }
    }
}
