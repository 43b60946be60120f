/* Direct convolution with few input channels and tiled max pooling, for one element type,
   written with the compiler's 64-byte vector extension so that -march=native gives AVX-512
   here and narrower vectors elsewhere.

   Why these and not more: im2col turns a one-channel convolution into a GEMM with a handful of
   rows that rereads a lowered copy kh*kw times the image (12 MB per 256x256 image for a 7x7
   filter); the direct loops read the image itself. With many channels the GEMM wins and stays.

   Every entry has one shape: (dims, a, b, out, lo, hi) -> status, where dims holds the sizes,
   lo ..< hi is the share of the work (rows or planes) one thread does, and the status is
   nonzero when the kernel could not allocate its scratch rows (the caller throws). */
#include "real.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef th_real th_v __attribute__((vector_size(64)));
#define TH_V ((int64_t)(64 / sizeof(th_real)))

static inline th_v th_ld(const th_real *p) { th_v v; memcpy(&v, p, sizeof v); return v; }
static inline void th_st(th_real *p, th_v v) { memcpy(p, &v, sizeof v); }
static inline th_real th_hsum(th_v v) {
    th_real a[TH_V], sum = 0;
    memcpy(a, &v, sizeof v);
    for (int64_t k = 0; k < TH_V; ++k) sum += a[k];
    return sum;
}

/* Both convolution kernels work on tiles of output rows of one image, copied first into
   zero-padded local rows a whole number of vectors wide: then every loop runs on full
   vectors, however narrow the image (LeNet's rows are 24 wide), and the tile stays in
   cache while every filter and tap sweeps it. */
typedef struct {
    int64_t C, H, W, F, KH, KW, OH, OW;
    int64_t OWP;    /* OW rounded up to whole vectors */
    int64_t XW;     /* padded row length of the image tile: OWP + KW - 1 */
    int64_t RT;     /* output rows per tile */
} th_geom;

static th_geom th_geom_make(const int64_t *d) {
    th_geom g = { d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], 0, 0, 0 };
    const int64_t V = TH_V;
    g.OWP = (g.OW + V - 1) / V * V;
    g.XW = g.OWP + g.KW - 1;
    int64_t rt = 32768 / (g.OWP * (g.F + g.C));
    g.RT = rt < 1 ? 1 : (rt > g.OH ? g.OH : rt);
    return g;
}

/* Rows i0 ..< i0+rows+KH-1 of image n, every channel, into xt (C, rows+KH-1, XW). */
static void th_tile_x(const th_geom *g, const th_real *x, int64_t n, int64_t i0, int64_t rows, th_real *xt) {
    const int64_t R = rows + g->KH - 1;
    for (int64_t c = 0; c < g->C; ++c)
        for (int64_t r = 0; r < R; ++r) {
            th_real *dst = xt + (c * R + r) * g->XW;
            memcpy(dst, x + ((n * g->C + c) * g->H + i0 + r) * g->W, (size_t)g->W * sizeof(th_real));
            memset(dst + g->W, 0, (size_t)(g->XW - g->W) * sizeof(th_real));
        }
}

/* Output row r of the tile for filters f0 ..< f0+fb, the fb accumulators in registers
   across every tap; fb is a constant after inlining, so the filter loop unrolls. */
static inline __attribute__((always_inline)) void th_correlate_row(const int fb, const th_geom *g,
        const th_real *xt, int64_t R, int64_t r, const th_real *wp, int64_t f0, th_real *out) {
    const int64_t V = TH_V, F = g->F, KH = g->KH, KW = g->KW, OW = g->OW, plane = g->OH * OW;
    for (int64_t j = 0; j < g->OWP; j += V) {
        th_v acc[8];
        for (int k = 0; k < fb; ++k) acc[k] = (th_v){0};
        for (int64_t c = 0; c < g->C; ++c)
            for (int64_t a = 0; a < KH; ++a) {
                const th_real *row = xt + (c * R + r + a) * g->XW + j;
                const th_real *wt = wp + (c * KH + a) * KW * F + f0;
                for (int64_t b = 0; b < KW; ++b) {
                    const th_v xv = th_ld(row + b);
                    for (int k = 0; k < fb; ++k) acc[k] += xv * wt[b * F + k];
                }
            }
        const int64_t rem = OW - j < V ? OW - j : V;
        for (int k = 0; k < fb; ++k) {
            if (rem == V) th_st(out + k * plane + j, acc[k]);
            else {
                th_real part[TH_V];
                th_st(part, acc[k]);
                memcpy(out + k * plane + j, part, (size_t)rem * sizeof(th_real));
            }
        }
    }
}

