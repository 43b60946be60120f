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

#include "cuda_math.h"

/* A generated kernel's declaration, and the most dimensions of its (coalesced) loop. */
#define TH_KERNEL extern "C" __global__
#define TH_MAX_DIMS 8
#endif
