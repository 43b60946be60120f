/* Reductions over a block of adjacent axes on the device, for one element type (float unless
   TH_DOUBLE is defined): the input is a contiguous (outer, n, inner) block, and each thread
   computes whole output elements, as the CPU's reduce.c does: sums and means accumulate in
   double, max and min propagate NaN. */

struct th_reduce_args {
    const char *x;
    char *out;
    long long outer;
    long long n;
    long long inner;
    long long kind; /* 0 sum, 1 mean, 2 max, 3 min, 4 product */
};

TH_FN void th_reduce_thread(const struct th_reduce_args a, double *sum) {
    const th_real *x = (const th_real *)a.x;
    th_real *out = (th_real *)a.out;
    for (long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x; j < a.outer * a.inner;
         j += (long long)gridDim.x * blockDim.x) {
        const th_real *p = x + (j / a.inner) * a.n * a.inner + j % a.inner;
        if (a.kind <= 1) {
            double s = 0;
            for (long long k = 0; k < a.n; ++k) s += (double)p[k * a.inner];
            out[j] = (th_real)(a.kind == 1 ? s / (double)a.n : s);
        } else if (a.kind == 4) {
            double s = 1;
            for (long long k = 0; k < a.n; ++k) s *= (double)p[k * a.inner];
            out[j] = (th_real)s;
        } else {
            const int is_max = a.kind == 2;
            th_real e = is_max ? -INFINITY : INFINITY;
            int nan = 0;
            for (long long k = 0; k < a.n; ++k) {
                th_real v = p[k * a.inner];
                e = is_max ? (v > e ? v : e) : (v < e ? v : e);
                nan |= v != v;
            }
            out[j] = nan ? (th_real)NAN : e;
        }
    }
    *sum = 0;
}

TH_KERNEL void th_reduce(struct th_reduce_args a) {
    double unused;
    th_reduce_thread(a, &unused);
}

/* The first position of the maximum (kind 1) or minimum (kind 0) over n, as the CPU's
   th_argreduce: the first NaN wins. One thread per output element. */
struct th_argreduce_args {
    const char *x;
    char *out;
    long long outer;
    long long n;
    long long inner;
    long long is_max;
};

TH_FN void th_argreduce_thread(const struct th_argreduce_args a, double *sum) {
    const th_real *x = (const th_real *)a.x;
    long long *out = (long long *)a.out;
    for (long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x; j < a.outer * a.inner;
         j += (long long)gridDim.x * blockDim.x) {
        const th_real *p = x + (j / a.inner) * a.n * a.inner + j % a.inner;
        long long best = 0;
        th_real bv = p[0];
        if (bv == bv) {
            for (long long k = 1; k < a.n; ++k) {
                th_real v = p[k * a.inner];
                if (v != v) {
                    best = k;
                    break;
                }
                if (a.is_max ? v > bv : v < bv) {
                    best = k;
                    bv = v;
                }
            }
        }
        out[j] = best;
    }
    *sum = 0;
}

TH_KERNEL void th_argreduce(struct th_argreduce_args a) {
    double unused;
    th_argreduce_thread(a, &unused);
}
