#define DP_CPU_VARIANT baseline
#include "cpu_loops.inc"
