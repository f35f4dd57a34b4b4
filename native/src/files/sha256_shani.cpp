// SHA-256 compression with the x86 SHA extensions (SHA256RNDS2, SHA256MSG1, SHA256MSG2), compiled
// with -msha -mssse3 -msse4.1 (see CMakeLists.txt) and only called where
// sha256_processor_has_shani() holds. The same rounds as sha256.cpp's portable loop: four rounds per
// step, two per SHA256RNDS2, with the message schedule of FIPS 180-4 6.2.2 four words at a time; and
// the same for two independent digests at once (sha256_compress2_shani).
#include "files/sha256.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace dp {
namespace files {

namespace {

// How far ahead of the block being hashed the loop asks for the data. One chain takes about 50 cycles
// per 64 bytes and waits on the block's loads; where the bytes come from memory rather than cache (a
// large buffer hashed once: a mapped file, a batch in host memory) the hardware prefetcher does not run
// far enough ahead of so slow a stream, and a 575 MB buffer hashed at 1.05 GB/s where 1 MiB pieces in
// cache hash at 1.9 GB/s (Intel Xeon, docs/benchmarks.md). A prefetch 1 KiB (16 blocks) ahead brings the
// large buffer to 1.84 GB/s; 256 bytes was too close (1.53), 4 KiB no better. Prefetches do not fault,
// so running past the end of the data is harmless.
constexpr int kPrefetchAhead = 1024;

// One chain's working variables and the four vectors of message words its current step needs.
struct Lane {
  __m128i abef, cdgh;
  __m128i w[4];
};

// Message words are big-endian: reverse the bytes of each 32-bit lane.
inline __m128i byte_swap() { return _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3); }

// SHA256RNDS2 keeps the working variables as two vectors, high lane first: (A, B, E, F) and
// (C, D, G, H).
inline void load_state(Lane &l, const uint32_t h[8]) {
  l.abef = _mm_set_epi32(int(h[0]), int(h[1]), int(h[4]), int(h[5]));
  l.cdgh = _mm_set_epi32(int(h[2]), int(h[3]), int(h[6]), int(h[7]));
}

inline void store_state(const Lane &l, uint32_t h[8]) {
  alignas(16) uint32_t lanes[4];
  _mm_store_si128(reinterpret_cast<__m128i *>(lanes), l.abef);
  h[0] = lanes[3];
  h[1] = lanes[2];
  h[4] = lanes[1];
  h[5] = lanes[0];
  _mm_store_si128(reinterpret_cast<__m128i *>(lanes), l.cdgh);
  h[2] = lanes[3];
  h[3] = lanes[2];
  h[6] = lanes[1];
  h[7] = lanes[0];
}

inline void load_block(Lane &l, const uint8_t *data) {
  const __m128i swap = byte_swap();
  for (int i = 0; i < 4; ++i)
    l.w[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(data + 16 * i)), swap);
}

// Four rounds: step s uses message words 4s .. 4s+3, which w[s % 4] holds (lowest lane first).
inline void step(Lane &l, int s) {
  __m128i &cur = l.w[s % 4];
  if (s >= 4) {
    // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16] for t = 4s .. 4s+3: cur holds W[t-16], the
    // next vector W[t-12], the one after W[t-8] and the last W[t-4].
    const __m128i &older = l.w[(s + 1) % 4];
    const __m128i &old = l.w[(s + 2) % 4];
    const __m128i &last = l.w[(s + 3) % 4];
    __m128i partial = _mm_add_epi32(_mm_sha256msg1_epu32(cur, older), _mm_alignr_epi8(last, old, 4));
    cur = _mm_sha256msg2_epu32(partial, last);
  }
  // Two rounds turn (A, B, E, F) into the next one and the old one into (C, D, G, H).
  __m128i wk = _mm_add_epi32(cur, _mm_load_si128(reinterpret_cast<const __m128i *>(kSha256Round + 4 * s)));
  l.cdgh = _mm_sha256rnds2_epu32(l.cdgh, l.abef, wk);
  l.abef = _mm_sha256rnds2_epu32(l.abef, l.cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

}  // namespace

void sha256_compress_shani(uint32_t h[8], const uint8_t *data, size_t blocks) {
  Lane l;
  load_state(l, h);
  for (size_t b = 0; b < blocks; ++b, data += 64) {
    const __m128i abef_in = l.abef, cdgh_in = l.cdgh;
    _mm_prefetch(reinterpret_cast<const char *>(data) + kPrefetchAhead, _MM_HINT_T0);
    load_block(l, data);
#pragma GCC unroll 16
    for (int s = 0; s < 16; ++s) step(l, s);
    l.abef = _mm_add_epi32(l.abef, abef_in);
    l.cdgh = _mm_add_epi32(l.cdgh, cdgh_in);
  }
  store_state(l, h);
}

void sha256_compress2_shani(uint32_t ha[8], const uint8_t *a, uint32_t hb[8], const uint8_t *b, size_t blocks) {
  // Two independent chains in one loop: each SHA256RNDS2 waits for the one before it in its own chain,
  // so one chain leaves the unit idle between rounds, and the other chain's rounds fill those gaps.
  Lane x, y;
  load_state(x, ha);
  load_state(y, hb);
  for (size_t i = 0; i < blocks; ++i, a += 64, b += 64) {
    const __m128i x_abef = x.abef, x_cdgh = x.cdgh, y_abef = y.abef, y_cdgh = y.cdgh;
    _mm_prefetch(reinterpret_cast<const char *>(a) + kPrefetchAhead, _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char *>(b) + kPrefetchAhead, _MM_HINT_T0);
    load_block(x, a);
    load_block(y, b);
#pragma GCC unroll 16
    for (int s = 0; s < 16; ++s) {
      step(x, s);
      step(y, s);
    }
    x.abef = _mm_add_epi32(x.abef, x_abef);
    x.cdgh = _mm_add_epi32(x.cdgh, x_cdgh);
    y.abef = _mm_add_epi32(y.abef, y_abef);
    y.cdgh = _mm_add_epi32(y.cdgh, y_cdgh);
  }
  store_state(x, ha);
  store_state(y, hb);
}

}  // namespace files
}  // namespace dp

#else

namespace dp {
namespace files {
void sha256_compress_shani(uint32_t h[8], const uint8_t *data, size_t blocks) {
  sha256_compress_portable(h, data, blocks);
}
void sha256_compress2_shani(uint32_t ha[8], const uint8_t *a, uint32_t hb[8], const uint8_t *b, size_t blocks) {
  sha256_compress_portable(ha, a, blocks);
  sha256_compress_portable(hb, b, blocks);
}
}  // namespace files
}  // namespace dp

#endif
