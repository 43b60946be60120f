import NDArray

/// Normal forms that make later rules simpler and drop useless work. Each rule keeps the output
/// type exactly (the graph checks dtype, rank and static lengths on replacement).
enum Canonicalize {
    static let tags: Set<String> = ["canonicalize", "fast_compile", "fast_run"]

    static let rules: [NodeRewriter] = [
        // x·1 → x
        NodeRewriter("mul_by_one", on: Elemwise<Mul>.self, tags: tags) { n in
            keep(n, n.outputs[0].droppingIdentity(Mul.self))
        },
        // x+0 → x
        NodeRewriter("add_zero", on: Elemwise<Add>.self, tags: tags) { n in
            keep(n, n.outputs[0].droppingIdentity(Add.self))
        },
        // x−0 → x
        NodeRewriter("sub_zero", on: Elemwise<Sub>.self, tags: tags) { n in
            keep(n, n.outputs[0].droppingIdentity(Sub.self))
        },
        // x/1 → x
        NodeRewriter("div_by_one", on: Elemwise<TrueDiv>.self, tags: tags) { n in
            keep(n, n.outputs[0].droppingIdentity(TrueDiv.self))
        },
        // −(−x) → x
        NodeRewriter("double_negation", on: Elemwise<Neg>.self, tags: tags) { n in
            keep(n, n.outputs[0].unary(Neg.self)?.unary(Neg.self))
        },
        // cast(x, dtype(x)) → x
        NodeRewriter("useless_cast", on: Elemwise<Cast>.self, tags: tags) { n in
            guard let (node, op) = n.outputs[0].node(Elemwise<Cast>.self), node.inputs[0].dtype == op.scalar.dtype
            else { return nil }
            return [node.inputs[0]]
        },
        // cast(cast(x, a), b) → cast(x, b)
        NodeRewriter("cast_of_widening_cast", on: Elemwise<Cast>.self, tags: tags) { n in
            guard let (outer, op) = n.outputs[0].node(Elemwise<Cast>.self),
                let (inner, _) = outer.inputs[0].node(Elemwise<Cast>.self),
                inner.inputs[0].dtype.canCastSafely(to: inner.outputs[0].dtype)
            else { return nil }
            return [cast(inner.inputs[0], op.scalar.dtype)]
        },
        // x − x → 0 (integers only: inf − inf is NaN)
        NodeRewriter("sub_self", on: Elemwise<Sub>.self, tags: tags) { n in
            guard let (a, b) = n.outputs[0].binary(Sub.self), a === b, !a.dtype.isFloat else { return nil }
            return keep(n, zerosLike(a, dtype: n.outputs[0].dtype))
        },
        // a + (−b) → a − b
        NodeRewriter("add_neg", on: Elemwise<Add>.self, tags: tags) { n in
            guard let (b, a) = n.outputs[0].commuted(Add.self, { $0.unary(Neg.self) }) else { return nil }
            return keep(n, a - b)
        },
        // a − (−b) → a + b
        NodeRewriter("sub_neg", on: Elemwise<Sub>.self, tags: tags) { n in
            guard let (a, b) = n.outputs[0].binary(Sub.self), let nb = b.unary(Neg.self) else { return nil }
            return keep(n, a + nb)
        },
        // (−a)(−b) → ab
        NodeRewriter("neg_times_neg", on: Elemwise<Mul>.self, tags: tags) { n in
            guard let (a, b) = n.outputs[0].binary(Mul.self), let na = a.unary(Neg.self), let nb = b.unary(Neg.self)
            else { return nil }
            return keep(n, na * nb)
        },
        // −(a − b) → b − a
        NodeRewriter("neg_of_sub", on: Elemwise<Neg>.self, tags: tags) { n in
            guard let (a, b) = n.outputs[0].unary(Neg.self)?.binary(Sub.self) else { return nil }
            return keep(n, b - a)
        },
        // reshape to its own shape
        NodeRewriter("useless_reshape", on: Reshape.self, Flatten.self, tags: tags) { n in
            guard n.op is Reshape || n.op is Flatten, let shape = n.inputs[0].type.shape.allKnown,
                n.outputs[0].type.shape.allKnown == shape
            else { return nil }
            return [n.inputs[0]]
        },
        // Only when the shuffle is f's one reader: otherwise f would be computed twice.
        // ds(f(a, b)) → f(ds(a), ds(b))
        NodeRewriter(
            "lift_dimshuffle", on: DimShuffle.self, tags: tags,
            inGraph: { n, fgraph in
                guard let (node, op) = n.outputs[0].node(DimShuffle.self), let inner = node.inputs[0].owner,
                    inner.op is ElemwiseNode, inner.outputCount == 1,
                    fgraph.clients(of: inner.outputs[0]).count == 1,
                    !fgraph.outputs.contains(where: { $0 === inner.outputs[0] })
                else { return nil }
                let nd = inner.outputs[0].ndim
                let lifted = inner.inputs.map { x -> Variable in
                    // Align each input to the output's rank first (leading broadcast axes), then shuffle.
                    let aligned =
                        x.ndim == nd
                        ? x
                        : apply1(DimShuffle(Array(repeating: nil, count: nd - x.ndim) + (0..<x.ndim).map { $0 }), [x])
                    return apply1(DimShuffle(op.pattern), [aligned])
                }
                return keep(n, Apply.make(inner.op, lifted).outputs[0])
            }),
        // identity pattern
        NodeRewriter("useless_dimshuffle", on: DimShuffle.self, tags: tags) { n in
            guard let (node, op) = n.outputs[0].node(DimShuffle.self), op.pattern == Array(0..<node.inputs[0].ndim)
            else { return nil }
            return [node.inputs[0]]
        },
        // ds(ds(x)) → ds(x)
        NodeRewriter("merge_dimshuffles", on: DimShuffle.self, tags: tags) { n in
            guard let (outer, op) = n.outputs[0].node(DimShuffle.self),
                let (inner, innerOp) = outer.inputs[0].node(DimShuffle.self)
            else { return nil }
            let composed = op.pattern.map { $0.flatMap { innerOp.pattern[$0] } }
            return [apply1(DimShuffle(composed), [inner.inputs[0]])]
        },
        // A transposed product would be read across its rows by whatever elementwise kernel
        // uses it (a tied-weights gradient added to W: one cache miss per element); the
        // transposed operands cost BLAS nothing. Only when the transpose is the product's one
        // reader, else the product would be computed twice.
        // dot(a, b).T → dot(b.T, a.T)
        NodeRewriter(
            "lift_transpose_through_dot", on: DimShuffle.self, tags: tags,
            inGraph: { n, fgraph in
                guard let (node, op) = n.outputs[0].node(DimShuffle.self), op.pattern == [1, 0],
                    let product = node.inputs[0].owner,
                    product.op is Dot, product.inputs.allSatisfy({ $0.ndim == 2 }),
                    fgraph.clients(of: product.outputs[0]).count == 1,
                    !fgraph.outputs.contains(where: { $0 === product.outputs[0] })
                else { return nil }
                return keep(n, dot(product.inputs[1].T, product.inputs[0].T))
            }),
        // Softmax and log-softmax keep the order within each row, so the position of a row's
        // largest (smallest) entry is that of the logits': the prediction `argmax(p, axis: 1)`
        // needs no softmax. (Logits that softmax would round to equal probabilities now give
        // the larger one; a row with NaN gives its first NaN instead of 0.)
        // argmax(softmax(x)) → argmax(x)
        NodeRewriter("argmax_of_softmax", on: ArgReduce.self, tags: tags) { n in
            guard let (node, op) = n.outputs[0].node(ArgReduce.self), let a = op.axis, let inner = node.inputs[0].owner
            else { return nil }
            let x = inner.inputs[0]
            let axis: Int
            if let s = inner.op as? Softmax {
                axis = s.axis
            } else if let s = inner.op as? LogSoftmax {
                axis = s.axis
            } else {
                return nil
            }
            guard (axis < 0 ? axis + x.ndim : axis) == a else { return nil }
            return keep(n, apply1(ArgReduce(isMax: op.isMax, axis: a), [x]))
        },
        // shape(x) → constant
        NodeRewriter("static_shape", on: Shape.self, tags: tags) { n in
            guard n.op is Shape, let known = n.inputs[0].type.shape.allKnown else { return nil }
            return [Constant(NDArray(vector: known.map(Int64.init)))]
        },
        // Nested sums (differences) and products read as one flat list of terms: the constants
        // among them fold into one, and for integers a term and its negation cancel.
        // (a + 1) + (b + 2) → (a + b) + 3
        NodeRewriter(
            "flatten_add_mul", tags: tags,
            inGraph: { n, fgraph in
                flattenAddMul(n, fgraph)
            }),
        ShapeInference.rule,
        // The shape of a value read off the input that determines it, without computing the value.
        // shape(f(x, c)) → shape(x)
        NodeRewriter("shape_of_elemwise", on: Shape.self, tags: tags) { n in
            guard n.op is Shape, let inner = n.inputs[0].owner, inner.op is ElemwiseNode,
                let x = shapeDefiningInput(inner)
            else { return nil }
            return [apply1(Shape(), [x])]
        },
        // A gradient already of the input's shape needs no summing back to it.
        // reduceTo(f(x, c), shape(x)) → f(x, c)
        NodeRewriter("useless_reduce_to", on: ReduceTo.self, tags: tags) { n in
            guard let (node, _) = n.outputs[0].node(ReduceTo.self), let shapeNode = node.inputs[1].owner,
                shapeNode.op is Shape
            else { return nil }
            let x = shapeNode.inputs[0]
            let g = node.inputs[0]
            return g.ndim == x.ndim && sameShape(g, x) ? keep(n, g) : nil
        },
        // Summing back to a scalar is a full sum, which fusion folds into the kernel computing it.
        // reduceTo(g, []) → sum(g)
        NodeRewriter("reduce_to_scalar", on: ReduceTo.self, tags: tags) { n in
            guard let (node, _) = n.outputs[0].node(ReduceTo.self), let target = node.inputs[1] as? Constant,
                target.value.count == 0, node.inputs[0].dtype.isFloat
            else { return nil }
            let g = node.inputs[0]
            return keep(n, Apply.make(Reduce(kind: .sum, axes: Array(0..<g.ndim)), [g]).outputs[0])
        },
        // A fill feeding scalar arithmetic: do the arithmetic once, on the value, then fill.
        // f(alloc(v, s), c) → alloc(f(v, c), s)
        NodeRewriter("lift_alloc", tags: tags) { n in
            guard n.op is ElemwiseNode, n.inputs.count >= 2,
                let k = n.inputs.firstIndex(where: { $0.owner?.op is Alloc }), let allocNode = n.inputs[k].owner,
                n.inputs.enumerated().allSatisfy({ j, x in j == k || isScalarLike(x) })
            else { return nil }
            var inputs = n.inputs
            inputs[k] = allocNode.inputs[0]
            let value = Apply.make(n.op, inputs).outputs[0]
            return keep(n, Apply.make(allocNode.op, [value] + allocNode.inputs.dropFirst()).outputs[0])
        },
        // Broadcasting already gives the shape another input has: no filled array is needed.
        // f(alloc(v, shape(x)), x) → f(v, x)
        NodeRewriter("elemwise_alloc", tags: tags) { n in
            guard n.op is ElemwiseNode, n.inputs.count >= 2 else { return nil }
            for (k, a) in n.inputs.enumerated() {
                guard let (allocNode, _) = a.node(Alloc.self) else { continue }
                let dims = Array(allocNode.inputs.dropFirst())
                let sameShape = n.inputs.enumerated().contains { j, x in
                    j != k && x.ndim == dims.count
                        && dims.enumerated().allSatisfy { d, v in isLength(v, of: x, dim: d) }
                }
                guard sameShape else { continue }
                var inputs = n.inputs
                inputs[k] = allocNode.inputs[0]
                return keep(n, Apply.make(n.op, inputs).outputs[0])
            }
            return nil
        }
    ]

