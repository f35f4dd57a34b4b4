// Portable SHA-256 from FIPS 180-4 sections 4.1.2, 4.2.2, 5.1.1, 5.3.3 and 6.2, the streaming
// state machine shared by every compression variant, and the choice of variant.
#include "files/sha256.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "error.h"

namespace dp {
namespace files {

alignas(16) const uint32_t kSha256Round[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

namespace {

inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
inline uint32_t big_sigma0(uint32_t x) { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
inline uint32_t big_sigma1(uint32_t x) { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
inline uint32_t small_sigma0(uint32_t x) { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
inline uint32_t small_sigma1(uint32_t x) { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }
inline uint32_t choose(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (~x & z); }
inline uint32_t majority(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (x & z) ^ (y & z); }

inline uint32_t load_big_endian(const uint8_t *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

Sha256Variant choose_variant() {
  const char *sha = std::getenv("DYEPACK_SHA256");
  const std::string value = sha ? sha : "";
  const Sha256Variant portable{sha256_compress_portable, sha256_compress2_portable, "portable"};
  const Sha256Variant shani{sha256_compress_shani, sha256_compress2_shani, "sha-ni"};
  if (value == "portable") return portable;
  if (!value.empty() && value != "sha-ni") {
    invalid("DYEPACK_SHA256='" + value + "' is not a SHA-256 variant; use portable or sha-ni (or leave it unset "
            "for the best this processor runs)");
  }
  if (value == "sha-ni") {
    if (!sha256_processor_has_shani())
      fail(DP_ERR_UNSUPPORTED, "DYEPACK_SHA256=sha-ni but this processor lacks the SHA extensions; unset it");
    return shani;
  }
  // DYEPACK_CPU=baseline asks for x86-64 without extensions everywhere, the hash included.
  const char *cpu = std::getenv("DYEPACK_CPU");
  if (cpu != nullptr && std::string(cpu) == "baseline") return portable;
  return sha256_processor_has_shani() ? shani : portable;
}

}  // namespace

void sha256_compress_portable(uint32_t h[8], const uint8_t *data, size_t blocks) {
  uint32_t w[64];
  for (size_t b = 0; b < blocks; ++b, data += 64) {
    for (int t = 0; t < 16; ++t) w[t] = load_big_endian(data + 4 * t);
    for (int t = 16; t < 64; ++t) w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; ++t) {
      uint32_t t1 = hh + big_sigma1(e) + choose(e, f, g) + kSha256Round[t] + w[t];
      uint32_t t2 = big_sigma0(a) + majority(a, bb, c);
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = bb;
      bb = a;
      a = t1 + t2;
    }
    h[0] += a;
    h[1] += bb;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
}

bool sha256_processor_has_shani() {
#if defined(__x86_64__) || defined(__i386__)
  // CPUID leaf 7, sub-leaf 0: EBX bit 29 is SHA; leaf 1: ECX bit 19 is SSE4.1, bit 9 SSSE3.
  unsigned a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0u), "c"(0u));
  if (a < 7) return false;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1u), "c"(0u));
  const bool sse = ((c >> 19) & 1u) && ((c >> 9) & 1u);
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7u), "c"(0u));
  return sse && ((b >> 29) & 1u);
#else
  return false;
#endif
}

const Sha256Variant &sha256_variant() {
  static const Sha256Variant chosen = choose_variant();
  return chosen;
}

void sha256_init(Sha256State &s) {
  static constexpr uint32_t kInitial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::memset(&s, 0, sizeof s);
  s.magic = kSha256Magic;
  std::memcpy(s.h, kInitial, sizeof kInitial);
}

void sha256_update(Sha256State &s, const uint8_t *data, size_t n, Sha256Compress compress) {
  s.total += n;
  if (s.buffered > 0) {
    size_t take = 64 - s.buffered < n ? 64 - s.buffered : n;
    std::memcpy(s.block + s.buffered, data, take);
    s.buffered += uint32_t(take);
    data += take;
    n -= take;
    if (s.buffered < 64) return;
    compress(s.h, s.block, 1);
    s.buffered = 0;
  }
  if (n >= 64) {
    compress(s.h, data, n / 64);
    data += n / 64 * 64;
    n %= 64;
  }
  if (n > 0) {
    std::memcpy(s.block, data, n);
    s.buffered = uint32_t(n);
  }
}

void sha256_compress2_portable(uint32_t ha[8], const uint8_t *a, uint32_t hb[8], const uint8_t *b, size_t blocks) {
  sha256_compress_portable(ha, a, blocks);
  sha256_compress_portable(hb, b, blocks);
}

void sha256_update2(Sha256State &a, const uint8_t *da, Sha256State &b, const uint8_t *db, size_t n,
                    const Sha256Variant &variant) {
  if (a.buffered != b.buffered) {
    // Their blocks start at different offsets of the data: nothing to compress together.
    sha256_update(a, da, n, variant.compress);
    sha256_update(b, db, n, variant.compress);
    return;
  }
  // Both fill their partial block from the same offset and then stand at a block boundary together.
  const size_t head = a.buffered == 0 ? 0 : (64 - a.buffered < n ? 64 - a.buffered : n);
  sha256_update(a, da, head, variant.compress);
  sha256_update(b, db, head, variant.compress);
  da += head;
  db += head;
  n -= head;
  const size_t blocks = n / 64;
  if (blocks > 0) {
    // a.buffered == b.buffered == 0 here (a head that did not fill the block took all of n).
    variant.compress2(a.h, da, b.h, db, blocks);
    a.total += blocks * 64;
    b.total += blocks * 64;
    da += blocks * 64;
    db += blocks * 64;
    n -= blocks * 64;
  }
  sha256_update(a, da, n, variant.compress);
  sha256_update(b, db, n, variant.compress);
}

void sha256_final(Sha256State &s, uint8_t out[32], Sha256Compress compress) {
  // Padding (5.1.1): a 1 bit, zeros to 56 bytes mod 64, the message length in bits, big-endian.
  const uint64_t bits = s.total * 8;
  uint8_t pad[72] = {0x80};
  size_t zeros = (s.buffered < 56 ? 56 : 120) - s.buffered;
  for (int i = 0; i < 8; ++i) pad[zeros + i] = uint8_t(bits >> (56 - 8 * i));
  const uint64_t total = s.total;
  sha256_update(s, pad, zeros + 8, compress);
  s.total = total;
  for (int i = 0; i < 8; ++i) {
    out[4 * i] = uint8_t(s.h[i] >> 24);
    out[4 * i + 1] = uint8_t(s.h[i] >> 16);
    out[4 * i + 2] = uint8_t(s.h[i] >> 8);
    out[4 * i + 3] = uint8_t(s.h[i]);
  }
}

}  // namespace files
}  // namespace dp
