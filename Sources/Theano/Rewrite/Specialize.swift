import NDArray

/// Rewrites to faster forms: powers with small constant exponents, and matrix updates as one
/// BLAS gemm. Run by FAST_RUN only.
enum Specialize {
    static let tags: Set<String> = ["specialize", "fast_run"]

    static let rules: [NodeRewriter] = [
        // x² → sqr, x^½ → sqrt, x⁻¹ → 1/x, x¹ → x
        NodeRewriter("pow_specialize", on: Elemwise<Pow>.self, tags: tags) { n in
            guard let (x, e) = n.outputs[0].binary(Pow.self), e.isBroadcastConstant(e.constantScalar ?? .nan),
                let c = e.constantScalar
            else { return nil }
            switch c {
            case 1: return keep(n, x, cast: true)
            case 2: return keep(n, sqr(x), cast: true)
            case 0.5: return keep(n, sqrt(x), cast: true)
            case -1: return keep(n, reciprocal(x), cast: true)
            case 3...16 where c == c.rounded():  // x¹⁰ = ((x²)²·x)²: repeated squaring
                return keep(n, power(x, Int(c)), cast: true)
            default: return nil
            }
        },
        // Σ c·x → c·Σ x
        NodeRewriter("constant_out_of_sum", on: Reduce.self, tags: tags) { n in
            guard let (node, op) = n.outputs[0].node(Reduce.self), op.kind == .sum || op.kind == .mean,
                let (a, b) = node.inputs[0].binary(Mul.self)
            else { return nil }
            for (c, x) in [(a, b), (b, a)] where c.isBroadcastConstant(c.constantScalar ?? .nan) && c.ndim <= x.ndim {
                guard x.type.shape == node.inputs[0].type.shape else { continue }
                let scalar = Constant(NDArray(scalar: c.constantScalar ?? 0, dtype: c.dtype))
                return keep(n, scalar * apply1(Reduce(kind: op.kind, axes: op.axes), [x]), cast: true)
            }
            return nil
        },
        // C ± s·dot(A, B) → gemm
        NodeRewriter("gemm", on: Elemwise<Add>.self, Elemwise<Sub>.self, tags: tags.union(["blas"])) { n in
            guard let (c, (scale, a, b), sign) = accumulation(n, rank: 2, isScaledDot), c.ndim == 2 else { return nil }
            return keep(n, gemm(c, alpha: sign < 0 ? -scale : scale, a, b, beta: one(n)), cast: true)
        },
        // C − s·(dot + Q) → (C − s·Q) − s·dot
        NodeRewriter("gemm_distribute", on: Elemwise<Sub>.self, tags: tags.union(["blas"])) { n in
            let out = n.outputs[0]
            guard out.ndim == 2, let (c, term) = out.binary(Sub.self), let (l, r) = term.binary(Mul.self) else {
                return nil
            }
            for (s, sum) in [(l, r), (r, l)] where s.ndim == 0 && s.dtype == out.dtype {
                guard let (p, q) = sum.binary(Add.self) else { continue }
                for (d, rest) in [(p, q), (q, p)] where isScaledDot(d) != nil && d.type.shape.count == 2 {
                    return keep(n, (c - s * rest) - s * d, cast: true)
                }
            }
            return nil
        },
        // C − s·gemm(Q, α, A, B, β) → gemm(C − sβ·Q, −sα, A, B, 1)
        NodeRewriter("gemm_update", on: Elemwise<Add>.self, Elemwise<Sub>.self, tags: tags.union(["blas"])) { n in
            guard let (c, (s, g), sign) = accumulation(n, rank: 2, isScaledGemm), c.ndim == 2 else { return nil }
            let (q, alpha, a, b, beta) = (g.inputs[0], g.inputs[1], g.inputs[2], g.inputs[3], g.inputs[4])
            let signed = sign < 0 ? -s : s
            // Weight decay, Q = k·C: BLAS scales C itself (beta), with no pass over C before it.
            if let k = scalarMultiple(q, of: c) {
                return keep(n, gemm(c, alpha: signed * alpha, a, b, beta: one(n) + (signed * beta) * k), cast: true)
            }
            return keep(n, gemm(c + (signed * beta) * q, alpha: signed * alpha, a, b, beta: one(n)), cast: true)
        },
        // y ± s·dot(A, x) → gemv
        NodeRewriter("gemv", on: Elemwise<Add>.self, Elemwise<Sub>.self, tags: tags.union(["blas"])) { n in
            guard let (y, (scale, a, x), sign) = accumulation(n, rank: 1, isScaledMatvec) else { return nil }
            return keep(n, apply1(Gemv(), [y, sign < 0 ? -scale : scale, a, x, one(n)]), cast: true)
        },
        // dot(A, x) → gemv(0, 1, A, x, 0)
        NodeRewriter("dot_to_gemv", on: Dot.self, tags: tags.union(["blas"])) { n in
            guard let (node, _) = n.outputs[0].node(Dot.self), node.inputs[0].ndim == 2, node.inputs[1].ndim == 1,
                node.inputs[0].dtype == n.outputs[0].dtype, node.inputs[1].dtype == n.outputs[0].dtype,
                n.outputs[0].dtype.isFloat
            else { return nil }
            let zero = Constant(NDArray(scalar: 0, dtype: n.outputs[0].dtype))
            let one = Constant(NDArray(scalar: 1, dtype: n.outputs[0].dtype))
            return keep(n, apply1(Gemv(), [zero, one, node.inputs[0], node.inputs[1], zero]), cast: true)
        },
        // A ± s·outer(x, y) → ger
        NodeRewriter("ger", on: Elemwise<Add>.self, Elemwise<Sub>.self, tags: tags.union(["blas"])) { n in
            guard let (a, (scale, x, y), sign) = accumulation(n, rank: 2, isScaledOuter), a.ndim == 2 else {
                return nil
            }
            return keep(n, apply1(Ger(), [a, sign < 0 ? -scale : scale, x, y]), cast: true)
        }
    ]

