/* The kernels (type_kernels.h) for float and for double, at the vector width and tiles narrow.c
   has set; TH_ISA names the build (the functions' suffix). */
#define T float
#define SFX TH_JOIN(f32_, TH_ISA)
#include "type_kernels.h"
#undef T
#undef SFX
#define T double
#define SFX TH_JOIN(f64_, TH_ISA)
#include "type_kernels.h"
#undef T
#undef SFX
#undef TH_VB
#undef TH_RB
#undef TH_CB
#undef TH_SB
#undef TH_ISA