int32_t th_correlate(const int64_t *d, const void *xp, const void *wpp, void *yp, int64_t lo, int64_t hi) {
    const th_real *x = xp, *wp = wpp;
    th_real *y = yp;
    const th_geom g = th_geom_make(d);
    th_real *xt = malloc((size_t)(g.C * (g.RT + g.KH - 1) * g.XW) * sizeof(th_real));
    if (!xt) return 1;
    for (int64_t u = lo; u < hi;) {
        const int64_t n = u / g.OH, i0 = u % g.OH;
        int64_t rows = g.OH - i0 < g.RT ? g.OH - i0 : g.RT;
        if (rows > hi - u) rows = hi - u;
        th_tile_x(&g, x, n, i0, rows, xt);
        const int64_t R = rows + g.KH - 1;
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t f0 = 0; f0 < g.F; f0 += 8) {
                th_real *out = y + ((n * g.F + f0) * g.OH + i0 + r) * g.OW;
                switch (g.F - f0 < 8 ? g.F - f0 : 8) {
                case 1: th_correlate_row(1, &g, xt, R, r, wp, f0, out); break;
                case 2: th_correlate_row(2, &g, xt, R, r, wp, f0, out); break;
                case 3: th_correlate_row(3, &g, xt, R, r, wp, f0, out); break;
                case 4: th_correlate_row(4, &g, xt, R, r, wp, f0, out); break;
                case 5: th_correlate_row(5, &g, xt, R, r, wp, f0, out); break;
                case 6: th_correlate_row(6, &g, xt, R, r, wp, f0, out); break;
                case 7: th_correlate_row(7, &g, xt, R, r, wp, f0, out); break;
                default: th_correlate_row(8, &g, xt, R, r, wp, f0, out); break;
                }
            }
        u += rows;
    }
    free(xt);
    return 0;
}

/* acc[b] += Σ_r Σ_j gt[r][j] · xt[r + a][j + b] over the tile, taps b < kb. */
static inline __attribute__((always_inline)) void th_gradw_taps(const int kb, const th_geom *g,
        const th_real *gt, const th_real *xt, int64_t rows, th_v *acc) {
    const int64_t V = TH_V;
    for (int64_t r = 0; r < rows; ++r) {
        const th_real *gr = gt + r * g->OWP, *xr = xt + r * g->XW;
        for (int64_t j = 0; j < g->OWP; j += V) {
            const th_v gv = th_ld(gr + j);
            for (int b = 0; b < kb; ++b) acc[b] += gv * th_ld(xr + j + b);
        }
    }
}

/* dw (F, C, KH, KW) += the correlation of the images with gy over output rows lo ..< hi;
   gy's tile is padded with zeros, so the padding of the image tile adds nothing. */
int32_t th_correlate_gradw(const int64_t *d, const void *xp, const void *gp, void *dwp, int64_t lo, int64_t hi) {
    const th_real *x = xp, *gy = gp;
    th_real *dw = dwp;
    const th_geom g = th_geom_make(d);
    const int64_t F = g.F, C = g.C, KH = g.KH, KW = g.KW;
    th_real *xt = malloc((size_t)(C * (g.RT + KH - 1) * g.XW + F * g.RT * g.OWP) * sizeof(th_real));
    if (!xt) return 1;
    th_real *gt = xt + C * (g.RT + KH - 1) * g.XW;
    for (int64_t u = lo; u < hi;) {
        const int64_t n = u / g.OH, i0 = u % g.OH;
        int64_t rows = g.OH - i0 < g.RT ? g.OH - i0 : g.RT;
        if (rows > hi - u) rows = hi - u;
        th_tile_x(&g, x, n, i0, rows, xt);
        for (int64_t f = 0; f < F; ++f)
            for (int64_t r = 0; r < rows; ++r) {
                th_real *dst = gt + (f * rows + r) * g.OWP;
                memcpy(dst, gy + ((n * F + f) * g.OH + i0 + r) * g.OW, (size_t)g.OW * sizeof(th_real));
                memset(dst + g.OW, 0, (size_t)(g.OWP - g.OW) * sizeof(th_real));
            }
        const int64_t R = rows + KH - 1;
        for (int64_t f = 0; f < F; ++f) for (int64_t c = 0; c < C; ++c) for (int64_t a = 0; a < KH; ++a)
        for (int64_t b0 = 0; b0 < KW; b0 += 8) {
            const int kb = KW - b0 < 8 ? (int)(KW - b0) : 8;
            th_v acc[8];
            for (int b = 0; b < 8; ++b) acc[b] = (th_v){0};
            const th_real *gf = gt + f * rows * g.OWP, *xa = xt + (c * R + a) * g.XW + b0;
            switch (kb) {
            case 1: th_gradw_taps(1, &g, gf, xa, rows, acc); break;
            case 2: th_gradw_taps(2, &g, gf, xa, rows, acc); break;
            case 3: th_gradw_taps(3, &g, gf, xa, rows, acc); break;
            case 4: th_gradw_taps(4, &g, gf, xa, rows, acc); break;
            case 5: th_gradw_taps(5, &g, gf, xa, rows, acc); break;
            case 6: th_gradw_taps(6, &g, gf, xa, rows, acc); break;
            case 7: th_gradw_taps(7, &g, gf, xa, rows, acc); break;
            default: th_gradw_taps(8, &g, gf, xa, rows, acc); break;
            }
            th_real *out = dw + ((f * C + c) * KH + a) * KW + b0;
            for (int b = 0; b < kb; ++b) out[b] += th_hsum(acc[b]);
        }
        u += rows;
    }
    free(xt);
    return 0;
}

