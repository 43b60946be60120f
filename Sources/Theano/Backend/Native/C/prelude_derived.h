/* Included by every prelude once per precision, with R, F and L defined. */
/* sigmoid and softplus through e^-|x|, which never overflows. */
TH_FN R F(th_sigmoid)(R x) {
    R e = F(th_exp)(-F(fabs)(x));
    return x >= L(0.0) ? L(1.0) / (L(1.0) + e) : e / (L(1.0) + e);
}
TH_FN R F(th_softplus)(R x) { return (x > L(0.0) ? x : L(0.0)) + F(th_log1p)(F(th_exp)(-F(fabs)(x))); }
