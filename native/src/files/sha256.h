// SHA-256 (FIPS 180-4) for the C ABI's streaming hash and the batch file copy: one compression
// function per instruction set, chosen once per process (see sha256_variant()).
#ifndef DYEPACK_SRC_FILES_SHA256_H
#define DYEPACK_SRC_FILES_SHA256_H

#include <cstddef>
#include <cstdint>

namespace dp {
namespace files {

// The running state of one digest. Lives inside the caller's DP_SHA256_STATE_BYTES (copied in and
// out, so the caller's memory needs no alignment).
struct Sha256State {
  uint32_t magic;        // kSha256Magic once initialised, so an uninitialised state is refused
  uint32_t buffered;     // bytes waiting in block, 0..63
  uint64_t total;        // bytes hashed so far
  uint32_t h[8];         // the chaining value H0..H7
  uint8_t block[64];     // a partial block
};

constexpr uint32_t kSha256Magic = 0x53483235u;  // "SH25"

// The round constants K0..K63: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes (FIPS 180-4, 4.2.2). 16-byte aligned for the SHA-NI path's vector loads.
alignas(16) extern const uint32_t kSha256Round[64];

// Compresses `blocks` consecutive 64-byte blocks into h.
using Sha256Compress = void (*)(uint32_t h[8], const uint8_t *data, size_t blocks);
// Compresses `blocks` blocks of a into ha and as many of b into hb: two independent digests at once.
using Sha256Compress2 = void (*)(uint32_t ha[8], const uint8_t *a, uint32_t hb[8], const uint8_t *b, size_t blocks);

void sha256_compress_portable(uint32_t h[8], const uint8_t *data, size_t blocks);
// Only where sha256_processor_has_shani() holds (compiled with -msha -msse4.1).
void sha256_compress_shani(uint32_t h[8], const uint8_t *data, size_t blocks);
// One chain after the other.
void sha256_compress2_portable(uint32_t ha[8], const uint8_t *a, uint32_t hb[8], const uint8_t *b, size_t blocks);
// Both chains' rounds interleaved (about 1.5x the throughput of two single ones on one core).
void sha256_compress2_shani(uint32_t ha[8], const uint8_t *a, uint32_t hb[8], const uint8_t *b, size_t blocks);

bool sha256_processor_has_shani();

// The compression function this process uses: SHA-NI where the processor has it, the portable one
// where it does not or where DYEPACK_SHA256=portable (or DYEPACK_CPU=baseline) asks for it. Read once.
struct Sha256Variant {
  Sha256Compress compress;
  Sha256Compress2 compress2;
  const char *name;  // "sha-ni" or "portable"
};
const Sha256Variant &sha256_variant();

void sha256_init(Sha256State &s);
void sha256_update(Sha256State &s, const uint8_t *data, size_t n, Sha256Compress compress);
void sha256_final(Sha256State &s, uint8_t out[32], Sha256Compress compress);
// As sha256_update(a, da, n) and sha256_update(b, db, n), with the whole blocks the two have in common
// compressed together where both states stand at the same offset within a block.
void sha256_update2(Sha256State &a, const uint8_t *da, Sha256State &b, const uint8_t *db, size_t n,
                    const Sha256Variant &variant);

}  // namespace files
}  // namespace dp

#endif  // DYEPACK_SRC_FILES_SHA256_H
