import NDArray

/// Rewrites to faster forms: powers with small constant exponents, and matrix updates as one
/// BLAS gemm. Run by FAST_RUN only.
enum Specialize {
    static let tags: Set<String> = ["specialize", "fast_run"]

    static let rules: [NodeRewriter] = [
        NodeRewriter("pow_specialize", tags: tags) { n in                       // x² → sqr, x^½ → sqrt, x⁻¹ → 1/x, x¹ → x
            guard let (x, e) = n.outputs[0].binary(Pow.self), e.isBroadcastConstant(e.constantScalar ?? .nan),
                  let c = e.constantScalar else { return nil }
            switch c {
            case 1: return Stabilize.typed(n, x)
            case 2: return Stabilize.typed(n, sqr(x))
            case 0.5: return Stabilize.typed(n, sqrt(x))
            case -1: return Stabilize.typed(n, reciprocal(x))
            case 3...16 where c == c.rounded():                                 // x¹⁰ = ((x²)²·x)²: repeated squaring
                return Stabilize.typed(n, power(x, Int(c)))
            default: return nil
            }
        },
        NodeRewriter("constant_out_of_sum", tags: tags) { n in                 // Σ c·x → c·Σ x
            guard let (node, op) = n.outputs[0].node(Reduce.self), op.kind == .sum || op.kind == .mean,
                  let (a, b) = node.inputs[0].binary(Mul.self) else { return nil }
            for (c, x) in [(a, b), (b, a)] where c.isBroadcastConstant(c.constantScalar ?? .nan) && c.ndim <= x.ndim {
                guard x.type.shape == node.inputs[0].type.shape else { continue }
                let scalar = Constant(NDArray(scalar: c.constantScalar ?? 0, dtype: c.dtype))
                return Stabilize.typed(n, scalar * apply1(Reduce(kind: op.kind, axes: op.axes), [x]))
            }
            return nil
        },
        NodeRewriter("gemm", tags: tags.union(["blas"])) { n in                // C ± s·dot(A, B) → gemm
            let out = n.outputs[0]
            guard out.ndim == 2, out.dtype.isFloat else { return nil }
            var terms: (Variable, Variable, Bool)?      // (C, scaled dot, subtract)
            if let (c, t) = out.binary(Sub.self) { terms = (c, t, true) }
            else if let (l, r) = out.binary(Add.self) { terms = isScaledDot(r) != nil ? (l, r, false) : (r, l, false) }
            guard let (c, term, subtract) = terms, c.ndim == 2, c.dtype == out.dtype,
                  let (scale, a, b) = isScaledDot(term) else { return nil }
            let alpha = subtract ? -scale : scale
            let one = Constant(NDArray(scalar: 1, dtype: out.dtype))
            return Stabilize.typed(n, gemm(c, alpha: alpha, a, b, beta: one))
        },
    ]

    /// `x ** n` as squarings and products.
    static func power(_ x: Variable, _ n: Int) -> Variable {
        if n == 1 { return x }
        let half = power(x, n / 2)
        let squared = sqr(half)
        return n % 2 == 0 ? squared : squared * x
    }

    /// `(s, A, B)` when `v` is `dot(A, B)` of two matrices, optionally times a scalar `s`.
    static func isScaledDot(_ v: Variable) -> (Variable, Variable, Variable)? {
        func plainDot(_ d: Variable) -> (Variable, Variable)? {
            guard let (node, _) = d.node(Dot.self), node.inputs[0].ndim == 2, node.inputs[1].ndim == 2,
                  node.inputs[0].dtype == d.dtype, node.inputs[1].dtype == d.dtype else { return nil }
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
