/* The per-precision helpers of the device preludes (CUDA's and the simulator's): the helpers
   shared with the C prelude, and exp/log/log1p/expm1/tanh from the accurate math library of
   the compiler at hand (CUDA's device functions, or the C library's). */
#define R float
#define F(name) name##f
#define L(x) x##f
#include "prelude_helpers.h"
TH_FN float th_expf(float x) { return expf(x); }
TH_FN float th_logf(float x) { return logf(x); }
TH_FN float th_log1pf(float x) { return log1pf(x); }
TH_FN float th_expm1f(float x) { return expm1f(x); }
TH_FN float th_tanhf(float x) { return tanhf(x); }
#include "prelude_derived.h"
#undef R
#undef F
#undef L

#define R double
#define F(name) name
#define L(x) x
#include "prelude_helpers.h"
TH_FN double th_exp(double x) { return exp(x); }
TH_FN double th_log(double x) { return log(x); }
TH_FN double th_log1p(double x) { return log1p(x); }
TH_FN double th_expm1(double x) { return expm1(x); }
TH_FN double th_tanh(double x) { return tanh(x); }
#include "prelude_derived.h"
#undef R
#undef F
#undef L
