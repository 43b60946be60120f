/* The per-precision helpers of the device preludes (CUDA's and the simulator's): the helpers
   shared with the C prelude, and exp/log/log1p/expm1/tanh from the accurate math library of
   the compiler at hand (CUDA's device functions, or the C library's). */
#define R float
#define F(name) name##f
#define L(x) x##f
#include "cuda_math_real.h"
#undef R
#undef F
#undef L

#define R double
#define F(name) name
#define L(x) x
#include "cuda_math_real.h"
#undef R
#undef F
#undef L
