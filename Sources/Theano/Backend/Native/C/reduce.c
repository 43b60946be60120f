/* Reductions over a block of adjacent axes, and the arg-reductions, for one element type. */
#include <stdlib.h>
#include "prelude.h"
#include "driver.h"
#include "real.h"

/* Over n of a contiguous (outer, n, inner) block: sums and means accumulate in double;
   max and min propagate NaN, as the reference does. */
void th_reduce(int64_t outer, int64_t n, int64_t inner, const th_real *x, th_real *out, int32_t kind) {
    double *acc = malloc((size_t)(inner > 0 ? inner : 1) * sizeof(double));
    th_real *ext = malloc((size_t)(inner > 0 ? inner : 1) * sizeof(th_real));
    unsigned char *nan = malloc((size_t)(inner > 0 ? inner : 1));
    for (int64_t o = 0; o < outer; ++o) {
        const th_real *block = x + o * n * inner;
        th_real *dst = out + o * inner;
        if (kind <= 1) {
            if (inner == 1) {
                double sum = 0;
                _Pragma("omp simd reduction(+:sum)")
                for (int64_t k = 0; k < n; ++k) sum += (double)block[k];
                dst[0] = (th_real)(kind == 1 ? sum / (double)n : sum);
                continue;
            }
            for (int64_t i = 0; i < inner; ++i) acc[i] = 0;
            for (int64_t k = 0; k < n; ++k) {
                const th_real *row = block + k * inner;
                TH_IVDEP
                for (int64_t i = 0; i < inner; ++i) acc[i] += (double)row[i];
            }
            for (int64_t i = 0; i < inner; ++i) dst[i] = (th_real)(kind == 1 ? acc[i] / (double)n : acc[i]);
        } else {
            const int is_max = kind == 2;
            for (int64_t i = 0; i < inner; ++i) { ext[i] = is_max ? -INFINITY : INFINITY; nan[i] = 0; }
            for (int64_t k = 0; k < n; ++k) {
                const th_real *row = block + k * inner;
                TH_IVDEP
                for (int64_t i = 0; i < inner; ++i) {
                    th_real v = row[i];
                    ext[i] = is_max ? (v > ext[i] ? v : ext[i]) : (v < ext[i] ? v : ext[i]);
                    nan[i] |= v != v;
                }
            }
            for (int64_t i = 0; i < inner; ++i) dst[i] = nan[i] ? (th_real)NAN : ext[i];
        }
    }
    free(nan);
    free(ext);
    free(acc);
}
/* The first position of the maximum (is_max) or minimum over n; the first NaN wins. */
void th_argreduce(int64_t outer, int64_t n, int64_t inner, const th_real *x, int64_t *out, int32_t is_max) {
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            const th_real *p = x + o * n * inner + i;
            int64_t best = 0;
            th_real bv = p[0];
            if (bv == bv) {
                for (int64_t k = 1; k < n; ++k) {
                    th_real v = p[k * inner];
                    if (v != v) { best = k; break; }
                    if (is_max ? v > bv : v < bv) { best = k; bv = v; }
                }
            }
            out[o * inner + i] = best;
        }
    }
}
