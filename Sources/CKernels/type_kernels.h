/* Every kernel for one element type T (name suffix SFX) at the width narrow.c has set. */
#include "vector_body.h"
#include "narrow_body.h"
#include "short_body.h"
#undef VT
#undef LN
#undef LOAD
#undef STORE