    /// The terms of a tree of `+`/`−` (or of `·`) nodes rooted at `root`, each with its sign (for
    /// sums); nodes another value also reads stay whole. Then constants fold, integer terms
    /// cancel against their negations, and the tree is rebuilt left to right — only when that
    /// removed something, so the rule reaches a fixed point.
    static func flattenAddMul(_ node: Apply, _ fgraph: FunctionGraph) -> [Variable]? {
        let out = node.outputs[0]
        let isMul = out.binary(Mul.self) != nil
        guard isMul || out.binary(Add.self) != nil || out.binary(Sub.self) != nil else { return nil }
        var terms: [(Variable, Bool)] = []  // (term, negated)
        func collect(_ v: Variable, _ negated: Bool, root: Bool) {
            let inner = root || (fgraph.clients(of: v).count == 1 && !fgraph.outputs.contains { $0 === v })
            if inner, v.type.shape == out.type.shape || root, v.dtype == out.dtype {
                if isMul, let (a, b) = v.binary(Mul.self) {
                    collect(a, false, root: false)
                    collect(b, false, root: false)
                    return
                }
                if !isMul, let (a, b) = v.binary(Add.self) {
                    collect(a, negated, root: false)
                    collect(b, negated, root: false)
                    return
                }
                if !isMul, let (a, b) = v.binary(Sub.self) {
                    collect(a, negated, root: false)
                    collect(b, !negated, root: false)
                    return
                }
            }
            terms.append((v, negated))
        }
        collect(out, false, root: true)
        guard terms.count >= 2 else { return nil }
        // Constants: one-element values whose every static length is 1 and rank fits the result.
        let isFoldable: (Variable) -> Bool = { $0.constantScalar != nil && isScalarLike($0) && $0.ndim <= out.ndim }
        let constants = terms.filter { isFoldable($0.0) }
        var rest = terms.filter { !isFoldable($0.0) }
        var removed = max(0, constants.count - 1)
        if !out.dtype.isFloat && !isMul {
            // Wrapping integer addition is a group: x and −x cancel exactly.
            var i = 0
            while i < rest.count {
                if let j = rest.indices.first(where: { $0 > i && rest[$0].0 === rest[i].0 && rest[$0].1 != rest[i].1 })
                {
                    rest.remove(at: j)
                    rest.remove(at: i)
                    removed += 2
                } else {
                    i += 1
                }
            }
        }
        let identity: Double = isMul ? 1 : 0
        let folded = constants.reduce(identity) { acc, c in
            let v = c.0.constantScalar ?? identity
            return isMul ? acc * v : (c.1 ? acc - v : acc + v)
        }
        // Dropping an identity constant (x + 0, x · 1) also counts as progress.
        if constants.count == 1 && folded == identity && !rest.isEmpty { removed += 1 }
        guard removed > 0 else { return nil }
        var result: Variable?
        for (t, negated) in rest {
            guard let r = result else {
                result = negated ? -t : t
                continue
            }
            result = isMul ? r * t : (negated ? r - t : r + t)
        }
        let c = Constant(NDArray(scalar: folded, dtype: out.dtype))
        guard let r = result else { return keep(node, c) }
        if folded == identity { return keep(node, r) }
        return keep(node, isMul ? c * r : r + c)
    }

