/* Included by prelude.h once per precision, with R, F and L defined. */
TH_FN R F(th_max)(R a, R b) { return (a != a || b != b) ? NAN : (a > b ? a : b); }
TH_FN R F(th_min)(R a, R b) { return (a != a || b != b) ? NAN : (a < b ? a : b); }
TH_FN R F(th_relu)(R a) { return a > 0 ? a : (a != a ? a : L(0.0)); }
TH_FN R F(th_sign)(R a) { return a != a ? a : (a > 0 ? L(1.0) : (a < 0 ? L(-1.0) : L(0.0))); }
TH_FN R F(th_clip)(R a, R lo, R hi) { R m = a < lo ? lo : a; m = m > hi ? hi : m; return a != a ? a : m; }
TH_FN R F(th_mod)(R a, R b) { R r = F(fmod)(a, b); return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }
