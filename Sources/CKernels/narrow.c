/* Narrow products (CKernels.h), compiled for three instruction sets: AVX-512, AVX2 with FMA,
   and the baseline. The caller picks one by the CPU's features. */
#include "CKernels.h"
#include <string.h>

#define TH_TABLES(SFX32, SFX64, NAME)                                                               \
    static const th_narrow_f32 NAME##_f32 = {th_narrow_pack_rows_##SFX32, th_narrow_rows_##SFX32,     \
                                             th_narrow_pack_cols_##SFX32, th_narrow_cols_##SFX32};    \
    static const th_narrow_f64 NAME##_f64 = {th_narrow_pack_rows_##SFX64, th_narrow_rows_##SFX64,     \
                                             th_narrow_pack_cols_##SFX64, th_narrow_cols_##SFX64};

#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#define TH_VB 64
#define TH_RB 4
#define TH_CB 2
#define T float
#define SFX f32_avx512
#include "narrow_body.h"
#undef T
#undef SFX
#define T double
#define SFX f64_avx512
#include "narrow_body.h"
#undef T
#undef SFX
#undef TH_VB
#undef TH_RB
#undef TH_CB
#pragma clang attribute pop
TH_TABLES(f32_avx512, f64_avx512, th_avx512)

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define TH_VB 32
#define TH_RB 2
#define TH_CB 1
#define T float
#define SFX f32_avx2
#include "narrow_body.h"
#undef T
#undef SFX
#define T double
#define SFX f64_avx2
#include "narrow_body.h"
#undef T
#undef SFX
#undef TH_VB
#undef TH_RB
#undef TH_CB
#pragma clang attribute pop
TH_TABLES(f32_avx2, f64_avx2, th_avx2)
#endif

#define TH_VB 16
#define TH_RB 2
#define TH_CB 1
#define T float
#define SFX f32_base
#include "narrow_body.h"
#undef T
#undef SFX
#define T double
#define SFX f64_base
#include "narrow_body.h"
#undef T
#undef SFX
#undef TH_VB
#undef TH_RB
#undef TH_CB
TH_TABLES(f32_base, f64_base, th_base)

const th_narrow_f32 *th_narrow_kernels_f32(int level) {
#if defined(__x86_64__) && defined(__clang__)
    if (level >= 2) return &th_avx512_f32;
    if (level == 1) return &th_avx2_f32;
#endif
    (void)level;
    return &th_base_f32;
}

const th_narrow_f64 *th_narrow_kernels_f64(int level) {
#if defined(__x86_64__) && defined(__clang__)
    if (level >= 2) return &th_avx512_f64;
    if (level == 1) return &th_avx2_f64;
#endif
    (void)level;
    return &th_base_f64;
}
