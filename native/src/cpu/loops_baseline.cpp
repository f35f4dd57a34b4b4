// The loops for any x86-64 processor (see loops.inc).
#define DP_CPU_VARIANT baseline
#include "cpu/loops.inc"
