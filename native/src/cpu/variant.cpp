#include "cpu/variant.h"

#include <cstdlib>

#include "error.h"

namespace dp {
namespace cpu {

const char *variant_name(Variant v) {
  switch (v) {
    case Variant::kAvx512: return "avx512";
    case Variant::kAvx2: return "avx2";
    default: return "baseline";
  }
}

bool processor_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool processor_has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  // libgcc reports the AVX-512 features only where the operating system saves their registers (XCR0).
  return processor_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
#else
  return false;
#endif
}

VariantChoice choose_variant() {
  const char *env = std::getenv("DYEPACK_CPU");
  const std::string value = env ? env : "";
  if (value.empty()) {
    if (processor_has_avx512()) return {Variant::kAvx512, "avx512 loops, the best this processor runs"};
    return processor_has_avx2()
               ? VariantChoice{Variant::kAvx2, "avx2 loops, the best this processor runs"}
               : VariantChoice{Variant::kBaseline, "baseline loops; this processor has no AVX2+FMA"};
  }
  if (value == "baseline") return {Variant::kBaseline, "baseline loops, chosen by DYEPACK_CPU=baseline"};
  if (value == "avx2") {
    if (!processor_has_avx2())
      fail(DP_ERR_UNSUPPORTED,
           "DYEPACK_CPU=avx2 but this processor lacks AVX2 or FMA; unset DYEPACK_CPU or set it to baseline");
    return {Variant::kAvx2, "avx2 loops, chosen by DYEPACK_CPU=avx2"};
  }
  if (value == "avx512") {
    if (!processor_has_avx512())
      fail(DP_ERR_UNSUPPORTED,
           std::string("DYEPACK_CPU=avx512 but this processor (or its operating system) lacks AVX-512 F, VL, DQ or "
                       "BW; unset DYEPACK_CPU or set it to ") +
               (processor_has_avx2() ? "avx2 or baseline" : "baseline"));
    return {Variant::kAvx512, "avx512 loops, chosen by DYEPACK_CPU=avx512"};
  }
  invalid("DYEPACK_CPU='" + value + "' is not a CPU variant; use baseline, avx2 or avx512 (or leave it unset for "
          "the best this processor runs)");
}

}  // namespace cpu
}  // namespace dp