    /// For a node `acc ± term` (float, of the given rank) where `match(term)` succeeds: the
    /// accumulator, the match and the sign (+1 or −1) the term carries.
    static func accumulation<M>(_ n: Apply, rank: Int, _ match: (Variable) -> M?) -> (Variable, M, Double)? {
        let out = n.outputs[0]
        guard out.ndim == rank, out.dtype.isFloat else { return nil }
        var pair: (acc: Variable, term: Variable, sign: Double)?
        if let (acc, t) = out.binary(Sub.self) {
            pair = (acc, t, -1)
        } else if let (l, r) = out.binary(Add.self) {
            pair = match(r) != nil ? (l, r, 1) : (r, l, 1)
        }
        guard let (acc, term, sign) = pair, acc.dtype == out.dtype, acc.ndim <= rank, let m = match(term) else {
            return nil
        }
        return (acc, m, sign)
    }

    /// The constant 1 of the node's output dtype.
    static func one(_ n: Apply) -> Constant { Constant(NDArray(scalar: 1, dtype: n.outputs[0].dtype)) }

    /// `(s, A, x)` when `v` is a matrix·vector product (a `Dot`, or a `Gemv` with nothing to
    /// accumulate), optionally times a scalar `s`.
    static func isScaledMatvec(_ v: Variable) -> (Variable, Variable, Variable)? {
        func plain(_ d: Variable) -> (Variable, Variable, Variable)? {
            if let (node, _) = d.node(Dot.self), node.inputs[0].ndim == 2, node.inputs[1].ndim == 1,
                node.inputs[0].dtype == d.dtype, node.inputs[1].dtype == d.dtype
            {
                return (Constant(NDArray(scalar: 1, dtype: d.dtype)), node.inputs[0], node.inputs[1])
            }
            if let (node, _) = d.node(Gemv.self), node.inputs[4].isConstant(0) {
                return (node.inputs[1], node.inputs[2], node.inputs[3])
            }
            return nil
        }
        if let p = plain(v) { return p }
        guard let (l, r) = v.binary(Mul.self) else { return nil }
        for (s, d) in [(l, r), (r, l)] where s.ndim == 0 && s.dtype == v.dtype {
            if let (inner, a, x) = plain(d) { return (inner.isConstant(1) ? s : s * inner, a, x) }
        }
        return nil
    }