    /// An input of an elementwise node whose shape is the node's: the one input of full rank when
    /// every other input is scalar-like (all static lengths 1), so nothing else can broadcast.
    static func shapeDefiningInput(_ node: Apply) -> Variable? {
        let nd = node.outputs[0].ndim
        let full = node.inputs.filter { !isScalarLike($0) }
        guard full.count == 1, full[0].ndim == nd else { return nil }
        return full[0]
    }

    /// A value whose every static length is 1 (a scalar, or a broadcastable constant).
    static func isScalarLike(_ x: Variable) -> Bool { x.type.shape.allSatisfy { $0 == 1 } }

    /// Whether `v` is the length of `x`'s dimension `d`: its static length, or `y.shape[d]` for a
    /// `y` with the same shape as `x`.
    static func isLength(_ v: Variable, of x: Variable, dim d: Int) -> Bool {
        if let n = x.type.shape[d], v.constantScalar == Double(n) { return true }
        guard let (sub, op) = v.node(Subtensor.self), op.entries == [.at(.constant(d))],
            let shapeNode = sub.inputs[0].owner, shapeNode.op is Shape
        else { return false }
        return sameShape(shapeNode.inputs[0], x)
    }

    /// Whether two values provably have the same run-time shape: both are the broadcast of the
    /// same set of shapes (see ``shapeClass(_:_:depth:)``).
    static func sameShape(_ a: Variable, _ b: Variable) -> Bool {
        if a === b { return true }
        var memo: [ObjectIdentifier: Set<ObjectIdentifier>] = [:]
        return shapeClass(a, &memo) == shapeClass(b, &memo)
    }