/* The larger of two values; NaN wins (as the reference's). */
static inline th_real th_larger(th_real a, th_real b) { return (a > b || a != a) ? a : b; }

/* Window maxima of output row i of one plane: the WH rows first, elementwise (vectorises),
   then each run of WW columns. */
static inline void th_pool_row(const int64_t *d, const th_real *src, int64_t i, th_real *col, th_real *m) {
    const int64_t W = d[1], OW = d[3], WH = d[4], WW = d[5], span = OW * WW;
    const th_real *r0 = src + i * WH * W;
    for (int64_t k = 0; k < span; ++k) col[k] = r0[k];
    for (int64_t u = 1; u < WH; ++u) {
        const th_real *r = r0 + u * W;
        for (int64_t k = 0; k < span; ++k) col[k] = th_larger(r[k], col[k]);
    }
    for (int64_t j = 0; j < OW; ++j) {
        th_real v = col[j * WW];
        for (int64_t q = 1; q < WW; ++q) v = th_larger(col[j * WW + q], v);
        m[j] = v;
    }
}

int32_t th_maxpool(const int64_t *d, const void *xp, const void *unused, void *yp, int64_t lo, int64_t hi) {
    (void)unused;
    const th_real *x = xp;
    th_real *y = yp;
    const int64_t H = d[0], W = d[1], OH = d[2], OW = d[3], WW = d[5];
    th_real *col = malloc((size_t)(OW * WW + 1) * sizeof(th_real));
    if (!col) return 1;
    for (int64_t p = lo; p < hi; ++p)
        for (int64_t i = 0; i < OH; ++i) th_pool_row(d, x + p * H * W, i, col, y + (p * OH + i) * OW);
    free(col);
    return 0;
}

/* Each window's gradient goes to its first maximum in row-major order (its first NaN, if
   any); pixels no window covers get 0. Per output row: each column's maximum over the
   window rows and the first row reaching it (vectorised), then per window the column
   whose (row, column) comes first among those holding the maximum, then one vectorised
   write of every image row. Ties (zero backgrounds) cost nothing extra. */
int32_t th_maxpool_grad(const int64_t *d, const void *xp, const void *gp, void *dxp, int64_t lo, int64_t hi) {
    const th_real *x = xp, *gy = gp;
    th_real *dx = dxp;
    const int64_t H = d[0], W = d[1], OH = d[2], OW = d[3], WH = d[4], WW = d[5], span = OW * WW;
    th_real *cm = malloc((size_t)(2 * span + 1) * sizeof(th_real));
    th_lane_int *ca = malloc((size_t)(2 * span + 1) * sizeof(th_lane_int));
    if (!cm || !ca) { free(cm); free(ca); return 1; }
    th_real *gx = cm + span;
    th_lane_int *target = ca + span;
    for (int64_t p = lo; p < hi; ++p) {
        const th_real *src = x + p * H * W, *g = gy + p * OH * OW;
        th_real *dst = dx + p * H * W;
        for (int64_t i = 0; i < OH; ++i) {
            const th_real *r0 = src + i * WH * W;
            for (int64_t k = 0; k < span; ++k) { cm[k] = r0[k]; ca[k] = 0; }
            for (int64_t u = 1; u < WH; ++u) {
                const th_real *r = r0 + u * W;
                for (int64_t k = 0; k < span; ++k) {
                    const th_real e = r[k], c = cm[k];
                    const int take = c == c && (e > c || e != e);
                    cm[k] = take ? e : c;
                    ca[k] = take ? (th_lane_int)u : ca[k];
                }
            }
            for (int64_t j = 0; j < OW; ++j) {
                const int64_t k0 = j * WW;
                int64_t best = k0;
                for (int64_t k = k0 + 1; k < k0 + WW; ++k) {
                    const th_real c = cm[k], m = cm[best];
                    const int better = m == m && (c > m || c != c);
                    const int same = c == m || (c != c && m != m);
                    if (better || (same && ca[k] < ca[best])) best = k;
                }
                for (int64_t k = k0; k < k0 + WW; ++k) { target[k] = k == best ? ca[k] : -1; gx[k] = g[i * OW + j]; }
            }
            for (int64_t u = 0; u < WH; ++u) {
                th_real *o = dst + (i * WH + u) * W;
                for (int64_t k = 0; k < span; ++k) o[k] = target[k] == (th_lane_int)u ? gx[k] : 0;
                for (int64_t k = span; k < W; ++k) o[k] = 0;
            }
        }
        for (int64_t k = OH * WH * W; k < H * W; ++k) dst[k] = 0;
    }
    free(ca);
    free(cm);
    return 0;
}
