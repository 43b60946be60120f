import Foundation
import NDArray

/// A named local rewrite: given a node, the variables to use instead of its outputs, or nil
/// when it does not apply. Tags say which phases (and so which modes) run it.
///
/// ```swift
/// // −(−x) → x
/// NodeRewriter("double_negation", on: Elemwise<Neg>.self, tags: tags) { n in
///     keep(n, n.outputs[0].unary(Neg.self)?.unary(Neg.self))
/// }
/// ```
public struct NodeRewriter: Sendable {
    public let name: String
    public let tags: Set<String>
    /// The ops of the nodes it can match (its pattern's root), nil for any node: a node is
    /// tried only against the rules for its op and the unrooted ones.
    let roots: Set<ObjectIdentifier>?
    let transform: @Sendable (Apply, FunctionGraph) throws -> [Variable]?

    public init(
        _ name: String, on roots: any Op.Type..., tags: Set<String>,
        _ transform: @escaping @Sendable (Apply) throws -> [Variable]?
    ) {
        self.init(name, roots: roots, tags: tags) { node, _ in try transform(node) }
    }

    /// A rule that also reads the graph around the node (who else uses a value).
    init(
        _ name: String, on roots: any Op.Type..., tags: Set<String>,
        inGraph transform: @escaping @Sendable (Apply, FunctionGraph) throws -> [Variable]?
    ) {
        self.init(name, roots: roots, tags: tags, transform)
    }

    private init(
        _ name: String, roots: [any Op.Type], tags: Set<String>,
        _ transform: @escaping @Sendable (Apply, FunctionGraph) throws -> [Variable]?
    ) {
        self.name = name
        self.tags = tags
        self.roots = roots.isEmpty ? nil : Set(roots.map { ObjectIdentifier($0) })
        self.transform = transform
    }
}

/// Rules by the op they can match, in their declared order (which decides between rules that
/// match the same node).
struct RuleIndex {
    private let rules: [NodeRewriter]
    private var byOp: [ObjectIdentifier: [NodeRewriter]] = [:]

    init(_ rules: [NodeRewriter]) { self.rules = rules }

    mutating func rules(for node: Apply) -> [NodeRewriter] {
        let op = ObjectIdentifier(type(of: node.op))
        if let known = byOp[op] { return known }
        let matching = rules.filter { $0.roots?.contains(op) ?? true }
        byOp[op] = matching
        return matching
    }
}

/// The rewrite phases, in order, and the rewrites of each.
public enum Rewrites {
    /// Every named rewrite, by phase.
    public static let phases: [(phase: String, rewriters: [NodeRewriter])] = [
        ("canonicalize", Canonicalize.rules),
        ("stabilize", Stabilize.rules),
        ("specialize", Specialize.rules)
    ]

    /// All rewrite names, for `Mode.excluding`.
    public static var names: [String] {
        ["merge", "constant_folding", "fusion"] + phases.flatMap { $0.rewriters.map(\.name) }
    }

    /// Runs merge, constant folding and each phase's rewrites to a fixed point, skipping the
    /// names and tags in `excluded`. A rewrite that throws is skipped with a warning.
    static func optimize(_ fgraph: FunctionGraph, excluded: Set<String>) {
        for (phase, rules) in phases where !excluded.contains(phase) {
            let active = rules.filter { excluded.isDisjoint(with: $0.tags.union([$0.name])) }
            equilibrium(fgraph, active, excluded: excluded, phase: phase)
        }
        if !excluded.contains("merge") { Merge.run(fgraph) }
        // Fusion last: it hides elementwise nodes from every pattern above.
        if !excluded.contains("fusion") { Fusion.run(fgraph) }
    }

