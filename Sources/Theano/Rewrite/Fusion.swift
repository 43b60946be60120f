import NDArray

/// Elementwise fusion: each maximal group of connected elementwise nodes becomes one
/// ``Composite`` node, so the native backend computes the group in one pass over memory with no
/// intermediate arrays. A node joins its consumer's group when everything reading its output is
/// already in the group — or, when its output provably has the group's shape, as an extra output
/// of the composite (still computed once, in the same loop), provided no outside reader of it
/// feeds back into the group.
enum Fusion {
    /// Composites read at most this many arrays (a generated kernel's argument list).
    static let maxInputs = 24
    /// Descendants searched when checking that an extra output creates no cycle.
    static let searchLimit = 4000

    @discardableResult
    static func run(_ fgraph: FunctionGraph) -> Bool {
        let order = fgraph.nodes
        let position = Dictionary(
            uniqueKeysWithValues: order.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
        var taken = Set<ObjectIdentifier>()
        var changed = false
        for root in order.reversed() where root.op is ElemwiseNode && !taken.contains(ObjectIdentifier(root)) {
            var group: [Apply] = [root]
            var members: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
            var extras: [Variable] = []
            // Grow towards producers.
            var grew = true
            while grew {
                grew = false
                for node in group {
                    for x in node.inputs {
                        guard let p = x.owner, p.op is ElemwiseNode, !members.contains(ObjectIdentifier(p)),
                            !taken.contains(ObjectIdentifier(p))
                        else { continue }
                        let outside = fgraph.clients(of: x).filter { !members.contains(ObjectIdentifier($0.node)) }
                        let isOutput = fgraph.outputs.contains { $0 === x }
                        if !outside.isEmpty || isOutput {
                            guard extras.count < 4, x.ndim == root.outputs[0].ndim,
                                Canonicalize.sameShape(x, root.outputs[0]),
                                !feedsBack(outside.map(\.node), into: members.union([ObjectIdentifier(p)]), fgraph)
                            else { continue }
                            extras.append(x)
                        }
                        group.append(p)
                        members.insert(ObjectIdentifier(p))
                        grew = true
                    }
                }
            }
            group.sort { (position[ObjectIdentifier($0)] ?? 0) < (position[ObjectIdentifier($1)] ?? 0) }
            guard let built = build(group, root: root, extras: extras) else { continue }
            let node = Apply.make(built.op, built.inputs, location: root.location)
            guard node.error == nil else { continue }
            var replaced = true
            for (old, new) in zip([root.outputs[0]] + extras, node.outputs) {
                if (try? fgraph.replace(old, with: new, reason: "fusion")) == nil { replaced = false }
            }
            if replaced { for n in group { taken.insert(ObjectIdentifier(n)) } }
            changed = true
        }
        return fuseReductions(fgraph) || changed
    }

    /// Whether any of `readers` reaches a member of the group (fusing would make a cycle).
    private static func feedsBack(
        _ readers: [Apply], into members: Set<ObjectIdentifier>, _ fgraph: FunctionGraph
    ) -> Bool {
        var stack = readers
        var seen = Set<ObjectIdentifier>()
        while let n = stack.popLast() {
            guard seen.insert(ObjectIdentifier(n)).inserted else { continue }
            if members.contains(ObjectIdentifier(n)) { return true }
            if seen.count > searchLimit { return true }
            for out in n.outputs { stack += fgraph.clients(of: out).map(\.node) }
        }
        return false
    }

    /// `sum` or `mean` over all axes of a float composite that nothing else reads: one loop
    /// that accumulates instead of writing the array.
    private static func fuseReductions(_ fgraph: FunctionGraph) -> Bool {
        var changed = false
        for node in fgraph.nodes {
            guard let r = node.op as? Reduce, r.kind == .sum || r.kind == .mean,
                let producer = node.inputs[0].owner, var composite = producer.op as? Composite,
                composite.reduction == nil, composite.outputs.count == 1, node.inputs[0].dtype.isFloat,
                r.axes == Array(0..<node.inputs[0].ndim), fgraph.clients(of: node.inputs[0]).count == 1,
                !fgraph.outputs.contains(where: { $0 === node.inputs[0] })
            else { continue }
            composite.reduction = r.kind
            let fused = Apply.make(composite, producer.inputs, location: node.location)
            guard fused.error == nil, fused.outputs[0].type == node.outputs[0].type else { continue }
            if (try? fgraph.replace(node.outputs[0], with: fused.outputs[0], reason: "fusion")) != nil {
                changed = true
            }
        }
        return changed
    }

    /// The composite for `group` (in dependency order, `root` last) and the variables it reads.
    private static func build(_ group: [Apply], root: Apply, extras: [Variable]) -> (op: Composite, inputs: [Variable])?
    {
        var inputs: [Variable] = []
        var valueOf: [ObjectIdentifier: Int] = [:]
        var instructions: [Composite.Instruction] = []
        let maxRank = group.flatMap(\.inputs).filter { !isInlinable($0) }.map(\.ndim).max() ?? 0
        for node in group {
            guard let e = node.op as? ElemwiseNode else { return nil }
            let args = node.inputs.map { x -> Composite.Operand in
                if let i = valueOf[ObjectIdentifier(x)] { return .value(i) }
                if isInlinable(x), x.ndim <= maxRank, let c = x as? Constant, let v = c.value.doubles.first {
                    return .constant(v, c.dtype)
                }
                if let k = inputs.firstIndex(where: { $0 === x }) { return .input(k) }
                inputs.append(x)
                return .input(inputs.count - 1)
            }
            valueOf[ObjectIdentifier(node.outputs[0])] = instructions.count
            instructions.append(.init(op: AnyScalarOp(e.anyScalar), args: args, dtype: node.outputs[0].dtype))
        }
        guard inputs.count <= maxInputs, !inputs.isEmpty else { return nil }
        var outputs = [instructions.count - 1]
        for x in extras {
            guard let i = valueOf[ObjectIdentifier(x)] else { return nil }
            outputs.append(i)
        }
        let op = Composite(inputDTypes: inputs.map(\.dtype), instructions: instructions, outputs: outputs)
        return (op, inputs)
    }

    /// A one-element constant whose value survives a round trip through `Double`.
    private static func isInlinable(_ x: Variable) -> Bool {
        guard let c = x as? Constant, c.value.count == 1, let v = c.value.doubles.first else { return false }
        return c.dtype.isFloat || Swift.abs(v) < 9.0e15
    }
}
