// The loops for processors with AVX2 and FMA (see loops.inc), compiled with -mavx2 -mfma (see
// CMakeLists.txt) and only called where cpu::processor_has_avx2() holds.
#define DP_CPU_VARIANT avx2
#include "cpu/loops.inc"
