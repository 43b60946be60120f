/* Row-wise neural-network kernels on the device, for one element type (float unless TH_DOUBLE is
   defined), one thread per row, each row's sums in double as the CPU's kernels keep them:
   softmax and log-softmax, the fused softmax cross-entropy and its gradient, and a fill for
   alloc. Matrices come with their strides in elements; labels are integers of label_bytes bytes.
   A label outside [-cols, cols) gives NaN (the CPU's kernels throw; a kernel cannot). */

TH_FN long long th_label(const char *y, long long i, long long bytes) {
    const char *p = y + i * bytes;
    switch (bytes) {
    case 1: return *(const signed char *)p;
    case 2: return *(const short *)p;
    case 4: return *(const int *)p;
    default: return *(const long long *)p;
    }
}

/* The row's maximum (0 when it is infinite, so that a row of -inf stays finite) and the sum of
   exp(z - max). */
TH_FN double th_row_lse(const th_real *z, long long cols, long long s1, double *mx) {
    double m = -INFINITY;
    for (long long j = 0; j < cols; ++j)
        if ((double)z[j * s1] > m) m = (double)z[j * s1];
    if (m == INFINITY || m == -INFINITY) m = 0;
    double s = 0;
    for (long long j = 0; j < cols; ++j) s += exp((double)z[j * s1] - m);
    *mx = m;
    return s;
}

struct th_softmax_args {
    const char *x;
    char *out;
    long long rows, cols, s0, s1;
    long long log;
};

TH_FN void th_softmax_thread(const struct th_softmax_args a, double *sum) {
    for (long long r = blockIdx.x * (long long)blockDim.x + threadIdx.x; r < a.rows;
         r += (long long)gridDim.x * blockDim.x) {
        const th_real *z = (const th_real *)a.x + r * a.s0;
        th_real *o = (th_real *)a.out + r * a.cols;
        double m;
        double s = th_row_lse(z, a.cols, a.s1, &m);
        double ls = log(s);
        for (long long j = 0; j < a.cols; ++j) {
            double d = (double)z[j * a.s1] - m;
            o[j] = (th_real)(a.log ? d - ls : exp(d) / s);
        }
    }
    *sum = 0;
}

TH_KERNEL void th_softmax(struct th_softmax_args a) {
    double unused;
    th_softmax_thread(a, &unused);
}

struct th_xent_args {
    const char *z, *y, *g;
    char *out;
    long long rows, cols, s0, s1, ys, gs, label_bytes;
};

/* logsumexp(row) - row[label]. */
TH_FN void th_xent_thread(const struct th_xent_args a, double *sum) {
    for (long long r = blockIdx.x * (long long)blockDim.x + threadIdx.x; r < a.rows;
         r += (long long)gridDim.x * blockDim.x) {
        const th_real *z = (const th_real *)a.z + r * a.s0;
        long long k = th_label(a.y, r * a.ys, a.label_bytes);
        if (k < 0) k += a.cols;
        double m;
        double s = th_row_lse(z, a.cols, a.s1, &m);
        ((th_real *)a.out)[r] = k < 0 || k >= a.cols ? (th_real)NAN : (th_real)(m + log(s) - (double)z[k * a.s1]);
    }
    *sum = 0;
}

TH_KERNEL void th_xent(struct th_xent_args a) {
    double unused;
    th_xent_thread(a, &unused);
}

/* (softmax(row) - onehot(label)) * g[row]. */
TH_FN void th_xent_grad_thread(const struct th_xent_args a, double *sum) {
    for (long long r = blockIdx.x * (long long)blockDim.x + threadIdx.x; r < a.rows;
         r += (long long)gridDim.x * blockDim.x) {
        const th_real *z = (const th_real *)a.z + r * a.s0;
        th_real *o = (th_real *)a.out + r * a.cols;
        th_real g = ((const th_real *)a.g)[r * a.gs];
        long long k = th_label(a.y, r * a.ys, a.label_bytes);
        if (k < 0) k += a.cols;
        double m;
        double s = th_row_lse(z, a.cols, a.s1, &m);
        double scale = (double)g / s;
        for (long long j = 0; j < a.cols; ++j) o[j] = (th_real)(exp((double)z[j * a.s1] - m) * scale);
        if (k < 0 || k >= a.cols) {
            for (long long j = 0; j < a.cols; ++j) o[j] = (th_real)NAN;
        } else {
            o[k] -= g;
        }
    }
    *sum = 0;
}

TH_KERNEL void th_xent_grad(struct th_xent_args a) {
    double unused;
    th_xent_grad_thread(a, &unused);
}

struct th_fill_args {
    char *out;
    long long count;
    double value;
};

TH_FN void th_fill_thread(const struct th_fill_args a, double *sum) {
    th_real v = (th_real)a.value;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < a.count;
         i += (long long)gridDim.x * blockDim.x)
        ((th_real *)a.out)[i] = v;
    *sum = 0;
}

TH_KERNEL void th_fill(struct th_fill_args a) {
    double unused;
    th_fill_thread(a, &unused);
}
