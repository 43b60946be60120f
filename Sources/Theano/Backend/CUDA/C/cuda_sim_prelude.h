/* device=cuda-sim: the prelude that lets the CUDA backend's generated kernels compile as C for
   the CPU. The grid's coordinates are globals the launchers set; the launchers call each thread's
   loop in turn and add a reduction's per-thread sums themselves, so the device kernels (with their
   shared memory and barriers) are compiled but never called; atomics are plain updates (launches
   are serialised). The math is the C library's accurate functions, as CUDA's prelude uses
   CUDA's. */
#ifndef THEANO_CUDA_SIM_PRELUDE_H
#define THEANO_CUDA_SIM_PRELUDE_H

#include <stdint.h>
#include <math.h>

#define TH_FN static inline
#include "prelude_common.h"

#include "cuda_math.h"

struct th_dim { long long x; };
static struct th_dim gridDim, blockDim, blockIdx, threadIdx;
#define TH_KERNEL static inline __attribute__((unused))
#define TH_MAX_DIMS 8
#define __shared__
#define __syncthreads() ((void)0)
static inline void atomicAdd(double *p, double v) { *p += v; }
#endif
