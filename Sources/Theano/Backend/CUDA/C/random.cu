/* Random draws on the device giving the CPU's numbers (Tensor/Random/RandomDraw.swift), for one
   element type (float unless TH_DOUBLE is defined). Sample i reads Philox-4x32-10 words
   i*k .. (i+1)*k of its call's stream (word w: lane w % 4 of block (w / 4, call) under the key)
   and computes its value in double as the CPU does, products rounded one by one (never fused
   into a multiply-add, which would round differently), then rounds it to the element type.
   Distributions: 0 uniform(p0, p1), 1 normal(p0, p1) by Box-Muller, 2 binomial(n, p0),
   3 choice(n). The normal's log and cos are the device's, within an ulp of the CPU's. */

#ifdef THEANO_CUDA_SIM_PRELUDE_H
TH_FN double th_mul_rn(double a, double b) {
    volatile double p = a * b;
    return p;
}
TH_FN unsigned long long th_mul_hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
#else
TH_FN double th_mul_rn(double a, double b) { return __dmul_rn(a, b); }
TH_FN unsigned long long th_mul_hi(unsigned long long a, unsigned long long b) { return __umul64hi(a, b); }
#endif

/* Word w of the stream of `call` under `key`. */
TH_FN unsigned int th_philox_word(unsigned long long key, unsigned long long call, long long w) {
    unsigned long long b = (unsigned long long)(w / 4);
    unsigned int c0 = (unsigned int)b, c1 = (unsigned int)(b >> 32), c2 = (unsigned int)call,
                 c3 = (unsigned int)(call >> 32);
    unsigned int k0 = (unsigned int)key, k1 = (unsigned int)(key >> 32);
    for (int r = 0; r < 10; ++r) {
        unsigned long long p0 = 0xD2511F53ULL * c0, p1 = 0xCD9E8D57ULL * c2;
        unsigned int n0 = (unsigned int)(p1 >> 32) ^ c1 ^ k0, n1 = (unsigned int)p1;
        unsigned int n2 = (unsigned int)(p0 >> 32) ^ c3 ^ k1, n3 = (unsigned int)p0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
        k0 += 0x9E3779B9U;
        k1 += 0xBB67AE85U;
    }
    switch (w % 4) {
    case 0: return c0;
    case 1: return c1;
    case 2: return c2;
    default: return c3;
    }
}

struct th_random_args {
    char *out;
    long long count;
    unsigned long long key, call;
    long long k, distribution, n;
    double p0, p1;
    /* Array parameters (or null: p0, p1 hold them), broadcast to the sample's shape by strides. */
    const char *q0, *q1;
    long long ndim;
    long long shape[TH_MAX_DIMS], s0[TH_MAX_DIMS], s1[TH_MAX_DIMS];
};

/* Parameter j (0 or 1) of sample i. */
TH_FN double th_param(const struct th_random_args a, int j, long long i) {
    const th_real *q = (const th_real *)(j ? a.q1 : a.q0);
    if (!q) return j ? a.p1 : a.p0;
    long long offset = 0;
    for (long long d = a.ndim - 1; d >= 0; --d) {
        offset += i % a.shape[d] * (j ? a.s1[d] : a.s0[d]);
        i /= a.shape[d];
    }
    return (double)q[offset];
}

/* A uniform in [0, 1) with the element type's precision, from words w and w + 1. */
TH_FN double th_unit(const struct th_random_args a, long long w) {
#ifdef TH_DOUBLE
    unsigned long long hi = th_philox_word(a.key, a.call, w), lo = th_philox_word(a.key, a.call, w + 1);
    return (double)((hi >> 5) << 26 | lo >> 6) * 0x1p-53;
#else
    return (double)(th_philox_word(a.key, a.call, w) >> 8) * 0x1p-24;
#endif
}

TH_FN void th_random_thread(const struct th_random_args a, double *sum) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < a.count;
         i += (long long)gridDim.x * blockDim.x) {
        long long w = i * a.k;
        double v;
        double p0 = th_param(a, 0, i), p1 = th_param(a, 1, i);
        if (a.distribution == 0) {
            v = p0 + th_mul_rn(p1 - p0, th_unit(a, w));
        } else if (a.distribution == 1) {
#ifdef TH_DOUBLE
            long long half = 2;
#else
            long long half = 1;
#endif
            double u1 = 1 - th_unit(a, w), u2 = th_unit(a, w + half);
            double radius = sqrt(-2 * log(u1));
            v = p0 + th_mul_rn(th_mul_rn(p1, radius), cos(th_mul_rn(6.283185307179586, u2)));
        } else if (a.distribution == 2) {
            long long hits = 0;
            for (long long t = 0; t < a.n; ++t) hits += (double)th_philox_word(a.key, a.call, w + t) * 0x1p-32 < p0;
            v = (double)hits;
        } else {
            unsigned long long bits = (unsigned long long)th_philox_word(a.key, a.call, w) << 32
                                      | th_philox_word(a.key, a.call, w + 1);
            v = (double)th_mul_hi(bits, (unsigned long long)a.n);
        }
        ((th_real *)a.out)[i] = (th_real)v;
    }
    *sum = 0;
}

TH_KERNEL void th_random(struct th_random_args a) {
    double unused;
    th_random_thread(a, &unused);
}
