/* Narrow and short products (CKernels.h), compiled for three instruction sets: AVX-512, AVX2 with FMA,
   and the baseline. The caller picks one by the CPU's features. */
#include "CKernels.h"
#include <string.h>

#define TH_TABLES(SFX32, SFX64, NAME)                                                               \
    static const th_narrow_f32 NAME##_f32 = {th_narrow_pack_rows_##SFX32, th_narrow_rows_##SFX32,     \
                                             th_narrow_pack_cols_##SFX32, th_narrow_cols_##SFX32};    \
    static const th_narrow_f64 NAME##_f64 = {th_narrow_pack_rows_##SFX64, th_narrow_rows_##SFX64,     \
                                             th_narrow_pack_cols_##SFX64, th_narrow_cols_##SFX64};    \
    static const th_short_f32 NAME##_short_f32 = {th_short_##SFX32, th_short_add_##SFX32};            \
    static const th_short_f64 NAME##_short_f64 = {th_short_##SFX64, th_short_add_##SFX64};

#define TH_JOIN2(a, b) a##b
#define TH_JOIN(a, b) TH_JOIN2(a, b)

#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#define TH_VB 64
#define TH_RB 4
#define TH_CB 2
#define TH_SB 10
#define TH_ISA avx512
#include "narrow_types.h"
#pragma clang attribute pop
TH_TABLES(f32_avx512, f64_avx512, th_avx512)

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define TH_VB 32
#define TH_RB 2
#define TH_CB 1
#define TH_SB 6
#define TH_ISA avx2
#include "narrow_types.h"
#pragma clang attribute pop
TH_TABLES(f32_avx2, f64_avx2, th_avx2)
#endif

#define TH_VB 16
#define TH_RB 2
#define TH_CB 1
#define TH_SB 6
#define TH_ISA base
#include "narrow_types.h"
TH_TABLES(f32_base, f64_base, th_base)

#if defined(__x86_64__) && defined(__clang__)
#define TH_SELECT(S)                                                                               \
    const th_narrow_##S *th_narrow_kernels_##S(int level) {                                        \
        return level >= 2 ? &th_avx512_##S : level == 1 ? &th_avx2_##S : &th_base_##S;            \
    }                                                                                              \
    const th_short_##S *th_short_kernels_##S(int level) {                                          \
        return level >= 2 ? &th_avx512_short_##S : level == 1 ? &th_avx2_short_##S : &th_base_short_##S; \
    }
#else
#define TH_SELECT(S)                                                                               \
    const th_narrow_##S *th_narrow_kernels_##S(int level) {                                        \
        (void)level;                                                                               \
        return &th_base_##S;                                                                       \
    }                                                                                              \
    const th_short_##S *th_short_kernels_##S(int level) {                                          \
        (void)level;                                                                               \
        return &th_base_short_##S;                                                                 \
    }
#endif
TH_SELECT(f32)
TH_SELECT(f64)
