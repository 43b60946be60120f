import NDArray

/// Rewrites that improve numerics: the naive formula a user writes becomes the stable one.
enum Stabilize {
    static let tags: Set<String> = ["stabilize", "fast_compile", "fast_run"]

    static let rules: [NodeRewriter] = [
        // log(1 + x) → log1p(x)
        NodeRewriter("log1p", on: Elemwise<Log>.self, tags: tags) { n in
            guard let s = n.outputs[0].unary(Log.self), let x = s.operand(Add.self, besideConstant: 1) else {
                return nil
            }
            return keep(n, log1p(x), cast: true)
        },
        // exp(x) − 1 → expm1(x)
        NodeRewriter("expm1", on: Elemwise<Sub>.self, tags: tags) { n in
            guard let (e, one) = n.outputs[0].binary(Sub.self), one.isBroadcastConstant(1), let x = e.unary(Exp.self)
            else { return nil }
            return keep(n, expm1(x), cast: true)
        },
        // log(softmax(x)) → logSoftmax(x)
        NodeRewriter("log_softmax", on: Elemwise<Log>.self, tags: tags) { n in
            guard let s = n.outputs[0].unary(Log.self), let (sm, op) = s.node(Softmax.self) else { return nil }
            return keep(n, apply1(LogSoftmax(axis: op.axis), [sm.inputs[0]]), cast: true)
        },
        // logSoftmax(z)[arange(n), y] → −xent(z, y)
        NodeRewriter("softmax_cross_entropy", on: AdvancedSubtensor.self, tags: tags) { n in
            guard let (node, op) = n.outputs[0].node(AdvancedSubtensor.self), op.first == 0, op.count == 2,
                let (ls, lsOp) = node.inputs[0].node(LogSoftmax.self), lsOp.axis == 1,
                isRowRange(node.inputs[1], for: node.inputs[2])
            else { return nil }
            let y = node.inputs[2]
            guard y.ndim == 1, y.dtype.isInteger else { return nil }
            return keep(n, -softmaxCrossEntropy(ls.inputs[0], y), cast: true)
        },
        // 1 / (1 + exp(−x)) → σ(x)
        NodeRewriter("sigmoid", on: Elemwise<TrueDiv>.self, Elemwise<Reciprocal>.self, tags: tags) { n in
            let out = n.outputs[0]
            let denominator: Variable?
            if let (one, d) = out.binary(TrueDiv.self), one.isBroadcastConstant(1) {
                denominator = d
            } else {
                denominator = out.unary(Reciprocal.self)
            }
            guard let d = denominator, let e = d.operand(Add.self, besideConstant: 1),
                let arg = e.unary(Exp.self)
            else { return nil }
            if let x = arg.unary(Neg.self) { return keep(n, sigmoid(x), cast: true) }
            // −a − b, the canonical form of −(a + b)
            if let (na, b) = arg.binary(Sub.self), let a = na.unary(Neg.self) {
                return keep(n, sigmoid(a + b), cast: true)
            }
            return nil
        },
        // log σ(x) → −softplus(−x)
        NodeRewriter("log_sigmoid", on: Elemwise<Log>.self, tags: tags) { n in
            guard let x = n.outputs[0].unary(Log.self)?.unary(Sigmoid.self) else { return nil }
            return keep(n, -softplus(-x), cast: true)
        },
        // log(1 − σ(x)) → −softplus(x)
        NodeRewriter("log_one_minus_sigmoid", on: Elemwise<Log>.self, tags: tags) { n in
            guard let (one, s) = n.outputs[0].unary(Log.self)?.binary(Sub.self), one.isBroadcastConstant(1),
                let x = s.unary(Sigmoid.self)
            else { return nil }
            return keep(n, -softplus(x), cast: true)
        },
        // log(1 + exp(x)), log1p(exp(x)) → softplus(x)
        NodeRewriter("softplus", on: Elemwise<Log>.self, Elemwise<Log1p>.self, tags: tags) { n in
            let out = n.outputs[0]
            let inner = out.unary(Log.self)?.operand(Add.self, besideConstant: 1) ?? out.unary(Log1p.self)
            guard let x = inner?.unary(Exp.self) else { return nil }
            return keep(n, softplus(x), cast: true)
        },
        // log Σ exp(x) → m + log Σ exp(x − m)
        NodeRewriter("logsumexp", on: Elemwise<Log>.self, tags: tags) { n in
            guard let s = n.outputs[0].unary(Log.self), let (sumNode, op) = s.node(Reduce.self), op.kind == .sum,
                let x = sumNode.inputs[0].unary(Exp.self), !isShiftedByItsMax(x)
            else { return nil }
            let m = apply1(Reduce(kind: .max, axes: op.axes), [x])
            // An all −∞ slice would give −∞ − −∞ = NaN: shift by 0 there instead.
            let shift = select(isinf(m), zerosLike(m), m)
            let shifted = x - keepDims(shift, axes: op.axes, ndim: x.ndim)
            return keep(n, log(apply1(Reduce(kind: .sum, axes: op.axes), [exp(shifted)])) + shift, cast: true)
        }
    ]

    /// Whether `x` is `y − f(max(y))`, as `logsumexp` writes it: its own output, which it must not
    /// shift again (each pass would nest one more shift, and the phase would never settle).
    static func isShiftedByItsMax(_ x: Variable) -> Bool {
        guard let (y, shift) = x.binary(Sub.self) else { return false }
        var pending = [shift]
        var visited = 0
        while let v = pending.popLast(), visited < 16 {
            visited += 1
            if let (node, op) = v.node(Reduce.self), op.kind == .max, node.inputs[0] === y { return true }
            if let owner = v.owner { pending += owner.inputs }
        }
        return false
    }

    /// Whether `a` is `arange(y.shape[0])` (or its folded constant `0 ..< len(y)`).
    static func isRowRange(_ a: Variable, for y: Variable) -> Bool {
        if let c = a as? Constant, let n = y.type.shape.first ?? nil {
            return c.value.ndim == 1 && c.value.doubles == (0..<n).map(Double.init)
        }
        guard let (node, _) = a.node(ARange.self), node.inputs[0].isConstant(0), node.inputs[2].isConstant(1) else {
            return false
        }
        let stop = node.inputs[1]
        if let n = stop.constantScalar, let len = y.type.shape.first ?? nil { return Int(n) == len }
        guard let (sub, subOp) = stop.node(Subtensor.self), subOp.entries == [.at(.constant(0))],
            let (shape, _) = sub.inputs[0].node(Shape.self)
        else { return false }
        return shape.inputs[0] === y
    }
}
