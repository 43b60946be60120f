/* Indexing on the device, for one element type (float unless TH_DOUBLE is defined): equally
   shaped strided blocks copied (or added) from src to dst, block b starting at element offsets
   pairs[2b] in src and pairs[2b+1] in dst (or, for one block and no pairs, at src_offset and
   dst_offset), as the CPU's transferBlocks: advanced indexing, increments, concatenation. The
   host plans the offsets (checking every index against its axis, as the CPU does) and uploads
   them. One thread per element; increments use atomics, since blocks may share a destination (repeated
   indices), so their order, and a float sum's last bits, may differ from the CPU's. */

#ifdef THEANO_CUDA_SIM_PRELUDE_H
TH_FN void th_add_at(th_real *p, th_real v) { *p += v; }
#else
TH_FN void th_add_at(th_real *p, th_real v) { atomicAdd(p, v); }
#endif

struct th_blocks_args {
    const char *src;
    char *dst;
    const long long *pairs;
    long long src_offset, dst_offset;
    long long blocks, block_size, ndim;
    long long shape[TH_MAX_DIMS], src_strides[TH_MAX_DIMS], dst_strides[TH_MAX_DIMS];
    long long accumulate;
};

TH_FN void th_blocks_thread(const struct th_blocks_args a, double *sum) {
    const th_real *src = (const th_real *)a.src;
    th_real *dst = (th_real *)a.dst;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < a.blocks * a.block_size;
         e += (long long)gridDim.x * blockDim.x) {
        long long b = e / a.block_size, r = e % a.block_size;
        long long s = a.pairs ? a.pairs[2 * b] : a.src_offset, d = a.pairs ? a.pairs[2 * b + 1] : a.dst_offset;
        for (long long k = a.ndim - 1; k >= 0; --k) {
            long long i = r % a.shape[k];
            r /= a.shape[k];
            s += i * a.src_strides[k];
            d += i * a.dst_strides[k];
        }
        if (a.accumulate)
            th_add_at(dst + d, src[s]);
        else
            dst[d] = src[s];
    }
    *sum = 0;
}

TH_KERNEL void th_blocks(struct th_blocks_args a) {
    double unused;
    th_blocks_thread(a, &unused);
}
