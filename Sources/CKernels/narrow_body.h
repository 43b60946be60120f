/* The narrow-product kernels for one element type and vector width; included by narrow.c with
   T (element), SFX (name suffix), TH_VB (vector bytes), TH_RB (rows per tile of `rows`) and
   TH_CB (vectors per column block of `cols`) defined, after vector_body.h. */
#define COLS_BLOCK TH_CAT(th_cols_block_, SFX)

static void TH_CAT(th_narrow_pack_rows_, SFX)(int64_t n, int64_t k, const T *s, int64_t sk, int64_t sj, T *packed) {
    for (int64_t q = 0; q < k; ++q)
        for (int64_t j = 0; j < n; ++j) packed[j * k + q] = s[q * sk + j * sj];
    for (int64_t j = n; j < (n + 4) / 5 * 5; ++j)
        for (int64_t q = 0; q < k; ++q) packed[j * k + q] = 0;
}

/* Tiles of TH_RB rows by 5 columns: one vector of each row and of each packed column per step
   along k, TH_RB * 5 accumulators. The last tile repeats its last row instead of branching. */
static void TH_CAT(th_narrow_rows_, SFX)(int64_t i0, int64_t i1, int64_t n, int64_t k, T alpha, const T *x, int64_t xs,
                                         const T *packed, T beta, T *c, int64_t ci, int64_t cj) {
    const int64_t kv = k / LN * LN;
    for (int64_t i = i0; i < i1; i += TH_RB) {
        const T *xr[TH_RB];
        for (int r = 0; r < TH_RB; ++r) xr[r] = x + (i + r < i1 ? i + r : i1 - 1) * xs;
        for (int64_t g = 0; g < n; g += 5) {
            const T *s = packed + g * k;
            VT acc[TH_RB][5];
            _Pragma("GCC unroll 8") for (int r = 0; r < TH_RB; ++r)
                _Pragma("GCC unroll 5") for (int j = 0; j < 5; ++j) acc[r][j] = (VT){0};
            for (int64_t q = 0; q < kv; q += LN) {
                VT xv[TH_RB];
                _Pragma("GCC unroll 8") for (int r = 0; r < TH_RB; ++r) {
                    if (g == 0) __builtin_prefetch(xr[r] + TH_RB * xs + q);
                    xv[r] = LOAD(xr[r] + q);
                }
                _Pragma("GCC unroll 5") for (int j = 0; j < 5; ++j) {
                    const VT sv = LOAD(s + j * k + q);
                    _Pragma("GCC unroll 8") for (int r = 0; r < TH_RB; ++r) acc[r][j] += xv[r] * sv;
                }
            }
            for (int r = 0; r < TH_RB && i + r < i1; ++r)
                for (int j = 0; j < 5 && g + j < n; ++j) {
                    T t = 0;
                    for (int l = 0; l < (int)LN; ++l) t += acc[r][j][l];
                    for (int64_t q = kv; q < k; ++q) t += xr[r][q] * s[j * k + q];
                    T *d = c + (i + r) * ci + (g + j) * cj;
                    *d = beta == 0 ? alpha * t : alpha * t + beta * *d;
                }
        }
    }
}

static void TH_CAT(th_narrow_pack_cols_, SFX)(int64_t n, int64_t k, const T *s, int64_t sk, int64_t sj, T *packed) {
    for (int64_t g = 0; g < n; g += 10) {
        const int64_t w = n - g <= 5 ? 5 : 10;
        for (int64_t q = 0; q < k; ++q)
            for (int64_t j = 0; j < w; ++j) packed[q * w + j] = g + j < n ? s[q * sk + (g + j) * sj] : 0;
        packed += w * k;
    }
}

enum { TH_CAT(TH_IB_, SFX) = 256, TH_CAT(TH_KB_, SFX) = 16 };
#define IB TH_CAT(TH_IB_, SFX)
#define KB TH_CAT(TH_KB_, SFX)

/* One group of W (10 or 5) columns for rows ib <= i < ib + len into tb[W][IB]: blocks of CB
   vectors along i by W columns, KB steps along k at a time, the accumulators kept in tb between
   blocks of k; rows past the last whole block one at a time. */
static inline __attribute__((always_inline)) void COLS_BLOCK(const int W, const int CB, int64_t ib, int64_t len, int64_t k,
                                                             const T *x, int64_t xs, const T *sg, T *tb) {
    const int64_t step = CB * LN, full = len / step * step;
    __builtin_memset(tb, 0, sizeof(T) * W * IB);
    for (int64_t q0 = 0; q0 < k; q0 += KB) {
        const int64_t qe = k - q0 < KB ? k : q0 + KB;
        for (int64_t i = 0; i < full; i += step) {
            VT acc[10][4];
            _Pragma("GCC unroll 10") for (int j = 0; j < W; ++j)
                _Pragma("GCC unroll 4") for (int u = 0; u < CB; ++u) acc[j][u] = LOAD(tb + j * IB + i + u * LN);
            for (int64_t q = q0; q < qe; ++q) {
                const T *xr = x + ib + i + q * xs;
                VT xv[4];
                _Pragma("GCC unroll 4") for (int u = 0; u < CB; ++u) {
                    __builtin_prefetch(xr + KB * xs + u * LN);
                    xv[u] = LOAD(xr + u * LN);
                }
                const T *s = sg + q * W;
                _Pragma("GCC unroll 10") for (int j = 0; j < W; ++j)
                    _Pragma("GCC unroll 4") for (int u = 0; u < CB; ++u) acc[j][u] += xv[u] * s[j];
            }
            _Pragma("GCC unroll 10") for (int j = 0; j < W; ++j)
                _Pragma("GCC unroll 4") for (int u = 0; u < CB; ++u) __builtin_memcpy(tb + j * IB + i + u * LN, &acc[j][u], sizeof(VT));
        }
    }
    for (int64_t i = full; i < len; ++i)
        for (int64_t q = 0; q < k; ++q) {
            const T xv = x[ib + i + q * xs];
            for (int j = 0; j < W; ++j) tb[j * IB + i] += xv * sg[q * W + j];
        }
}

static void TH_CAT(th_narrow_cols_, SFX)(int64_t i0, int64_t i1, int64_t n, int64_t k, T alpha, const T *x, int64_t xs,
                                         const T *packed, T beta, T *c, int64_t ci, int64_t cj) {
    T tb[10 * IB] __attribute__((aligned(64)));
    for (int64_t ib = i0; ib < i1; ib += IB) {
        const int64_t len = i1 - ib < IB ? i1 - ib : IB;
        const T *sg = packed;
        for (int64_t g = 0; g < n; g += 10) {
            const int w = n - g <= 5 ? 5 : 10;
            if (w == 10) COLS_BLOCK(10, TH_CB, ib, len, k, x, xs, sg, tb);
            else COLS_BLOCK(5, 2 * TH_CB, ib, len, k, x, xs, sg, tb);
            for (int64_t i = 0; i < len; ++i)
                for (int64_t j = 0; j < w && g + j < n; ++j) {
                    T *d = c + (ib + i) * ci + (g + j) * cj;
                    *d = beta == 0 ? alpha * tb[j * IB + i] : alpha * tb[j * IB + i] + beta * *d;
                }
            sg += w * k;
        }
    }
}

#undef IB
#undef KB
#undef COLS_BLOCK
