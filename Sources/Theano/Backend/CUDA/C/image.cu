/* Convolutions and pooling on the device, for one element type (float unless TH_DOUBLE is
   defined), as direct loops: one thread per output element, sums in double. Every operand is
   contiguous. The convolution's three roles (0 forward, 1 gradient of the inputs, 2 gradient of
   the filters) gather rather than scatter, so no atomics are needed; a filter tap (p, q) reads
   the image at (i*stride - pad + p*dilation) and, for a real convolution (flip), the filter at
   (kh-1-p, kw-1-q). */

struct th_conv_args {
    const char *a, *b; /* forward: x, w; grad inputs: gy, w; grad filters: x, gy */
    char *out;
    long long batch, channels, height, width, filters, kh, kw, out_h, out_w;
    long long pad_h, pad_w, stride_h, stride_w, dil_h, dil_w, flip, role;
};

TH_FN long long th_tap(long long p, long long k, long long flip) { return flip ? k - 1 - p : p; }

TH_FN void th_conv_thread(const struct th_conv_args a, double *sum) {
    const th_real *A = (const th_real *)a.a, *B = (const th_real *)a.b;
    th_real *out = (th_real *)a.out;
    long long total = a.role == 0   ? a.batch * a.filters * a.out_h * a.out_w
                      : a.role == 1 ? a.batch * a.channels * a.height * a.width
                                    : a.filters * a.channels * a.kh * a.kw;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)gridDim.x * blockDim.x) {
        double s = 0;
        if (a.role == 0) { /* y[n, f, i, j] */
            long long j = e % a.out_w, i = e / a.out_w % a.out_h, f = e / (a.out_w * a.out_h) % a.filters;
            long long n = e / (a.out_w * a.out_h * a.filters);
            for (long long c = 0; c < a.channels; ++c)
                for (long long p = 0; p < a.kh; ++p) {
                    long long r = i * a.stride_h - a.pad_h + p * a.dil_h;
                    if (r < 0 || r >= a.height) continue;
                    for (long long q = 0; q < a.kw; ++q) {
                        long long t = j * a.stride_w - a.pad_w + q * a.dil_w;
                        if (t < 0 || t >= a.width) continue;
                        s += (double)A[((n * a.channels + c) * a.height + r) * a.width + t]
                             * (double)B[((f * a.channels + c) * a.kh + th_tap(p, a.kh, a.flip)) * a.kw
                                         + th_tap(q, a.kw, a.flip)];
                    }
                }
        } else if (a.role == 1) { /* gx[n, c, r, t] from gy (A) and w (B) */
            long long t = e % a.width, r = e / a.width % a.height, c = e / (a.width * a.height) % a.channels;
            long long n = e / (a.width * a.height * a.channels);
            for (long long f = 0; f < a.filters; ++f)
                for (long long p = 0; p < a.kh; ++p) {
                    long long ii = r + a.pad_h - p * a.dil_h;
                    if (ii < 0 || ii % a.stride_h || ii / a.stride_h >= a.out_h) continue;
                    for (long long q = 0; q < a.kw; ++q) {
                        long long jj = t + a.pad_w - q * a.dil_w;
                        if (jj < 0 || jj % a.stride_w || jj / a.stride_w >= a.out_w) continue;
                        s += (double)A[((n * a.filters + f) * a.out_h + ii / a.stride_h) * a.out_w + jj / a.stride_w]
                             * (double)B[((f * a.channels + c) * a.kh + th_tap(p, a.kh, a.flip)) * a.kw
                                         + th_tap(q, a.kw, a.flip)];
                    }
                }
        } else { /* gw[f, c, u, v] from x (A) and gy (B) */
            long long v = e % a.kw, u = e / a.kw % a.kh, c = e / (a.kw * a.kh) % a.channels;
            long long f = e / (a.kw * a.kh * a.channels);
            long long p = th_tap(u, a.kh, a.flip), q = th_tap(v, a.kw, a.flip);
            for (long long n = 0; n < a.batch; ++n)
                for (long long i = 0; i < a.out_h; ++i) {
                    long long r = i * a.stride_h - a.pad_h + p * a.dil_h;
                    if (r < 0 || r >= a.height) continue;
                    for (long long j = 0; j < a.out_w; ++j) {
                        long long t = j * a.stride_w - a.pad_w + q * a.dil_w;
                        if (t < 0 || t >= a.width) continue;
                        s += (double)A[((n * a.channels + c) * a.height + r) * a.width + t]
                             * (double)B[((n * a.filters + f) * a.out_h + i) * a.out_w + j];
                    }
                }
        }
        out[e] = (th_real)s;
    }
    *sum = 0;
}

TH_KERNEL void th_conv(struct th_conv_args a) {
    double unused;
    th_conv_thread(a, &unused);
}

