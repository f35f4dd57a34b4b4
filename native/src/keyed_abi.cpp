// The C ABI's keyed random helpers, which need no engine: the words of a keyed stream and the keyed
// Fisher-Yates shuffle, with the draws of dev.dyepack.key.KeyedRandom (its documentation states the
// contract; KeyedRandomTest compares these with its Java loops).
#include <cstdint>

#include "dyepack/dyepack.h"
#include "dyepack_math/philox.h"
#include "error.h"

namespace {

using dp::math::keyed_block;
using dp::math::Philox4;

// KeyedRandom.RETRY_MASK0/1 (ASCII "DPrt", "ry01"): the retry key of below(), which bits() never uses.
constexpr uint32_t kRetryMask0 = 0x44507274u;
constexpr uint32_t kRetryMask1 = 0x72793031u;

// below(stream, index, bound) after its first draw was rejected: draws 0, 1, 2, ... of the retry
// stream S = h0 | h1 << 32 of Philox(counter = (lo(index), hi(index), lo(stream), hi(stream)),
// retry key), until one is at or above rem = 2^32 mod bound.
uint64_t below_retry(uint32_t k0, uint32_t k1, uint64_t stream, uint64_t index, uint64_t bound, uint64_t rem) {
  const uint32_t r0 = k0 ^ kRetryMask0, r1 = k1 ^ kRetryMask1;
  const Philox4 h = keyed_block(r0, r1, static_cast<int64_t>(stream), static_cast<int64_t>(index));
  const uint64_t retry = static_cast<uint64_t>(h.v[0]) | (static_cast<uint64_t>(h.v[1]) << 32);
  for (uint64_t attempt = 0;; ++attempt) {
    const Philox4 b = keyed_block(r0, r1, static_cast<int64_t>(retry), static_cast<int64_t>(attempt >> 2));
    const uint64_t u = b.v[attempt & 3];
    if (u >= rem) return u % bound;
  }
}

}  // namespace

extern "C" {

int32_t dp_keyed_bits(uint32_t key0, uint32_t key1, uint64_t stream, uint32_t *out, int64_t count) {
  return dp::guarded([&] {
    if (count < 0) dp::invalid("count must be >= 0, got " + std::to_string(count));
    if (out == nullptr && count > 0) dp::invalid("out is null");
    const int64_t whole = count & ~int64_t{3};
    for (int64_t i = 0; i < whole; i += 4) {
      const Philox4 b = keyed_block(key0, key1, static_cast<int64_t>(stream), i >> 2);
      out[i] = b.v[0];
      out[i + 1] = b.v[1];
      out[i + 2] = b.v[2];
      out[i + 3] = b.v[3];
    }
    if (whole < count) {
      const Philox4 b = keyed_block(key0, key1, static_cast<int64_t>(stream), whole >> 2);
      for (int64_t i = whole; i < count; ++i) out[i] = b.v[i & 3];
    }
  });
}

int32_t dp_keyed_shuffle(uint32_t key0, uint32_t key1, uint64_t stream, int64_t *values, int64_t count) {
  return dp::guarded([&] {
    if (count < 0 || count > (int64_t{1} << 31))
      dp::invalid("count must be between 0 and 2^31, got " + std::to_string(count));
    if (values == nullptr && count > 0) dp::invalid("values is null");
    Philox4 block{};
    int64_t cached = -1;
    for (int64_t i = count - 1; i > 0; --i) {
      // One Philox block serves the four indices i that share i / 4.
      if ((i >> 2) != cached) {
        cached = i >> 2;
        block = keyed_block(key0, key1, static_cast<int64_t>(stream), cached);
      }
      const uint64_t bound = static_cast<uint64_t>(i) + 1;
      const uint64_t u = block.v[i & 3];
      // rem = 2^32 mod bound < bound: a draw at or above bound is accepted without computing rem.
      uint64_t j;
      if (u >= bound) {
        j = u % bound;
      } else {
        const uint64_t rem = (uint64_t{1} << 32) % bound;
        j = u >= rem ? u % bound : below_retry(key0, key1, stream, static_cast<uint64_t>(i), bound, rem);
      }
      const int64_t t = values[i];
      values[i] = values[j];
      values[j] = t;
    }
  });
}

}  // extern "C"