    /// `(s, x, y)` when `v` is `x.dimshuffle(0, "x") * y.dimshuffle("x", 0)` (what `outer` builds),
    /// optionally times a scalar `s`.
    static func isScaledOuter(_ v: Variable) -> (Variable, Variable, Variable)? {
        func plain(_ o: Variable) -> (Variable, Variable)? {
            guard let (l, r) = o.binary(Mul.self),
                let (ln, lop) = l.node(DimShuffle.self), lop.pattern == [0, nil],
                let (rn, rop) = r.node(DimShuffle.self), rop.pattern == [nil, 0],
                ln.inputs[0].dtype == o.dtype, rn.inputs[0].dtype == o.dtype
            else { return nil }
            return (ln.inputs[0], rn.inputs[0])
        }
        if let (x, y) = plain(v) { return (Constant(NDArray(scalar: 1, dtype: v.dtype)), x, y) }
        guard let (l, r) = v.binary(Mul.self) else { return nil }
        for (s, o) in [(l, r), (r, l)] where s.ndim == 0 && s.dtype == v.dtype {
            if let (x, y) = plain(o) { return (s, x, y) }
        }
        return nil
    }

    /// `x ** n` as squarings and products.
    static func power(_ x: Variable, _ n: Int) -> Variable {
        if n == 1 { return x }
        let half = power(x, n / 2)
        let squared = sqr(half)
        return n % 2 == 0 ? squared : squared * x
    }

    /// `k` when `q` is `k · c` (or `c`, k = 1) for a 0-d `k` of `c`'s dtype.
    static func scalarMultiple(_ q: Variable, of c: Variable) -> Variable? {
        if q === c { return Constant(NDArray(scalar: 1, dtype: c.dtype)) }
        guard let (l, r) = q.binary(Mul.self) else { return nil }
        for (k, x) in [(l, r), (r, l)] where x === c && k.dtype == c.dtype && Canonicalize.isScalarLike(k) {
            if k.ndim == 0 { return k }
            if let v = k.constantScalar { return Constant(NDArray(scalar: v, dtype: k.dtype)) }
        }
        return nil
    }

    /// `(s, gemm node)` when `v` is a gemm's result times a scalar `s` (or alone, s = 1).
    static func isScaledGemm(_ v: Variable) -> (Variable, Apply)? {
        if let (node, _) = v.node(Gemm.self) { return (Constant(NDArray(scalar: 1, dtype: v.dtype)), node) }
        guard let (l, r) = v.binary(Mul.self) else { return nil }
        for (s, g) in [(l, r), (r, l)] where s.ndim == 0 && s.dtype == v.dtype {
            if let (node, _) = g.node(Gemm.self) { return (s, node) }
        }
        return nil
    }

    /// `(s, A, B)` when `v` is `dot(A, B)` of two matrices, optionally times a scalar `s`.
    static func isScaledDot(_ v: Variable) -> (Variable, Variable, Variable)? {
        func plainDot(_ d: Variable) -> (Variable, Variable)? {
            guard let (node, _) = d.node(Dot.self), node.inputs[0].ndim == 2, node.inputs[1].ndim == 2,
                node.inputs[0].dtype == d.dtype, node.inputs[1].dtype == d.dtype
            else { return nil }
            return (node.inputs[0], node.inputs[1])
        }
        if let (a, b) = plainDot(v) { return (Constant(NDArray(scalar: 1, dtype: v.dtype)), a, b) }
        guard let (l, r) = v.binary(Mul.self) else { return nil }
        for (s, d) in [(l, r), (r, l)] {
            if s.ndim == 0, s.dtype == v.dtype, let (a, b) = plainDot(d) { return (s, a, b) }
        }
        return nil
    }
}
