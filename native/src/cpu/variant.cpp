#include "cpu/variant.h"

#include <cstdlib>

#include "error.h"

namespace dp {
namespace cpu {

const char *variant_name(Variant v) { return v == Variant::kAvx2 ? "avx2" : "baseline"; }

bool processor_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

VariantChoice choose_variant() {
  const char *env = std::getenv("DYEPACK_CPU");
  const std::string value = env ? env : "";
  if (value.empty()) {
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
  invalid("DYEPACK_CPU='" + value + "' is not a CPU variant; use baseline or avx2 (or leave it unset for the best "
          "this processor runs)");
}

}  // namespace cpu
}  // namespace dp
