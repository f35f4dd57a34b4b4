// SHA-256 compression with the x86 SHA extensions (SHA256RNDS2, SHA256MSG1, SHA256MSG2), compiled
// with -msha -mssse3 -msse4.1 (see CMakeLists.txt) and only called where
// sha256_processor_has_shani() holds. The same rounds as sha256.cpp's portable loop: four rounds per
// step, two per SHA256RNDS2, with the message schedule of FIPS 180-4 6.2.2 four words at a time.
#include "files/sha256.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace dp {
namespace files {

void sha256_compress_shani(uint32_t h[8], const uint8_t *data, size_t blocks) {
  // SHA256RNDS2 keeps the working variables as two vectors, high lane first: (A, B, E, F) and
  // (C, D, G, H). Two rounds turn (A, B, E, F) into the next one and the old one into (C, D, G, H).
  __m128i abef = _mm_set_epi32(int(h[0]), int(h[1]), int(h[4]), int(h[5]));
  __m128i cdgh = _mm_set_epi32(int(h[2]), int(h[3]), int(h[6]), int(h[7]));
  // Message words are big-endian: reverse the bytes of each 32-bit lane.
  const __m128i swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  for (size_t b = 0; b < blocks; ++b, data += 64) {
    const __m128i abef_in = abef, cdgh_in = cdgh;
    // w[i % 4] holds message words 4i .. 4i+3 (lowest lane first) for the step that uses them.
    __m128i w[4];
    for (int i = 0; i < 4; ++i)
      w[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(data + 16 * i)), swap);
#pragma GCC unroll 16
    for (int step = 0; step < 16; ++step) {
      __m128i &cur = w[step % 4];
      if (step >= 4) {
        // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16] for t = 4*step .. 4*step+3: cur holds
        // W[t-16], the next vector W[t-12], the one after W[t-8] and the last W[t-4].
        const __m128i &older = w[(step + 1) % 4];
        const __m128i &old = w[(step + 2) % 4];
        const __m128i &last = w[(step + 3) % 4];
        __m128i partial = _mm_add_epi32(_mm_sha256msg1_epu32(cur, older), _mm_alignr_epi8(last, old, 4));
        cur = _mm_sha256msg2_epu32(partial, last);
      }
      __m128i wk = _mm_add_epi32(cur, _mm_load_si128(reinterpret_cast<const __m128i *>(kSha256Round + 4 * step)));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }
  alignas(16) uint32_t lanes[4];
  _mm_store_si128(reinterpret_cast<__m128i *>(lanes), abef);
  h[0] = lanes[3];
  h[1] = lanes[2];
  h[4] = lanes[1];
  h[5] = lanes[0];
  _mm_store_si128(reinterpret_cast<__m128i *>(lanes), cdgh);
  h[2] = lanes[3];
  h[3] = lanes[2];
  h[6] = lanes[1];
  h[7] = lanes[0];
}

}  // namespace files
}  // namespace dp

#else

namespace dp {
namespace files {
void sha256_compress_shani(uint32_t h[8], const uint8_t *data, size_t blocks) {
  sha256_compress_portable(h, data, blocks);
}
}  // namespace files
}  // namespace dp

#endif
