import NDArray

/// `x.shape[d]` computed from the inputs of the node that produces `x` (Theano's `infer_shape`),
/// so a graph that only needs a value's shape does not compute the value. Each op states its
/// own rule (``Op/outputLength(_:output:dim:)``); this file holds the rewrite that applies them
/// and the helpers the rules share.
///
/// One rule, one dimension at a time: each replacement is a small scalar expression over input
/// shapes, so repeated application stays linear in the graph (an earlier whole-shape rule
/// re-expanded shared subexpressions and grew exponentially on gradient graphs).
enum ShapeInference {
    /// `x.shape[k]` as an int64 scalar: a constant when the static type knows it.
    static func length(_ x: Variable, _ k: Int) -> Variable {
        if let n = x.type.shape[k] { return Constant(NDArray(scalar: Int64(n))) }
        return x.shape[k]
    }

    /// Output `o`'s length along `d` when its static type knows it.
    static func staticLength(_ node: Apply, _ o: Int, _ d: Int) -> Variable? {
        node.outputs[o].type.shape[d].map { Constant(NDArray(scalar: Int64($0))) }
    }

    /// The length along `d` of a BLAS update's output: the accumulator's, unless it is 1 (then
    /// the product's). The two broadcast both ways, so neither decides alone; `max` would be wrong
    /// for a length 0 against 1.
    static func broadcastLength(accumulator c: Variable, _ d: Int, of rank: Int, product p: Variable) -> Variable {
        let k = d - (rank - c.ndim)  // axes align on the right
        guard k >= 0 else { return p }  // an axis the accumulator lacks: the product's length
        switch c.type.shape[k] {
        case 1?: return p
        case let n? where n != 1: return length(c, k)
        default: return select(eq(length(c, k), 1.0), p, length(c, k))
        }
    }

    /// An elementwise node's output length: that of an input that provably has the output's
    /// shape (every input of the output's rank has the same shape class, the rest are scalars).
    static func throughFullInput(_ node: Apply, output o: Int, dim d: Int) -> Variable? {
        let ins = node.inputs
        let x = node.outputs[o]
        var memo: [ObjectIdentifier: Set<ObjectIdentifier>] = [:]
        let full = ins.filter { !Canonicalize.isScalarLike($0) && $0.ndim == x.ndim }
        guard let first = full.first else { return nil }
        let shape = Canonicalize.shapeClass(first, &memo)
        guard full.allSatisfy({ Canonicalize.shapeClass($0, &memo) == shape }),
            ins.allSatisfy({ Canonicalize.isScalarLike($0) || $0.ndim == x.ndim })
        else { return nil }
        return length(first, d)
    }

    // shape(f(a, b))[d] → g(shape(a), shape(b))
    static let rule = NodeRewriter("shape_of_dim", on: Subtensor.self, tags: Canonicalize.tags) { n in
        guard let (sub, op) = n.outputs[0].node(Subtensor.self), case .at(.constant(let d)) = op.entries.first,
            op.entries.count == 1, let (shapeNode, _) = sub.inputs[0].node(Shape.self),
            let producer = shapeNode.inputs[0].owner
        else { return nil }
        let x = shapeNode.inputs[0]
        guard let o = producer.outputs.firstIndex(where: { $0 === x }), d >= 0, d < x.ndim,
            let expr = producer.op.outputLength(producer, output: o, dim: d), expr.dtype == .int64, expr.ndim == 0
        else { return nil }
        // Only a replacement that no longer reads x itself.
        if Graph.ancestors([expr]).contains(where: { $0 === x }) { return nil }
        return [expr]
    }
}
