import NDArray

/// Native kernels for convolutions with few input channels and for tiled max pooling: fixed C
/// code in the kernel cache, like the softmax family, written with the compiler's 64-byte vector
/// extension so that `-march=native` gives AVX-512 here and narrower vectors elsewhere.
///
/// Why these and not more: im2col turns a one-channel convolution into a GEMM with a handful of
/// rows that rereads a lowered copy `kh·kw` times the image (12 MB per 256×256 image for a 7×7
/// filter); the direct loops read the image itself. With many channels the GEMM wins and stays.
/// The Swift loops in `Tensor/Conv` are the reference DEBUG mode compares these with.
///
/// Every entry has one shape: `(dims, a, b, out, lo, hi) -> status`, where `dims` holds the
/// sizes, `lo ..< hi` is the share of the work (rows or planes) one thread does, and the status
/// is nonzero when the kernel could not allocate its scratch rows (the caller throws).
struct ImageKernels: @unchecked Sendable {
    typealias Entry = @convention(c) (UnsafePointer<Int64>?, UnsafeRawPointer?, UnsafeRawPointer?, UnsafeMutableRawPointer?, Int64, Int64) -> Int32

    /// y = x ⋆ w for output rows lo..<hi (dims C H W F KH KW OH OW; w packed tap-major).
    var correlate: Entry?
    /// dw += Σ gy · x over output rows lo..<hi (dims as `correlate`; dw in (F, C, KH, KW)).
    var correlateGradFilters: Entry?
    /// Max over windows that tile the planes lo..<hi (dims H W OH OW WH WW).
    var maxPool: Entry?
    /// Gradient of ``maxPool``: each window's gradient to its first maximum.
    var maxPoolGrad: Entry?

    init() {}

    /// The first element of a float32 or float64 array, untyped, for an ``Entry``.
    static func pointer(_ a: NDArray) -> UnsafeMutableRawPointer {
        a.dtype == .float32 ? UnsafeMutableRawPointer(a.basePointer(as: Float.self)) : UnsafeMutableRawPointer(a.basePointer(as: Double.self))
    }

    init(_ module: NativeModule, suffix s: String) throws {
        func sym(_ name: String) throws -> Entry {
            guard let p = module.symbol(name) else { throw TheanoError(.compile, "\(module.path) has no symbol \(name)") }
            return unsafeBitCast(p, to: Entry.self)
        }
        correlate = try sym("th_correlate_\(s)")
        correlateGradFilters = try sym("th_correlate_gradw_\(s)")
        maxPool = try sym("th_maxpool_\(s)")
        maxPoolGrad = try sym("th_maxpool_grad_\(s)")
    }

