/* The element type of a fixed-kernel module: float unless TH_DOUBLE is defined. Each module is
   built for one type, so its entry points have the same names in both (they are looked up per
   module) and take untyped pointers: one table of entries per dtype on the Swift side. */
#ifndef THEANO_REAL_H
#define THEANO_REAL_H

#include <stdint.h>

#ifdef TH_DOUBLE
typedef double th_real;
typedef int64_t th_lane_int;   /* window positions in lanes as wide as the element */
#define th_real_exp th_exp
#else
typedef float th_real;
typedef int32_t th_lane_int;
#define th_real_exp th_expf
#endif

#endif
