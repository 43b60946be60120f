/* The vector type and its unaligned load and store for one element type and vector width
   (T, SFX and TH_VB defined), shared by narrow_body.h and short_body.h, which type_kernels.h
   includes before them. VT, LN, LOAD and STORE stay defined until type_kernels.h is done with T. */
#define TH_CAT2(a, b) a##b
#define TH_CAT(a, b) TH_CAT2(a, b)
#define VT TH_CAT(th_vec_, SFX)
#define LN ((int64_t)(TH_VB / sizeof(T)))
#define LOAD TH_CAT(th_load_, SFX)
#define STORE TH_CAT(th_store_, SFX)

typedef T VT __attribute__((vector_size(TH_VB)));

static inline __attribute__((always_inline)) VT LOAD(const T *p) {
    VT v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void STORE(T *p, VT v) { __builtin_memcpy(p, &v, sizeof v); }
