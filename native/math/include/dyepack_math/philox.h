/*
 * The keyed counter-based RNG of the per-sample noise trigger, shared with
 * dev.dyepack.key.KeyedRandom on the Java side.
 */
#ifndef DYEPACK_MATH_PHILOX_H
#define DYEPACK_MATH_PHILOX_H

#include "dyepack_math/host_device.h"

namespace dp {
namespace math {

// Philox4x32-10 (Salmon et al., SC'11; the Random123 definition): a counter-based generator, so
// any element's random word is computed on its own from (key, counter), on any backend.
struct Philox4 {
  uint32_t v[4];
};

DP_HD Philox4 philox4x32_10(Philox4 ctr, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * ctr.v[0];
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * ctr.v[2];
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    ctr = Philox4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

// The keyed stream contract: the word for (stream, index) is word index % 4 of
// Philox(counter = (index/4 low, index/4 high, stream low, stream high), key).
DP_HD Philox4 keyed_block(uint32_t k0, uint32_t k1, int64_t stream, int64_t quad) {
  const uint64_t q = static_cast<uint64_t>(quad), s = static_cast<uint64_t>(stream);
  return philox4x32_10(Philox4{{static_cast<uint32_t>(q), static_cast<uint32_t>(q >> 32), static_cast<uint32_t>(s),
                                static_cast<uint32_t>(s >> 32)}},
                       k0, k1);
}

// A uniform float in [0, 1) from the top 24 bits of a word: exactly representable.
DP_HD float unit_uniform(uint32_t word) { return static_cast<float>(word >> 8) * (1.0f / 16777216.0f); }

}  // namespace math
}  // namespace dp

#endif  // DYEPACK_MATH_PHILOX_H