/* Pooling over the last two axes of contiguous planes: mode 0 max (the first maximum; NaN
   wins), 1 average including padding, 2 average excluding it. grad 0 pools x into out; grad 1
   writes the gradient of x from gy (b) into out, each pixel gathering from the windows that hold
   it in window order, as the CPU's scatter adds them; grad 2 (max only) picks h (b, x's shape) at
   each window's first maximum. */
struct th_pool_args {
    const char *x, *b;
    char *out;
    long long planes, height, width, out_h, out_w;
    long long win_h, win_w, stride_h, stride_w, pad_h, pad_w, mode, grad;
};

/* Rows lo..hi of window i and the count a mean divides by. */
TH_FN void th_span(long long i, long long n, long long w, long long s, long long p, long long mode, long long *lo,
                   long long *hi, long long *count) {
    long long start = i * s - p, end = start + w;
    *lo = start > 0 ? start : 0;
    *hi = end < n ? end : n;
    *count = mode == 1 ? (end < n + p ? end : n + p) - start : *hi - *lo;
}

/* The offset in its plane of window (i, j)'s first maximum (its first NaN, if any). */
TH_FN long long th_window_argmax(const th_real *x, const struct th_pool_args a, long long i, long long j) {
    long long rlo, rhi, rc, clo, chi, cc;
    th_span(i, a.height, a.win_h, a.stride_h, a.pad_h, a.mode, &rlo, &rhi, &rc);
    th_span(j, a.width, a.win_w, a.stride_w, a.pad_w, a.mode, &clo, &chi, &cc);
    th_real m = -INFINITY;
    long long at = rlo * a.width + clo;
    for (long long u = rlo; u < rhi; ++u)
        for (long long v = clo; v < chi; ++v) {
            th_real e = x[u * a.width + v];
            if (e != e) return u * a.width + v;
            if (e > m) {
                m = e;
                at = u * a.width + v;
            }
        }
    return at;
}

TH_FN void th_pool_thread(const struct th_pool_args a, double *sum) {
    long long total = a.grad == 1 ? a.planes * a.height * a.width : a.planes * a.out_h * a.out_w;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)gridDim.x * blockDim.x) {
        if (a.grad == 2) { /* max pooling's second order: h (b) at each window's first maximum */
            long long j = e % a.out_w, i = e / a.out_w % a.out_h, plane = e / (a.out_w * a.out_h);
            const th_real *x = (const th_real *)a.x + plane * a.height * a.width;
            const th_real *h = (const th_real *)a.b + plane * a.height * a.width;
            ((th_real *)a.out)[e] = h[th_window_argmax(x, a, i, j)];
        } else if (!a.grad) {
            long long j = e % a.out_w, i = e / a.out_w % a.out_h, plane = e / (a.out_w * a.out_h);
            const th_real *x = (const th_real *)a.x + plane * a.height * a.width;
            long long rlo, rhi, rc, clo, chi, cc;
            th_span(i, a.height, a.win_h, a.stride_h, a.pad_h, a.mode, &rlo, &rhi, &rc);
            th_span(j, a.width, a.win_w, a.stride_w, a.pad_w, a.mode, &clo, &chi, &cc);
            th_real r;
            if (a.mode == 0) {
                r = rlo >= rhi || clo >= chi ? -INFINITY : x[th_window_argmax(x, a, i, j)];
            } else {
                th_real total_ = 0;
                for (long long u = rlo; u < rhi; ++u)
                    for (long long v = clo; v < chi; ++v) total_ += x[u * a.width + v];
                r = total_ / (th_real)(rc * cc);
            }
            ((th_real *)a.out)[e] = r;
        } else {
            long long v = e % a.width, u = e / a.width % a.height, plane = e / (a.width * a.height);
            const th_real *x = (const th_real *)a.x + plane * a.height * a.width;
            const th_real *g = (const th_real *)a.b + plane * a.out_h * a.out_w;
            th_real s = 0;
            for (long long i = 0; i < a.out_h; ++i) {
                long long rlo, rhi, rc;
                th_span(i, a.height, a.win_h, a.stride_h, a.pad_h, a.mode, &rlo, &rhi, &rc);
                if (u < rlo || u >= rhi) continue;
                for (long long j = 0; j < a.out_w; ++j) {
                    long long clo, chi, cc;
                    th_span(j, a.width, a.win_w, a.stride_w, a.pad_w, a.mode, &clo, &chi, &cc);
                    if (v < clo || v >= chi) continue;
                    if (a.mode == 0) {
                        if (th_window_argmax(x, a, i, j) == u * a.width + v) s += g[i * a.out_w + j];
                    } else {
                        s += g[i * a.out_w + j] / (th_real)(rc * cc);
                    }
                }
            }
            ((th_real *)a.out)[e] = s;
        }
    }
    *sum = 0;
}

TH_KERNEL void th_pool(struct th_pool_args a) {
    double unused;
    th_pool_thread(a, &unused);
}
