import NDArray

/// Common-subexpression elimination: nodes applying equal ops to the same inputs, and equal
/// constants, are computed once.
enum Merge {
    private struct Key: Hashable {
        let op: AnyHashable
        let inputs: [ObjectIdentifier]
    }

    private struct ConstantKey: Hashable {
        let dtype: DType, shape: [Int], values: [Double]
    }

    /// Returns whether anything was merged.
    @discardableResult
    static func run(_ fgraph: FunctionGraph) -> Bool {
        var changed = false
        // Equal constants first, so that nodes reading them become equal too.
        var constants: [ConstantKey: Constant] = [:]
        var seenConstants = Set<ObjectIdentifier>()
        for node in fgraph.nodes {
            for case let c as Constant in node.inputs
            where c.value.count <= 64 && seenConstants.insert(ObjectIdentifier(c)).inserted {
                let key = ConstantKey(dtype: c.dtype, shape: c.value.shape, values: c.value.doubles)
                if let first = constants[key] {
                    if first !== c, (try? fgraph.replace(c, with: first, reason: "merge")) != nil { changed = true }
                } else {
                    constants[key] = c
                }
            }
        }
        var seen: [Key: Apply] = [:]
        for node in fgraph.nodes {
            let key = Key(op: AnyHashable(node.op), inputs: node.inputs.map(ObjectIdentifier.init))
            if let first = seen[key], first !== node {
                for (old, new) in zip(node.outputs, first.outputs) {
                    if (try? fgraph.replace(old, with: new, reason: "merge")) != nil { changed = true }
                }
            } else {
                seen[key] = node
            }
        }
        return changed
    }
}

/// Evaluates nodes whose inputs are all constants (with each op's `perform`), replacing them by
/// constants; results over 10,000 elements are left to run time rather than stored.
enum ConstantFolding {
    @discardableResult
    static func run(_ fgraph: FunctionGraph) -> Bool {
        var changed = false
        for node in fgraph.nodes where node.error == nil && node.inputs.allSatisfy({ $0 is Constant }) {
            guard let values = try? node.op.perform(node.inputs.compactMap { ($0 as? Constant)?.value }),
                values.count == node.outputCount, values.allSatisfy({ $0.count <= 10_000 })
            else { continue }
            for (old, v) in zip(node.outputs, values) where old.type.accepts(v) {
                let c = SourceLocation.$inherited.withValue(node.location) { Constant(v) }
                if (try? fgraph.replace(old, with: c, reason: "constant_folding")) != nil { changed = true }
            }
        }
        return changed
    }
}
