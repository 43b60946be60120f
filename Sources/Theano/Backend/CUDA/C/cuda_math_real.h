/* Included by cuda_math.h once per precision, with R, F and L defined: the shared helpers, and
   exp/log/log1p/expm1/tanh from the math library of the compiler at hand. */
#include "prelude_helpers.h"
TH_FN R F(th_exp)(R x) { return F(exp)(x); }
TH_FN R F(th_log)(R x) { return F(log)(x); }
TH_FN R F(th_log1p)(R x) { return F(log1p)(x); }
TH_FN R F(th_expm1)(R x) { return F(expm1)(x); }
TH_FN R F(th_tanh)(R x) { return F(tanh)(x); }
#include "prelude_derived.h"
