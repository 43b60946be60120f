/* The prelude of every generated module: conversions with the reference semantics (NaN -> 0
   and clamping for float -> integer, wrapping integer arithmetic), and our own branch-free,
   vectorisable exp/log/log1p/expm1/tanh/sigmoid/softplus in both precisions.

   Why our own: scalar libm calls keep loops from vectorising (~18x slower on tanh), and
   -ffast-math breaks NaN and infinity. These use range reduction plus Taylor or atanh series
   evaluated with selects instead of branches, so gcc -O3 and clang -O3 vectorise them.
   Accuracy against libm is tested and stated in docs/NATIVE.md. */
#ifndef THEANO_PRELUDE_H
#define THEANO_PRELUDE_H

#include <stdint.h>
#include <string.h>
#include <math.h>

#define TH_FN static inline
#include "prelude_common.h"

static inline uint32_t th_bits_f(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline float th_from_bits_f(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
static inline uint64_t th_bits(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static inline double th_from_bits(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

/* Min/max propagate NaN; relu and sign keep it. R is the C type, F(name) its libm-style name
   (expf for float), L(x) a literal of that type. */
#define R float
#define F(name) name##f
#define L(x) x##f
#include "prelude_helpers.h"
#undef R
#undef F
#undef L
#define R double
#define F(name) name
#define L(x) x
#include "prelude_helpers.h"
#undef R
#undef F
#undef L

/* exp and log differ per precision (constants, series terms), so they are written out. */
/* exp: x = k ln2 + r with |r| <= ln2/2 (ln2 split in a high part with trailing zero bits, so
   k * hi is exact, and a low part); e^r by a polynomial (float: degree 6 fitted for relative
   error, 3e-9, by scripts/fit_expf.py; double: the Taylor series); 2^k applied in two halves so that
   results down to the subnormal range and k = 128 (1024) stay exact. Beyond the clamps the
   arithmetic itself overflows to infinity or rounds to zero, so no selects are needed for the
   range ends. `x < hi ? x : hi` sends a NaN to the bound (conversion to an integer must not see
   it); the NaN is restored at the end. */
static inline float th_expf_series(float r) {
    float p = 0.001381452694957262f;
    p = p * r + 0.008368743724175672f;
    p = p * r + 0.04166839086001341f;
    p = p * r + 0.16666520410630048f;
    p = p * r + 0.49999993432361556f;
    p = p * r + 1.0f;
    return p * r + 1.0f;
}

static inline float th_expf(float x) {
    float xc = x < 88.8f ? x : 88.8f;
    xc = xc > -104.0f ? xc : -104.0f;
    float k = rintf(xc * 1.44269504088896341f);
    float r = (xc - k * 0.693145751953125f) - k * 1.42860682030941723212e-6f;
    float p = th_expf_series(r);
    int32_t ki = (int32_t)k, k1 = ki >> 1, k2 = ki - k1;
    float y = p * th_from_bits_f((uint32_t)(k1 + 127) << 23) * th_from_bits_f((uint32_t)(k2 + 127) << 23);
    return x != x ? x : y;
}

/* e^x for x in [0, 20] only (tanh's use): 2^k is one normal scale factor there. */
static inline float th_expf_0_20(float x) {
    float k = rintf(x * 1.44269504088896341f);
    float r = (x - k * 0.693145751953125f) - k * 1.42860682030941723212e-6f;
    return th_expf_series(r) * th_from_bits_f((uint32_t)((int32_t)k + 127) << 23);
}

static inline double th_exp(double x) {
    double xc = x < 709.8 ? x : 709.8;
    xc = xc > -746.0 ? xc : -746.0;
    double k = rint(xc * 1.4426950408889634074);
    double r = (xc - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t ki = (int64_t)k, k1 = ki >> 1, k2 = ki - k1;
    double y = p * th_from_bits((uint64_t)(k1 + 1023) << 52) * th_from_bits((uint64_t)(k2 + 1023) << 52);
    return x != x ? x : y;
}

/* log: x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = f / (2 + f), f = m - 1,
   written f - s (f - R) with R the atanh series' tail, so small f keeps full precision. */
static inline float th_logf(float x) {
    int sub = x < 1.17549435e-38f;
    float xs = sub ? x * 16777216.0f : x;
    uint32_t u = th_bits_f(xs);
    int32_t e = (int32_t)((u >> 23) & 0xff) - 127 - (sub ? 24 : 0);
    float m = th_from_bits_f((u & 0x007fffffu) | 0x3f800000u);
    int big = m > 1.41421356f;
    m = big ? m * 0.5f : m;
    e += big;
    float f = m - 1.0f, s = f / (2.0f + f), z = s * s;
    float R = z * (2.0f / 3.0f + z * (2.0f / 5.0f + z * (2.0f / 7.0f + z * (2.0f / 9.0f + z * (2.0f / 11.0f)))));
    float ef = (float)e;
    float y = ef * 0.693145751953125f + ((f - s * (f - R)) + ef * 1.42860682030941723212e-6f);
    y = x == INFINITY ? x : y;
    y = x == 0.0f ? -INFINITY : y;
    y = x < 0.0f ? NAN : y;
    return x != x ? x : y;
}

static inline double th_log(double x) {
    int sub = x < 2.2250738585072014e-308;
    double xs = sub ? x * 18014398509481984.0 : x;
    uint64_t u = th_bits(xs);
    int64_t e = (int64_t)((u >> 52) & 0x7ff) - 1023 - (sub ? 54 : 0);
    double m = th_from_bits((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    int big = m > 1.4142135623730951;
    m = big ? m * 0.5 : m;
    e += big;
    double f = m - 1.0, s = f / (2.0 + f), z = s * s;
    double R = z * (2.0 / 3 + z * (2.0 / 5 + z * (2.0 / 7 + z * (2.0 / 9 + z * (2.0 / 11 + z * (2.0 / 13
             + z * (2.0 / 15 + z * (2.0 / 17 + z * (2.0 / 19 + z * (2.0 / 21))))))))));
    double ed = (double)e;
    double y = ed * 6.93147180369123816490e-01 + ((f - s * (f - R)) + ed * 1.90821492927058770002e-10);
    y = x == INFINITY ? x : y;
    y = x == 0.0 ? -INFINITY : y;
    y = x < 0.0 ? NAN : y;
    return x != x ? x : y;
}
/* Functions built on exp and log the same way in both precisions. */
#define R float
#define F(name) name##f
#define L(x) x##f
#include "prelude_log1p.h"
#include "prelude_derived.h"
#undef R
#undef F
#undef L
#define R double
#define F(name) name
#define L(x) x
#include "prelude_log1p.h"
#include "prelude_derived.h"
#undef R
#undef F
#undef L

/* float tanh: below 0.625, x + x^3 p(x^2) with p fitted (Chebyshev-weighted least squares for
   relative error, 0.08 ulp); above, 1 - 2 / (e^2|x| + 1), where the cancellation costs at most a
   factor 2. One exp and no log: twice as fast as going through expm1. 2|x| is clamped at 20,
   where the result has long been 1, so that exp needs no range handling; NaN is restored last. */
static inline float th_tanhf(float x) {
    float a = fabsf(x), t = a * a;
    float p = -0.0056919856631155565f;
    p = p * t + 0.020626291823185178f;
    p = p * t - 0.05373531884941529f;
    p = p * t + 0.13331381354359692f;
    p = p * t - 0.33333279208370703f;
    float small = a + a * t * p;
    float a2 = 2.0f * a;
    a2 = a2 < 20.0f ? a2 : 20.0f;
    float big = 1.0f - 2.0f / (th_expf_0_20(a2) + 1.0f);
    float y = copysignf(a < 0.625f ? small : big, x);
    return x != x ? x : y;
}

/* double tanh |x| = t / (t + 2) with t = expm1(2|x|); 1 beyond where that rounds to 1. */

static inline double th_tanh(double x) {
    double a = fabs(x), t = th_expm1(2.0 * a);
    double y = a > 22.0 ? 1.0 : t / (t + 2.0);
    return copysign(y, x);
}

#endif