    /// The values whose shapes, broadcast together, give `v`'s shape. Broadcasting is
    /// commutative, associative and idempotent, so two values with the same set have the same
    /// shape even when that shape is only known at run time: `y * p` and `(1 - y) * log(p)`
    /// both have the shape of `y` broadcast with `p`. Through elementwise nodes (the union of
    /// their full-rank inputs' sets), `reduceTo(g, shape(x))` and `alloc(v, shape(x)[0], …)`
    /// (`x`'s set); anything else is its own set. Memoised and bounded in depth.
    static func shapeClass(
        _ v: Variable, _ memo: inout [ObjectIdentifier: Set<ObjectIdentifier>], depth: Int = 0
    )
        -> Set<ObjectIdentifier>
    {
        if let c = memo[ObjectIdentifier(v)] { return c }
        var result: Set<ObjectIdentifier> = [ObjectIdentifier(v)]
        if depth < 64, let node = v.owner {
            if node.op is ElemwiseNode {
                let full = node.inputs.filter { !isScalarLike($0) }
                if !full.isEmpty, full.allSatisfy({ $0.ndim == v.ndim }) {
                    result = []
                    for x in full { result.formUnion(shapeClass(x, &memo, depth: depth + 1)) }
                }
            } else if node.op is ReduceTo, let shapeNode = node.inputs[1].owner, shapeNode.op is Shape,
                shapeNode.inputs[0].ndim == v.ndim
            {
                result = shapeClass(shapeNode.inputs[0], &memo, depth: depth + 1)
            } else if node.op is Alloc, let x = allocShapeSource(node), x.ndim == v.ndim {
                result = shapeClass(x, &memo, depth: depth + 1)
            }
        }
        memo[ObjectIdentifier(v)] = result
        return result
    }

    /// The `x` whose lengths an alloc takes one by one (`shape(x)[d]` as dimension `d`), if any.
    private static func allocShapeSource(_ node: Apply) -> Variable? {
        let dims = node.inputs.dropFirst()
        var source: Variable?
        for (d, v) in dims.enumerated() {
            guard let (sub, op) = v.node(Subtensor.self), op.entries == [.at(.constant(d))],
                let shapeNode = sub.inputs[0].owner, shapeNode.op is Shape
            else { return nil }
            let x = shapeNode.inputs[0]
            if let s = source, s !== x { return nil }
            source = x
        }
        return source
    }
}

extension Variable {
    /// A constant equal to `value` everywhere whose dimensions are all 1 (so it never widens the
    /// shape of what it meets).
    func isBroadcastConstant(_ value: Double) -> Bool {
        guard let c = self as? Constant, c.value.shape.allSatisfy({ $0 == 1 }) else { return false }
        return isConstant(value)
    }
}
