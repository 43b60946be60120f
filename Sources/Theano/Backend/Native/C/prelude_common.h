/* What every backend's prelude shares: the boolean type, float -> integer conversion with the
   reference semantics (NaN -> 0, clamping) and wrapping integer arithmetic. The including
   prelude defines TH_FN (how a helper is declared: `static inline` in C, `__device__` in CUDA)
   and the fixed-width integer types. */
#ifndef THEANO_PRELUDE_COMMON_H
#define THEANO_PRELUDE_COMMON_H

typedef uint8_t th_bool;

/* Float -> integer as the reference does: NaN -> 0, out of range -> nearest bound, else truncate. */
TH_FN int64_t th_f2i(double d) {
    return d != d ? 0 : (d >= 9.223372036854775807e18 ? INT64_MAX
         : (d <= -9.223372036854775808e18 ? INT64_MIN : (int64_t)d));
}

/* Integer arithmetic wraps (signed overflow is undefined in C, so go through uint64_t). */
TH_FN int64_t th_wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
TH_FN int64_t th_wsub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
TH_FN int64_t th_wmul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
TH_FN int64_t th_iabs(int64_t a) { return a < 0 ? th_wsub(0, a) : a; }
TH_FN int64_t th_iclip(int64_t a, int64_t lo, int64_t hi) { int64_t m = a < lo ? lo : a; return m > hi ? hi : m; }
TH_FN int64_t th_ifloordiv(int64_t a, int64_t b) {
    if (b == 0) return 0;
    if (b == -1) return th_wsub(0, a);
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
TH_FN int64_t th_imod(int64_t a, int64_t b) {
    if (b == 0 || b == -1) return 0;
    int64_t r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
TH_FN int64_t th_ipow(int64_t a, int64_t b) {
    if (b < 0) return a == 1 ? 1 : (a == -1 ? (b % 2 == 0 ? 1 : -1) : 0);
    int64_t r = 1, base = a;
    while (b > 0) { if (b & 1) r = th_wmul(r, base); base = th_wmul(base, base); b >>= 1; }
    return r;
}

#endif
