import Foundation
import NDArray

/// What `grad` does when a requested variable does not influence the cost.
public enum DisconnectedPolicy: Sendable {
    /// Throw (the default): usually a bug in the model.
    case raise
    /// Print a warning and return zeros.
    case warn
    /// Return zeros silently.
    case ignore
}

/// Symbolic gradients of a scalar `cost` with respect to each of `wrt` (reverse mode; nothing
/// is evaluated). Gradients of broadcast inputs are summed back to each input's run-time shape;
/// integer variables are never differentiated.
///
/// - `considerConstant`: variables treated as constants (no gradient flows through them).
/// - `knownGrads`: gradients given for intermediate variables, added to what flows into them.
/// - `disconnectedInputs`: what to do when some `wrt` does not influence the cost.
///
/// ```swift
/// let (gW, gb) = try grad(cost, wrt: W, b)
/// let gs = try grad(cost, wrt: [W, b])
/// ```
public func grad(
    _ cost: Variable, wrt: [Variable], considerConstant: [Variable] = [],
    knownGrads: [Variable: Variable] = [:],
    disconnectedInputs: DisconnectedPolicy = .raise
) throws -> [Variable] {
    guard cost.ndim == 0 else {
        throw TheanoError(
            .gradient, "the cost must be a scalar, got \(cost.label); reduce it first (e.g. mean or sum)",
            location: cost.owner?.location ?? cost.location)
    }
    if let bad = Graph.topologicalOrder([cost] + Array(knownGrads.keys)).first(where: { $0.error != nil }),
        let e = bad.error
    {
        throw e
    }
    for v in wrt where !v.isDifferentiable {
        throw TheanoError(
            .gradient, "cannot differentiate with respect to \(v.label): it is not a float tensor", location: v.location
        )
    }
    for (v, g) in knownGrads where g.ndim != v.ndim {
        throw TheanoError(.gradient, "known gradient for \(v.label) has type \(g.type)", location: g.location)
    }
    let constant = Set(considerConstant)
    let wrtSet = Set(wrt)
    // Differentiate the stabilised cost (log(softmax) → logSoftmax, log σ → −softplus, …): the
    // naive formulas' derivatives divide by values that underflow. The copy is cut at the
    // requested and constant variables, so they keep their identity.
    let cost = knownGrads.isEmpty ? stabilized(cost, cut: wrt + considerConstant) : cost
    let roots = [cost] + Array(knownGrads.keys)
    // Nodes between the wrt variables and the cost, in order; only those carry gradients.
    let order = Graph.topologicalOrder(roots, stoppingAt: constant.union(wrtSet))
    var dependsOnWrt = wrtSet
    for node in order where node.inputs.contains(where: { dependsOnWrt.contains($0) && !constant.contains($0) }) {
        node.outputs.forEach { dependsOnWrt.insert($0) }
    }

    var grads: [Variable: [Variable]] = [:]
    if cost.isDifferentiable {
        grads[cost] = [Constant(NDArray(scalar: 1, dtype: cost.dtype))]
    }
    for (v, g) in knownGrads { grads[v, default: []].append(g) }
    func total(_ v: Variable) -> Variable? {
        guard let parts = grads[v], let first = parts.first else { return nil }
        return parts.dropFirst().reduce(first) { $0 + $1 }
    }

    for node in order.reversed() {
        guard node.outputs.contains(where: { dependsOnWrt.contains($0) }) else { continue }
        let outGrads = node.outputs.map(total)
        guard outGrads.contains(where: { $0 != nil }) else { continue }
        guard let op = node.op as? any DifferentiableOp else {
            if let x = node.inputs.first(where: {
                dependsOnWrt.contains($0) && $0.isDifferentiable && !constant.contains($0)
            }) {
                throw TheanoError(
                    .gradient,
                    "\(node.op) has no gradient, but \(x.label) (input \(node.inputs.firstIndex(of: x) ?? 0)) needs "
                        + "one",
                    op: "\(node.op)", inputs: node.inputs.map(\.type).summary, location: node.location)
            }
            continue
        }
        let inputGrads = op.pullback(node, outGrads)
        for (i, (x, g)) in zip(node.inputs, inputGrads).enumerated() {
            guard dependsOnWrt.contains(x), !constant.contains(x), x.isDifferentiable else { continue }
            switch g {
            case .value(let v): grads[x, default: []].append(v)
            case .zero: grads[x, default: []].append(zerosLike(x))
            case .disconnected: continue
            case .undefined(let why):
                throw TheanoError(
                    .gradient, "the gradient with respect to input \(i) (\(x.label)) is undefined: \(why)",
                    op: "\(node.op)", inputs: node.inputs.map(\.type).summary, location: node.location)
            }
        }
    }

    return try wrt.map { v in
        if let g = total(v) { return cast(g, v.dtype) }
        let message = "\(v.label) does not influence the cost"
        switch disconnectedInputs {
        case .raise:
            throw TheanoError(
                .gradient, message + " (pass disconnectedInputs: .ignore to get zeros)", location: v.location)
        case .warn:
            FileHandle.standardError.write(Data("theano: warning: \(message); its gradient is zero\n".utf8))
        case .ignore: break
        }
        return zerosLike(v)
    }
}

/// `cost` after the canonicalize and stabilize rewrites, on a private copy cut at `cut`.
func stabilized(_ cost: Variable, cut: [Variable]) -> Variable {
    let fgraph = FunctionGraph(inputs: cut, outputs: [cost])
    Rewrites.optimize(fgraph, excluded: ["constant_folding", "fusion"])
    return fgraph.outputs[0]
}

/// Gradients of `cost` with respect to two variables, as a tuple.
public func grad(_ cost: Variable, wrt a: Variable, _ b: Variable) throws -> (Variable, Variable) {
    let g = try grad(cost, wrt: [a, b])
    return (g[0], g[1])
}

/// Gradients of `cost` with respect to three variables, as a tuple.
public func grad(
    _ cost: Variable, wrt a: Variable, _ b: Variable, _ c: Variable
) throws -> (Variable, Variable, Variable) {
    let g = try grad(cost, wrt: [a, b, c])
    return (g[0], g[1], g[2])
}

/// The gradient of `cost` with respect to one variable.
public func grad(_ cost: Variable, wrt x: Variable) throws -> Variable {
    try grad(cost, wrt: [x])[0]
}
