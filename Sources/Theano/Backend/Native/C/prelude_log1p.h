/* Included by prelude.h once per precision, with R, F and L defined: log1p and expm1 from our
   exp and log (CUDA's prelude uses its own accurate ones). */
/* log1p(x) = log(u) * x / (u - 1) with u = 1 + x rounded: the factor corrects u's rounding. */
static inline R F(th_log1p)(R x) {
    R u = L(1.0) + x, d = u - L(1.0);
    R y = d == L(0.0) ? x : F(th_log)(u) * (x / d);
    return x == INFINITY ? x : y;
}
/* expm1(x) = (u - 1) x / log u with u = e^x rounded, the same correction. */
static inline R F(th_expm1)(R x) {
    R u = F(th_exp)(x), d = u - L(1.0);
    R y = u == L(1.0) ? x : (d == L(-1.0) ? L(-1.0) : d * (x / F(th_log)(u)));
    y = u == INFINITY ? INFINITY : y;
    return x != x ? x : y;
}
