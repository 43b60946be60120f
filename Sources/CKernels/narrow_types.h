/* vector_body.h, narrow_body.h and short_body.h for float and for double, at the vector width
   and tiles narrow.c has set; TH_ISA names the build (the functions' suffix). */
#define T float
#define SFX TH_JOIN(f32_, TH_ISA)
#include "vector_body.h"
#include "narrow_body.h"
#include "short_body.h"
#undef VT
#undef LN
#undef LOAD
#undef STORE
#undef T
#undef SFX
#define T double
#define SFX TH_JOIN(f64_, TH_ISA)
#include "vector_body.h"
#include "narrow_body.h"
#include "short_body.h"
#undef VT
#undef LN
#undef LOAD
#undef STORE
#undef T
#undef SFX
#undef TH_VB
#undef TH_RB
#undef TH_CB
#undef TH_SB
#undef TH_ISA
