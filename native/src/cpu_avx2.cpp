// Compiled with -mavx2 -mfma (see CMakeLists.txt); only called where the processor has both.
#define DP_CPU_VARIANT avx2
#include "cpu_loops.inc"