    static func equilibrium(_ fgraph: FunctionGraph, _ rules: [NodeRewriter], excluded: Set<String>, phase: String) {
        // Bounded: a set of rules that undo each other must not loop forever.
        var index = RuleIndex(rules)
        for _ in 0..<50 {
            var changed = false
            if !excluded.contains("merge") { changed = Merge.run(fgraph) || changed }
            if !excluded.contains("constant_folding") { changed = ConstantFolding.run(fgraph) || changed }
            for node in fgraph.nodes {
                // A node may have been cut out by an earlier replacement in this sweep.
                guard node.outputs.contains(where: { !fgraph.clients(of: $0).isEmpty || fgraph.outputs.contains($0) })
                else { continue }
                for rule in index.rules(for: node) {
                    let replacement: [Variable]?
                    do {
                        replacement = try SourceLocation.$inherited.withValue(node.location) {
                            try rule.transform(node, fgraph)
                        }
                    } catch {
                        warn("rewrite \(rule.name) failed on \(node.op) and was skipped: \(error)")
                        continue
                    }
                    guard let new = replacement, new.count == node.outputCount,
                        !zip(new, node.outputs).allSatisfy({ $0 === $1 })
                    else { continue }
                    if let bad = Graph.topologicalOrder(new).first(where: { $0.error != nil }) {
                        warn(
                            "rewrite \(rule.name) built an invalid node (\(bad.error.map { "\($0)" } ?? "")) and "
                                + "was skipped"
                        )
                        continue
                    }
                    do {
                        for (old, n) in zip(node.outputs, new) { try fgraph.replace(old, with: n, reason: rule.name) }
                        changed = true
                        break
                    } catch {
                        warn("rewrite \(rule.name) was skipped: \(error)")
                    }
                }
            }
            if !changed { return }
        }
        warn("the \(phase) rewrites did not settle after 50 passes; continuing with the graph as it is")
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("theano: warning: \(message)\n".utf8))
    }
}

// MARK: - Pattern helpers

/// `[v]` as the replacement of `node`'s output when it has the output's dtype and rank and its
/// static lengths agree with the output's; with `cast`, a replacement of another dtype is cast
/// to the output's first. Nil otherwise, so the rule does not apply.
func keep(_ node: Apply, _ v: Variable?, cast allowCast: Bool = false) -> [Variable]? {
    guard var v else { return nil }
    let want = node.outputs[0]
    if allowCast && v.dtype != want.dtype { v = cast(v, want.dtype) }
    guard v.dtype == want.dtype, v.ndim == want.ndim else { return nil }
    for (a, b) in zip(v.type.shape, want.type.shape) { if let a, let b, a != b { return nil } }
    return [v]
}

extension Variable {
    /// The node computing this variable when its op is `O`.
    func node<O: Op>(_: O.Type) -> (Apply, O)? {
        guard let n = owner, let op = n.op as? O else { return nil }
        return (n, op)
    }

    /// The single input of an elementwise `S` node computing this variable.
    func unary<S: ScalarOp>(_: S.Type) -> Variable? {
        node(Elemwise<S>.self).map { $0.0.inputs[0] }
    }

    /// The two inputs of an elementwise `S` node computing this variable.
    func binary<S: ScalarOp>(_: S.Type) -> (Variable, Variable)? {
        node(Elemwise<S>.self).map { ($0.0.inputs[0], $0.0.inputs[1]) }
    }

    /// For a node of commutative `S`: what `match` finds in one operand, and the other operand,
    /// trying the operands in both orders (one order for an op that does not commute).
    func commuted<S: ScalarOp, M>(_: S.Type, _ match: (Variable) -> M?) -> (M, Variable)? {
        guard let (node, op) = node(Elemwise<S>.self), node.inputs.count == 2 else { return nil }
        let (a, b) = (node.inputs[0], node.inputs[1])
        if let m = match(a) { return (m, b) }
        if op.scalar.isCommutative, let m = match(b) { return (m, a) }
        return nil
    }

    /// `x` for `x ∘ c` or `c ∘ x` of a commutative `S`, where `c` is a constant equal to `value`
    /// whose dimensions are all 1 (`1 + x` → `x`).
    func operand<S: ScalarOp>(_: S.Type, besideConstant value: Double) -> Variable? {
        commuted(S.self) { $0.isBroadcastConstant(value) ? $0 : nil }?.1
    }

    /// `x` for `x ∘ e` (or `e ∘ x`, when `S` commutes), where `e` is a constant that equals
    /// `S`'s identity element and whose dimensions are all 1.
    func droppingIdentity<S: ScalarOp>(_: S.Type) -> Variable? {
        guard let (node, op) = node(Elemwise<S>.self), node.inputs.count == 2,
            let e = op.scalar.identity
        else { return nil }
        if node.inputs[1].isBroadcastConstant(e) { return node.inputs[0] }
        if op.scalar.isCommutative, node.inputs[0].isBroadcastConstant(e) { return node.inputs[1] }
        return nil
    }

    /// The value of a constant whose elements all equal one number.
    var constantScalar: Double? {
        guard let c = self as? Constant, c.value.count >= 1, c.value.count <= 4096 else { return nil }
        let v = c.value.doubles
        return v.allSatisfy { $0 == v[0] } ? v[0] : nil
    }

    /// Whether this is a constant equal to `value` everywhere.
    func isConstant(_ value: Double) -> Bool { constantScalar == value }
}
