#ifndef THEANO_CKERNELS_H
#define THEANO_CKERNELS_H

#include <stdint.h>

/* Products C = alpha * X * S + beta * C with a narrow side: S has n <= 16 columns, X is m x k
   with m and k large. OpenBLAS's kernels handle such a narrow N poorly (see docs/NATIVE.md,
   "Narrow products"). Each kernel computes C's rows i0 <= i < i1, so callers can split them
   across threads; S is packed once per product first. Strides are in elements, C(i, j) is
   c[i * ci + j * cj], and with beta == 0 C is written without being read.

   rows: X(i, q) = x[i * xs + q], k contiguous.  S packed by pack_rows into rows_packed(n, k)
         elements.
   cols: X(i, q) = x[i + q * xs], m contiguous.  S packed by pack_cols into cols_packed(n, k)
         elements. */
#define TH_NARROW_TABLE(T, NAME)                                                                  \
    typedef struct {                                                                              \
        void (*pack_rows)(int64_t n, int64_t k, const T *s, int64_t sk, int64_t sj, T *packed);   \
        void (*rows)(int64_t i0, int64_t i1, int64_t n, int64_t k, T alpha, const T *x, int64_t xs, \
                     const T *packed, T beta, T *c, int64_t ci, int64_t cj);                      \
        void (*pack_cols)(int64_t n, int64_t k, const T *s, int64_t sk, int64_t sj, T *packed);   \
        void (*cols)(int64_t i0, int64_t i1, int64_t n, int64_t k, T alpha, const T *x, int64_t xs, \
                     const T *packed, T beta, T *c, int64_t ci, int64_t cj);                      \
    } NAME;
TH_NARROW_TABLE(float, th_narrow_f32)
TH_NARROW_TABLE(double, th_narrow_f64)

/* Elements of the packed S: rows packs columns in groups of 5, cols in groups of 10 with a last
   group of 5 when at most 5 columns are left. */
static inline int64_t th_narrow_rows_packed(int64_t n, int64_t k) { return (n + 4) / 5 * 5 * k; }
static inline int64_t th_narrow_cols_packed(int64_t n, int64_t k) {
    int64_t rest = n % 10;
    return (n / 10 * 10 + (rest == 0 ? 0 : rest <= 5 ? 5 : 10)) * k;
}

/* The kernels for an instruction set: 2 AVX-512, 1 AVX2 with FMA, 0 anything else. The caller
   checks the CPU has it. */
const th_narrow_f32 *th_narrow_kernels_f32(int level);
const th_narrow_f64 *th_narrow_kernels_f64(int level);

#endif
