/* The loop driver every elementwise kernel shares: walks the flat range row by row, keeping
   each operand's byte offset, and hands each row to the inner loop. */
#ifndef THEANO_DRIVER_H
#define THEANO_DRIVER_H

#include <stdint.h>

#if defined(__clang__)
#define TH_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define TH_IVDEP _Pragma("GCC ivdep")
#else
#define TH_IVDEP
#endif
#define TH_MAXND 32
#define TH_MAXOPS 64
typedef void (*th_row)(int64_t n, char *const *p, const int64_t *s);

/* Flags of a call: bit 0 the fast inner loop, bit 1 flush denormals to zero (x86: MXCSR's FTZ
   and DAZ bits, set for this call on this thread and restored after). */
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define TH_FTZ_BEGIN(flags) unsigned int th_csr = _mm_getcsr(); if ((flags) & 2) _mm_setcsr(th_csr | 0x8040);
#define TH_FTZ_END(flags) if ((flags) & 2) _mm_setcsr(th_csr);
#else
#define TH_FTZ_BEGIN(flags)
#define TH_FTZ_END(flags)
#endif

static void th_drive(int64_t begin, int64_t end, int32_t nd, const int64_t *shape, char *const *data,
                     const int64_t *st, int32_t nops, int32_t flags, th_row row) {
    TH_FTZ_BEGIN(flags)
    int64_t idx[TH_MAXND], off[TH_MAXOPS], inner[TH_MAXOPS];
    char *p[TH_MAXOPS];
    int64_t rem = begin;
    for (int32_t d = nd - 1; d >= 0; --d) { idx[d] = rem % shape[d]; rem /= shape[d]; }
    for (int32_t k = 0; k < nops; ++k) {
        off[k] = 0;
        for (int32_t d = 0; d < nd; ++d) off[k] += idx[d] * st[k * nd + d];
        inner[k] = st[k * nd + nd - 1];
    }
    const int64_t extent = shape[nd - 1];
    int64_t pos = begin;
    while (pos < end) {
        int64_t n = extent - idx[nd - 1];
        if (n > end - pos) n = end - pos;
        for (int32_t k = 0; k < nops; ++k) p[k] = data[k] + off[k];
        row(n, p, inner);
        pos += n;
        idx[nd - 1] += n;
        for (int32_t k = 0; k < nops; ++k) off[k] += n * inner[k];
        for (int32_t d = nd - 1; d > 0 && idx[d] == shape[d]; --d) {
            idx[d] = 0;
            idx[d - 1] += 1;
            for (int32_t k = 0; k < nops; ++k) off[k] += st[k * nd + d - 1] - shape[d] * st[k * nd + d];
        }
    }
    TH_FTZ_END(flags)
}

#endif
