/* The element type of a module of fixed kernels: float, or double when TH_DOUBLE is defined
   (CUDACodeGen.fixedSource defines it for float64). */
#ifdef TH_DOUBLE
typedef double th_real;
#else
typedef float th_real;
#endif
