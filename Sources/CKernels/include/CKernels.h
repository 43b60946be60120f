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

/* Short products: C[i0:i1, :] = alpha * A[i0:i1, k0:k1] * B[k0:k1, :] + beta * C[i0:i1, :] where
   the rows of C or the inner size k are few (a minibatch) and n >= 2 vectors (32 floats, 16
   doubles with AVX-512). A(i, q) = a[i * ai + q * aq], B(q, j) = b[q * bk + j], C(i, j) =
   c[i * ci + j]; with beta == 0 C is written without being read. Callers split the rows, or k
   into partial products that `add` sums (dst += src, count elements). */
#define TH_SHORT_TABLE(T, NAME)                                                                   \
    typedef struct {                                                                              \
        void (*product)(int64_t i0, int64_t i1, int64_t n, int64_t k0, int64_t k1, T alpha, const T *a, \
                        int64_t ai, int64_t aq, const T *b, int64_t bk, T beta, T *c, int64_t ci);   \
        void (*add)(int64_t count, const T *src, T *dst);                                         \
    } NAME;
TH_SHORT_TABLE(float, th_short_f32)
TH_SHORT_TABLE(double, th_short_f64)

/* The kernels for an instruction set: 2 AVX-512, 1 AVX2 with FMA, 0 anything else. The caller
   checks the CPU has it. */
const th_narrow_f32 *th_narrow_kernels_f32(int level);
const th_narrow_f64 *th_narrow_kernels_f64(int level);
const th_short_f32 *th_short_kernels_f32(int level);
const th_short_f64 *th_short_kernels_f64(int level);
/* Columns of the widest block of th_short: 2 vectors. */
static inline int64_t th_short_block(int level, int64_t element_size) {
    return (level >= 2 ? 128 : level == 1 ? 64 : 32) / element_size;
}

/* A hint to the core that the caller is spinning (x86 `pause`, ARM `yield`). */
static inline void th_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
