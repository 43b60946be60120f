/* The short-product kernels for one element type and vector width; included by narrow_types.h
   with T, SFX, TH_VB and TH_SB (rows per tile) defined, after vector_body.h. */
#define TILE TH_CAT(th_short_tile_, SFX)

/* C's rows i <= r < min(i + TH_SB, i1) and columns j <= c < j + 2 LN, of which only those at or
   past `from` are stored (the last block of a row overlaps the one before it rather than running
   a narrower loop). All TH_SB * 2 accumulators stay in registers across k; a short last tile
   repeats its last row. */
static inline __attribute__((always_inline)) void TILE(int64_t i, int64_t i1, int64_t j, int64_t from, int64_t k0, int64_t k1,
                                                       T alpha, const T *a, int64_t ai, int64_t aq, const T *b, int64_t bk,
                                                       T beta, T *c, int64_t ci) {
    const T *ar[TH_SB];
    _Pragma("GCC unroll 12") for (int r = 0; r < TH_SB; ++r) ar[r] = a + (i + r < i1 ? i + r : i1 - 1) * ai;
    VT acc[TH_SB][2];
    _Pragma("GCC unroll 12") for (int r = 0; r < TH_SB; ++r) acc[r][0] = acc[r][1] = (VT){0};
    const T *bq = b + k0 * bk + j;
    for (int64_t q = k0; q < k1; ++q, bq += bk) {
        const VT b0 = LOAD(bq), b1 = LOAD(bq + LN);
        _Pragma("GCC unroll 12") for (int r = 0; r < TH_SB; ++r) {
            const T s = ar[r][q * aq];
            acc[r][0] += s * b0;
            acc[r][1] += s * b1;
        }
    }
    _Pragma("GCC unroll 12") for (int r = 0; r < TH_SB; ++r) {
        if (i + r >= i1) break;
        T *cr = c + (i + r) * ci + j;
        _Pragma("GCC unroll 2") for (int u = 0; u < 2; ++u) {
            VT v = alpha * acc[r][u];
            if (beta != 0) v += beta * LOAD(cr + u * LN);
            if (j + u * LN >= from) {
                STORE(cr + u * LN, v);
            } else {
                T t[LN];
                __builtin_memcpy(t, &v, sizeof v);
                for (int64_t l = from - j - u * LN; l < LN; ++l) cr[u * LN + l] = t[l];
            }
        }
    }
}

/* C[i0:i1, :] = alpha * A[i0:i1, k0:k1] * B[k0:k1, :] + beta * C[i0:i1, :] (C not read when beta
   is 0), for n >= 2 LN. A(i, q) = a[i * ai + q * aq], B(q, j) = b[q * bk + j], C(i, j) =
   c[i * ci + j]. With few rows (the forward product of a minibatch) the blocks of columns are
   the outer loop, so a block of B is read from L1 by each tile of rows; with many rows (a
   weight update, k the minibatch) the rows are, so C is streamed row by row. */
static void TH_CAT(th_short_, SFX)(int64_t i0, int64_t i1, int64_t n, int64_t k0, int64_t k1, T alpha, const T *a, int64_t ai,
                                   int64_t aq, const T *b, int64_t bk, T beta, T *c, int64_t ci) {
    const int64_t w = 2 * LN, last = n - w;
    if (i1 - i0 <= k1 - k0) {
        for (int64_t j = 0; j < n; j += w)
            for (int64_t i = i0; i < i1; i += TH_SB)
                TILE(i, i1, j <= last ? j : last, j, k0, k1, alpha, a, ai, aq, b, bk, beta, c, ci);
    } else {
        for (int64_t i = i0; i < i1; i += TH_SB)
            for (int64_t j = 0; j < n; j += w)
                TILE(i, i1, j <= last ? j : last, j, k0, k1, alpha, a, ai, aq, b, bk, beta, c, ci);
    }
}

/* dst[i] += src[i]: the partial products of a product split along k. */
static void TH_CAT(th_short_add_, SFX)(int64_t count, const T *src, T *dst) {
    for (int64_t i = 0; i < count; ++i) dst[i] += src[i];
}

#undef TILE
