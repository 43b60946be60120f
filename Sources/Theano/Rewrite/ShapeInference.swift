import NDArray

/// `x.shape[d]` computed from the inputs of the node that produces `x` (Theano's `infer_shape`),
/// so a graph that only needs a value's shape does not compute the value. One rule, one dimension
/// at a time: each replacement is a small scalar expression over input shapes, so repeated
/// application stays linear in the graph (an earlier whole-shape rule re-expanded shared
/// subexpressions and grew exponentially on gradient graphs).
enum ShapeInference {
    /// The length along `d` of a BLAS update's output: the accumulator's, unless it is 1 (then
    /// the product's). The two broadcast both ways, so neither decides alone; `max` would be wrong
    /// for a length 0 against 1.
    static func broadcastLength(accumulator c: Variable, _ d: Int, of rank: Int, product p: Variable,
                                _ len: (Variable, Int) -> Variable) -> Variable {
        let k = d - (rank - c.ndim)   // axes align on the right
        guard k >= 0 else { return p }   // an axis the accumulator lacks: the product's length
        switch c.type.shape[k] {
        case 1?: return p
        case let n? where n != 1: return len(c, k)
        default: return select(eq(len(c, k), 1.0), p, len(c, k))
        }
    }

    /// Length `d` of output `o` of `node` as an int64 scalar over its inputs' shapes, when the op
    /// determines it.
    static func length(_ node: Apply, output o: Int, dim d: Int) -> Variable? {
        let ins = node.inputs
        func len(_ x: Variable, _ k: Int) -> Variable {
            if let n = x.type.shape[k] { return Constant(NDArray(scalar: Int64(n))) }
            return x.shape[k]
        }
        switch node.op {
        case let ds as DimShuffle:
            guard d < ds.pattern.count else { return nil }
            return ds.pattern[d].map { len(ins[0], $0) } ?? Constant(NDArray(scalar: Int64(1)))
        case is Dot:
            let (a, b) = (ins[0], ins[1])
            switch (a.ndim, b.ndim) {
            case (2, 2): return d == 0 ? len(a, 0) : len(b, 1)
            case (2, 1): return len(a, 0)
            case (1, 2): return len(b, 1)
            default: return nil
            }
        case is Gemm:
            let product = d == 0 ? len(ins[2], 0) : len(ins[3], 1)
            return broadcastLength(accumulator: ins[0], d, of: 2, product: product, len)
        case is Gemv:
            return broadcastLength(accumulator: ins[0], 0, of: 1, product: len(ins[2], 0), len)
        case is Softmax, is LogSoftmax, is SoftmaxCrossEntropyGrad:
            return len(ins[0], d)
        case is SoftmaxCrossEntropy:
            return len(ins[0], 0)
        case let r as Reduce:
            let kept = (0..<ins[0].ndim).filter { !r.axes.contains($0) }
            return d < kept.count ? len(ins[0], kept[d]) : nil
        case let c as Conv2d:
            // Batch and filter counts come from the inputs; spatial lengths when static.
            if let n = node.outputs[o].type.shape[d] { return Constant(NDArray(scalar: Int64(n))) }
            switch c.role {
            case .forward: return d == 0 ? len(ins[0], 0) : d == 1 ? len(ins[1], 0) : nil
            case .gradInputs, .gradFilters: return len(ins[2], d)
            }
        case let p as Pool2d:
            if let n = node.outputs[o].type.shape[d] { return Constant(NDArray(scalar: Int64(n))) }
            return p.role == .grad || d < ins[0].ndim - 2 ? len(ins[0], d) : nil
        case is Alloc:
            return d + 1 < ins.count && ins[d + 1].dtype == .int64 ? ins[d + 1] : nil
        case is ElemwiseNode, is Composite:
            // Through the input that provably has the output's shape.
            if let c = node.op as? Composite, c.reduction != nil { return nil }
            let x = node.outputs[o]
            var memo: [ObjectIdentifier: Set<ObjectIdentifier>] = [:]
            let full = ins.filter { !Canonicalize.isScalarLike($0) && $0.ndim == x.ndim }
            guard let first = full.first else { return nil }
            let shape = Canonicalize.shapeClass(first, &memo)
            guard full.allSatisfy({ Canonicalize.shapeClass($0, &memo) == shape }),
                  ins.allSatisfy({ Canonicalize.isScalarLike($0) || $0.ndim == x.ndim }) else { return nil }
            return len(first, d)
        default:
            return nil
        }
    }

    /// `x.shape[d]` → the producing op's expression for it.
    static let rule = NodeRewriter("shape_of_dim", tags: Canonicalize.tags) { n in            // shape(f(a, b))[d] → g(shape(a), shape(b))
        guard let (sub, op) = n.outputs[0].node(Subtensor.self), case .at(.constant(let d)) = op.entries.first,
              op.entries.count == 1, let shapeNode = sub.inputs[0].owner, shapeNode.op is Shape,
              let producer = shapeNode.inputs[0].owner else { return nil }
        let x = shapeNode.inputs[0]
        guard let o = producer.outputs.firstIndex(where: { $0 === x }), d >= 0, d < x.ndim,
              let expr = length(producer, output: o, dim: d), expr.dtype == .int64, expr.ndim == 0 else { return nil }
        // Only a replacement that no longer reads x itself.
        if Graph.ancestors([expr]).contains(where: { $0 === x }) { return nil }
        return [expr]
    }
}
