// The loops for processors with AVX-512 (F, VL, DQ, BW) besides AVX2 and FMA (see loops.inc), compiled
// with those extensions (see CMakeLists.txt) and only called where cpu::processor_has_avx512() holds.
#define DP_CPU_VARIANT avx512
#include "cpu/loops.inc"
