/* The prelude of every CUDA module, compiled by NVRTC (no system headers): the fixed-width
   types, the helpers shared with the C prelude (prelude_common.h, prelude_helpers.h,
   prelude_derived.h) declared as device functions, and exp/log/tanh/log1p/expm1 from CUDA's
   accurate math library (not the fast intrinsics: results stay within a few ulps of the CPU
   reference; docs/GPU.md gives the measured errors). */
#ifndef THEANO_CUDA_PRELUDE_CUH
#define THEANO_CUDA_PRELUDE_CUH

typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned char uint8_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#define INT64_MAX 9223372036854775807LL
#define INT64_MIN (-INT64_MAX - 1LL)
#define INFINITY __int_as_float(0x7f800000)
#define NAN __int_as_float(0x7fffffff)

#define TH_FN static __device__ __forceinline__
#include "prelude_common.h"

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

/* The loop of a generated elementwise kernel: per operand its base pointer and byte strides
   along the (coalesced) dimensions, the lengths, the element count. Passed by value. */
#define TH_MAX_DIMS 8
#endif