    /// The C source for one element type (`t` the C type, `s` the symbol suffix).
    static func source(_ t: String, _ s: String) -> String {
        // Window positions in a lane as wide as the element, so that selects vectorise.
        let it = t == "float" ? "int32_t" : "int64_t"
        return """
        #include <stdint.h>
        #include <stdlib.h>
        #include <string.h>

        typedef \(t) th_v_\(s) __attribute__((vector_size(64)));
        #define TH_V_\(s) ((int64_t)(64 / sizeof(\(t))))

        static inline th_v_\(s) th_ld_\(s)(const \(t) *p) { th_v_\(s) v; memcpy(&v, p, sizeof v); return v; }
        static inline void th_st_\(s)(\(t) *p, th_v_\(s) v) { memcpy(p, &v, sizeof v); }
        static inline \(t) th_hsum_\(s)(th_v_\(s) v) {
            \(t) a[TH_V_\(s)], sum = 0;
            memcpy(a, &v, sizeof v);
            for (int64_t k = 0; k < TH_V_\(s); ++k) sum += a[k];
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
        } th_geom_\(s);

        static th_geom_\(s) th_geom_make_\(s)(const int64_t *d) {
            th_geom_\(s) g = { d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], 0, 0, 0 };
            const int64_t V = TH_V_\(s);
            g.OWP = (g.OW + V - 1) / V * V;
            g.XW = g.OWP + g.KW - 1;
            int64_t rt = 32768 / (g.OWP * (g.F + g.C));
            g.RT = rt < 1 ? 1 : (rt > g.OH ? g.OH : rt);
            return g;
        }

        /* Rows i0 ..< i0+rows+KH-1 of image n, every channel, into xt (C, rows+KH-1, XW). */
        static void th_tile_x_\(s)(const th_geom_\(s) *g, const \(t) *x, int64_t n, int64_t i0, int64_t rows, \(t) *xt) {
            const int64_t R = rows + g->KH - 1;
            for (int64_t c = 0; c < g->C; ++c)
                for (int64_t r = 0; r < R; ++r) {
                    \(t) *dst = xt + (c * R + r) * g->XW;
                    memcpy(dst, x + ((n * g->C + c) * g->H + i0 + r) * g->W, (size_t)g->W * sizeof(\(t)));
                    memset(dst + g->W, 0, (size_t)(g->XW - g->W) * sizeof(\(t)));
                }
        }

        /* Output row r of the tile for filters f0 ..< f0+fb, the fb accumulators in registers
           across every tap; fb is a constant after inlining, so the filter loop unrolls. */
        static inline __attribute__((always_inline)) void th_correlate_row_\(s)(const int fb, const th_geom_\(s) *g,
                const \(t) *xt, int64_t R, int64_t r, const \(t) *wp, int64_t f0, \(t) *out) {
            const int64_t V = TH_V_\(s), F = g->F, KH = g->KH, KW = g->KW, OW = g->OW, plane = g->OH * OW;
            for (int64_t j = 0; j < g->OWP; j += V) {
                th_v_\(s) acc[8];
                for (int k = 0; k < fb; ++k) acc[k] = (th_v_\(s)){0};
                for (int64_t c = 0; c < g->C; ++c)
                    for (int64_t a = 0; a < KH; ++a) {
                        const \(t) *row = xt + (c * R + r + a) * g->XW + j;
                        const \(t) *wt = wp + (c * KH + a) * KW * F + f0;
                        for (int64_t b = 0; b < KW; ++b) {
                            const th_v_\(s) xv = th_ld_\(s)(row + b);
                            for (int k = 0; k < fb; ++k) acc[k] += xv * wt[b * F + k];
                        }
                    }
                const int64_t rem = OW - j < V ? OW - j : V;
                for (int k = 0; k < fb; ++k) {
                    if (rem == V) th_st_\(s)(out + k * plane + j, acc[k]);
                    else { \(t) part[TH_V_\(s)]; th_st_\(s)(part, acc[k]); memcpy(out + k * plane + j, part, (size_t)rem * sizeof(\(t))); }
                }
            }
        }

        int32_t th_correlate_\(s)(const int64_t *d, const void *xp, const void *wpp, void *yp, int64_t lo, int64_t hi) {
            const \(t) *x = xp, *wp = wpp;
            \(t) *y = yp;
            const th_geom_\(s) g = th_geom_make_\(s)(d);
            \(t) *xt = malloc((size_t)(g.C * (g.RT + g.KH - 1) * g.XW) * sizeof(\(t)));
            if (!xt) return 1;
            for (int64_t u = lo; u < hi;) {
                const int64_t n = u / g.OH, i0 = u % g.OH;
                int64_t rows = g.OH - i0 < g.RT ? g.OH - i0 : g.RT;
                if (rows > hi - u) rows = hi - u;
                th_tile_x_\(s)(&g, x, n, i0, rows, xt);
                const int64_t R = rows + g.KH - 1;
                for (int64_t r = 0; r < rows; ++r)
                    for (int64_t f0 = 0; f0 < g.F; f0 += 8) {
                        \(t) *out = y + ((n * g.F + f0) * g.OH + i0 + r) * g.OW;
                        switch (g.F - f0 < 8 ? g.F - f0 : 8) {
                        case 1: th_correlate_row_\(s)(1, &g, xt, R, r, wp, f0, out); break;
                        case 2: th_correlate_row_\(s)(2, &g, xt, R, r, wp, f0, out); break;
                        case 3: th_correlate_row_\(s)(3, &g, xt, R, r, wp, f0, out); break;
                        case 4: th_correlate_row_\(s)(4, &g, xt, R, r, wp, f0, out); break;
                        case 5: th_correlate_row_\(s)(5, &g, xt, R, r, wp, f0, out); break;
                        case 6: th_correlate_row_\(s)(6, &g, xt, R, r, wp, f0, out); break;
                        case 7: th_correlate_row_\(s)(7, &g, xt, R, r, wp, f0, out); break;
                        default: th_correlate_row_\(s)(8, &g, xt, R, r, wp, f0, out); break;
                        }
                    }
                u += rows;
            }
            free(xt);
            return 0;
        }

        /* acc[b] += Σ_r Σ_j gt[r][j] · xt[r + a][j + b] over the tile, taps b < kb. */
        static inline __attribute__((always_inline)) void th_gradw_taps_\(s)(const int kb, const th_geom_\(s) *g,
                const \(t) *gt, const \(t) *xt, int64_t rows, th_v_\(s) *acc) {
            const int64_t V = TH_V_\(s);
            for (int64_t r = 0; r < rows; ++r) {
                const \(t) *gr = gt + r * g->OWP, *xr = xt + r * g->XW;
                for (int64_t j = 0; j < g->OWP; j += V) {
                    const th_v_\(s) gv = th_ld_\(s)(gr + j);
                    for (int b = 0; b < kb; ++b) acc[b] += gv * th_ld_\(s)(xr + j + b);
                }
            }
        }

        /* dw (F, C, KH, KW) += the correlation of the images with gy over output rows lo ..< hi;
           gy's tile is padded with zeros, so the padding of the image tile adds nothing. */
        int32_t th_correlate_gradw_\(s)(const int64_t *d, const void *xp, const void *gp, void *dwp, int64_t lo, int64_t hi) {
            const \(t) *x = xp, *gy = gp;
            \(t) *dw = dwp;
            const th_geom_\(s) g = th_geom_make_\(s)(d);
            const int64_t F = g.F, C = g.C, KH = g.KH, KW = g.KW;
            \(t) *xt = malloc((size_t)(C * (g.RT + KH - 1) * g.XW + F * g.RT * g.OWP) * sizeof(\(t)));
            if (!xt) return 1;
            \(t) *gt = xt + C * (g.RT + KH - 1) * g.XW;
            for (int64_t u = lo; u < hi;) {
                const int64_t n = u / g.OH, i0 = u % g.OH;
                int64_t rows = g.OH - i0 < g.RT ? g.OH - i0 : g.RT;
                if (rows > hi - u) rows = hi - u;
                th_tile_x_\(s)(&g, x, n, i0, rows, xt);
                for (int64_t f = 0; f < F; ++f)
                    for (int64_t r = 0; r < rows; ++r) {
                        \(t) *dst = gt + (f * rows + r) * g.OWP;
                        memcpy(dst, gy + ((n * F + f) * g.OH + i0 + r) * g.OW, (size_t)g.OW * sizeof(\(t)));
                        memset(dst + g.OW, 0, (size_t)(g.OWP - g.OW) * sizeof(\(t)));
                    }
                const int64_t R = rows + KH - 1;
                for (int64_t f = 0; f < F; ++f) for (int64_t c = 0; c < C; ++c) for (int64_t a = 0; a < KH; ++a)
                for (int64_t b0 = 0; b0 < KW; b0 += 8) {
                    const int kb = KW - b0 < 8 ? (int)(KW - b0) : 8;
                    th_v_\(s) acc[8];
                    for (int b = 0; b < 8; ++b) acc[b] = (th_v_\(s)){0};
                    const \(t) *gf = gt + f * rows * g.OWP, *xa = xt + (c * R + a) * g.XW + b0;
                    switch (kb) {
                    case 1: th_gradw_taps_\(s)(1, &g, gf, xa, rows, acc); break;
                    case 2: th_gradw_taps_\(s)(2, &g, gf, xa, rows, acc); break;
                    case 3: th_gradw_taps_\(s)(3, &g, gf, xa, rows, acc); break;
                    case 4: th_gradw_taps_\(s)(4, &g, gf, xa, rows, acc); break;
                    case 5: th_gradw_taps_\(s)(5, &g, gf, xa, rows, acc); break;
                    case 6: th_gradw_taps_\(s)(6, &g, gf, xa, rows, acc); break;
                    case 7: th_gradw_taps_\(s)(7, &g, gf, xa, rows, acc); break;
                    default: th_gradw_taps_\(s)(8, &g, gf, xa, rows, acc); break;
                    }
                    \(t) *out = dw + ((f * C + c) * KH + a) * KW + b0;
                    for (int b = 0; b < kb; ++b) out[b] += th_hsum_\(s)(acc[b]);
                }
                u += rows;
            }
            free(xt);
            return 0;
        }

        /* The larger of two values; NaN wins (as the reference's). */
        static inline \(t) th_larger_\(s)(\(t) a, \(t) b) { return (a > b || a != a) ? a : b; }

        /* Window maxima of output row i of one plane: the WH rows first, elementwise (vectorises),
           then each run of WW columns. */
        static inline void th_pool_row_\(s)(const int64_t *d, const \(t) *src, int64_t i, \(t) *col, \(t) *m) {
            const int64_t W = d[1], OW = d[3], WH = d[4], WW = d[5], span = OW * WW;
            const \(t) *r0 = src + i * WH * W;
            for (int64_t k = 0; k < span; ++k) col[k] = r0[k];
            for (int64_t u = 1; u < WH; ++u) {
                const \(t) *r = r0 + u * W;
                for (int64_t k = 0; k < span; ++k) col[k] = th_larger_\(s)(r[k], col[k]);
            }
            for (int64_t j = 0; j < OW; ++j) {
                \(t) v = col[j * WW];
                for (int64_t q = 1; q < WW; ++q) v = th_larger_\(s)(col[j * WW + q], v);
                m[j] = v;
            }
        }

        int32_t th_maxpool_\(s)(const int64_t *d, const void *xp, const void *unused, void *yp, int64_t lo, int64_t hi) {
            (void)unused;
            const \(t) *x = xp;
            \(t) *y = yp;
            const int64_t H = d[0], W = d[1], OH = d[2], OW = d[3], WW = d[5];
            \(t) *col = malloc((size_t)(OW * WW + 1) * sizeof(\(t)));
            if (!col) return 1;
            for (int64_t p = lo; p < hi; ++p)
                for (int64_t i = 0; i < OH; ++i) th_pool_row_\(s)(d, x + p * H * W, i, col, y + (p * OH + i) * OW);
            free(col);
            return 0;
        }

        /* Each window's gradient goes to its first maximum in row-major order (its first NaN, if
           any); pixels no window covers get 0. Per output row: each column's maximum over the
           window rows and the first row reaching it (vectorised), then per window the column
           whose (row, column) comes first among those holding the maximum, then one vectorised
           write of every image row. Ties (zero backgrounds) cost nothing extra. */
        int32_t th_maxpool_grad_\(s)(const int64_t *d, const void *xp, const void *gp, void *dxp, int64_t lo, int64_t hi) {
            const \(t) *x = xp, *gy = gp;
            \(t) *dx = dxp;
            const int64_t H = d[0], W = d[1], OH = d[2], OW = d[3], WH = d[4], WW = d[5], span = OW * WW;
            \(t) *cm = malloc((size_t)(2 * span + 1) * sizeof(\(t)));
            \(it) *ca = malloc((size_t)(2 * span + 1) * sizeof(\(it)));
            if (!cm || !ca) { free(cm); free(ca); return 1; }
            \(t) *gx = cm + span;
            \(it) *target = ca + span;
            for (int64_t p = lo; p < hi; ++p) {
                const \(t) *src = x + p * H * W, *g = gy + p * OH * OW;
                \(t) *dst = dx + p * H * W;
                for (int64_t i = 0; i < OH; ++i) {
                    const \(t) *r0 = src + i * WH * W;
                    for (int64_t k = 0; k < span; ++k) { cm[k] = r0[k]; ca[k] = 0; }
                    for (int64_t u = 1; u < WH; ++u) {
                        const \(t) *r = r0 + u * W;
                        for (int64_t k = 0; k < span; ++k) {
                            const \(t) e = r[k], c = cm[k];
                            const int take = c == c && (e > c || e != e);
                            cm[k] = take ? e : c;
                            ca[k] = take ? (\(it))u : ca[k];
                        }
                    }
                    for (int64_t j = 0; j < OW; ++j) {
                        const int64_t k0 = j * WW;
                        int64_t best = k0;
                        for (int64_t k = k0 + 1; k < k0 + WW; ++k) {
                            const \(t) c = cm[k], m = cm[best];
                            const int better = m == m && (c > m || c != c);
                            const int same = c == m || (c != c && m != m);
                            if (better || (same && ca[k] < ca[best])) best = k;
                        }
                        for (int64_t k = k0; k < k0 + WW; ++k) { target[k] = k == best ? ca[k] : -1; gx[k] = g[i * OW + j]; }
                    }
                    for (int64_t u = 0; u < WH; ++u) {
                        \(t) *o = dst + (i * WH + u) * W;
                        for (int64_t k = 0; k < span; ++k) o[k] = target[k] == (\(it))u ? gx[k] : 0;
                        for (int64_t k = span; k < W; ++k) o[k] = 0;
                    }
                }
                for (int64_t k = OH * WH * W; k < H * W; ++k) dst[k] = 0;
            }
            free(ca);
            free(cm);
            return 0;
        }

        """
    }
}

/// An op that runs through the image kernels when its shapes suit them, else its reference.
protocol ImageKernelOp: Op {
    func perform(_ inputs: [NDArray], reusing buffers: [NDArray?], native: FixedKernels?) throws -> [NDArray]
}

extension Conv2d: ImageKernelOp {}
extension Pool2d: ImageKernelOp {}

/// A convolution node (direct loops for few channels, ``DirectConv``) or a pooling node (tiled
/// max pooling) through the native image kernels.
struct ImageKernel: NativeKernel {
    let rows: FixedKernels
    let op: any ImageKernelOp

    func run(_ inputs: [NDArray], into buffers: [NDArray?]) throws -> [NDArray] {
        try op.perform(inputs, reusing: buffers, native: rows)
    }
}
