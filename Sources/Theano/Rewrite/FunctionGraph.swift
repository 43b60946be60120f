import NDArray

/// A private, mutable copy of a graph that rewrites change in place: it clones every node of the
/// user's graph, tracks each variable's clients, and replaces variables after checking that the
/// replacement has a compatible type. The user's graph is never touched.
final class FunctionGraph {
    /// Variables treated as inputs (never rewritten through).
    let inputs: Set<Variable>
    private(set) var outputs: [Variable]
    /// For each variable, the nodes reading it and at which input position.
    private var clients: [Variable: [(node: Apply, index: Int)]] = [:]
    /// Replacements made, in order: (rewrite name, old, new).
    private(set) var history: [(String, Variable, Variable)] = []

    init(inputs: [Variable], outputs: [Variable]) {
        self.inputs = Set(inputs)
        self.outputs = Graph.clone(
            outputs, replacing: Dictionary(inputs.map { ($0, $0) }, uniquingKeysWith: { a, _ in a }), full: true)
        rebuildClients()
    }

    /// Nodes computing the outputs, in dependency order.
    var nodes: [Apply] { Graph.topologicalOrder(outputs, stoppingAt: inputs) }

    func clients(of v: Variable) -> [(node: Apply, index: Int)] { clients[v] ?? [] }

    private func rebuildClients() {
        clients = [:]
        for node in nodes {
            for (i, x) in node.inputs.enumerated() { clients[x, default: []].append((node, i)) }
        }
    }

    /// Replaces `old` by `new` everywhere (clients and outputs). Throws when the types differ in
    /// dtype or rank or when a static length would change.
    func replace(_ old: Variable, with new: Variable, reason: String) throws {
        guard old !== new else { return }
        guard old.dtype == new.dtype, old.ndim == new.ndim, compatible(old.type.shape, new.type.shape) else {
            throw TheanoError(.type, "rewrite \(reason) would replace \(old.type) by \(new.type)")
        }
        for (node, i) in clients(of: old) { node.inputs[i] = new }
        outputs = outputs.map { $0 === old ? new : $0 }
        history.append((reason, old, new))
        rebuildClients()
    }

    /// Whether two static shapes agree wherever both are known.
    private func compatible(_ a: [Int?], _ b: [Int?]) -> Bool {
        for (x, y) in zip(a, b) {
            if let x, let y, x != y { return false }
        }
        return true
    }
}
