/* The softmax family for one element type: softmax (or log-softmax) of each row; cross-entropy
   of each row against its label; its gradient (softmax - onehot) * g. Each first finds every
   row's maximum, then writes x - max(row) and takes exp in flat loops (so they vectorise even
   for rows of 10), then sums each row in double, four rows at a time, and takes the rows' logs
   or reciprocals in one flat loop. The op's Swift perform is the reference DEBUG mode checks
   these against. */
#include <stdlib.h>
#include "prelude.h"
#include "driver.h"
#include "real.h"

/* e = exp(x - max(row)), m = the row maxima (NaN if the row has one; 0 if infinite). */
static void th_rows_exp(int64_t rows, int64_t n, const th_real *x, th_real *e, th_real *m) {
    for (int64_t r = 0; r < rows; ++r) {
        const th_real *row = x + r * n;
        th_real mr = -INFINITY;
        int nan = 0;
        for (int64_t j = 0; j < n; ++j) { const th_real v = row[j]; mr = v > mr ? v : mr; nan |= v != v; }
        m[r] = nan ? NAN : ((mr == INFINITY || mr == -INFINITY) ? 0 : mr);
    }
    for (int64_t r = 0; r < rows; ++r) {
        const th_real mr = m[r];
        TH_IVDEP
        for (int64_t j = 0; j < n; ++j) e[r * n + j] = x[r * n + j] - mr;
    }
    const int64_t total = rows * n;
    TH_IVDEP
    for (int64_t i = 0; i < total; ++i) e[i] = th_real_exp(e[i]);
}
/* Each row's sum in double; four rows at a time, so the adds do not wait on each other. */
static void th_row_sums(int64_t rows, int64_t n, const th_real *e, double *sums) {
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const th_real *a = e + r * n;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int64_t j = 0; j < n; ++j) { s0 += a[j]; s1 += a[n + j]; s2 += a[2 * n + j]; s3 += a[3 * n + j]; }
        sums[r] = s0; sums[r + 1] = s1; sums[r + 2] = s2; sums[r + 3] = s3;
    }
    for (; r < rows; ++r) {
        double sum = 0;
        for (int64_t j = 0; j < n; ++j) sum += e[r * n + j];
        sums[r] = sum;
    }
}
/* Scratch for rows: maxima and sums. */
typedef struct { th_real *m; double *sums; } th_scratch;
static th_scratch th_scratch_new(int64_t rows) {
    const size_t r = (size_t)(rows > 0 ? rows : 1);
    th_scratch sc = { malloc(r * sizeof(th_real)), malloc(r * sizeof(double)) };
    return sc;
}
static void th_scratch_free(th_scratch sc) { free(sc.m); free(sc.sums); }
void th_softmax(int64_t rows, int64_t n, const th_real *x, th_real *out, int32_t take_log) {
    th_scratch sc = th_scratch_new(rows);
    th_rows_exp(rows, n, x, out, sc.m);
    th_row_sums(rows, n, out, sc.sums);
    if (take_log) {
        TH_IVDEP
        for (int64_t r = 0; r < rows; ++r) sc.sums[r] = th_log(sc.sums[r]);
        for (int64_t r = 0; r < rows; ++r) {
            const th_real mr = sc.m[r], ls = (th_real)sc.sums[r];
            TH_IVDEP
            for (int64_t j = 0; j < n; ++j) out[r * n + j] = x[r * n + j] - mr - ls;
        }
    } else {
        for (int64_t r = 0; r < rows; ++r) {
            const th_real inv = (th_real)(1.0 / sc.sums[r]);
            TH_IVDEP
            for (int64_t j = 0; j < n; ++j) out[r * n + j] *= inv;
        }
    }
    th_scratch_free(sc);
}
void th_xent(int64_t rows, int64_t n, const th_real *z, const int64_t *labels, const th_real *unused, th_real *out) {
    (void)unused;
    th_scratch sc = th_scratch_new(rows);
    th_real *e = malloc((size_t)(rows * n > 0 ? rows * n : 1) * sizeof(th_real));
    th_rows_exp(rows, n, z, e, sc.m);
    th_row_sums(rows, n, e, sc.sums);
    TH_IVDEP
    for (int64_t r = 0; r < rows; ++r) sc.sums[r] = th_log(sc.sums[r]);
    for (int64_t r = 0; r < rows; ++r)
        out[r] = (th_real)((double)sc.m[r] + sc.sums[r] - (double)z[r * n + labels[r]]);
    free(e);
    th_scratch_free(sc);
}
void th_xent_grad(int64_t rows, int64_t n, const th_real *z, const int64_t *labels, const th_real *g, th_real *out) {
    th_scratch sc = th_scratch_new(rows);
    th_rows_exp(rows, n, z, out, sc.m);
    th_row_sums(rows, n, out, sc.sums);
    for (int64_t r = 0; r < rows; ++r) {
        const th_real scale = (th_real)((double)g[r] / sc.sums[r]);
        TH_IVDEP
        for (int64_t j = 0; j < n; ++j) out[r * n + j] *= scale;
        out[r * n + labels[r]] -= g[r];
    }
    th_scratch_free(sc);
}
