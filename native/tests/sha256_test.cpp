// SHA-256 through the C ABI against the digests published with FIPS 180-4 (NIST's examples for
// SHA-256), fed whole and in pieces of every size from 1 to 130 bytes, for the compression variant
// DYEPACK_SHA256 names. Exits 77 (skipped) when that variant cannot run on this processor.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

std::string hex(const uint8_t *d) {
  static const char *digits = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    s += digits[d[i] >> 4];
    s += digits[d[i] & 15];
  }
  return s;
}

std::string digest_in_pieces(const std::string &message, size_t piece) {
  alignas(8) unsigned char raw[DP_SHA256_STATE_BYTES + 1];
  void *state = raw + 1;  // the state may sit at any address
  uint8_t out[32];
  if (dp_sha256_init(state) != DP_OK) return std::string("init failed: ") + dp_last_error();
  for (size_t at = 0; at < message.size(); at += piece) {
    size_t n = std::min(piece, message.size() - at);
    if (dp_sha256_update(state, message.data() + at, n) != DP_OK) return std::string("update failed: ") + dp_last_error();
  }
  if (dp_sha256_final(state, out) != DP_OK) return std::string("final failed: ") + dp_last_error();
  return hex(out);
}

}  // namespace

int main() {
  const char *wanted = std::getenv("DYEPACK_SHA256");
  const char *running = dp_sha256_implementation();
  if (running == nullptr) {
    std::printf("SKIP: %s\n", dp_last_error());
    return 77;
  }
  if (wanted != nullptr) DP_EXPECT(std::string(wanted) == running, "asked for %s, running %s", wanted, running);
  std::printf("compression: %s\n", running);

  struct Example {
    std::string message;
    const char *digest;
  };
  const std::vector<Example> examples = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
      {std::string(1000000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (const Example &e : examples) {
    std::string whole = digest_in_pieces(e.message, e.message.size() + 1);
    DP_EXPECT(whole == e.digest, "%zu bytes whole: %s, want %s", e.message.size(), whole.c_str(), e.digest);
    size_t largest_piece = e.message.size() > 10000 ? 4 : 130;  // the million a's: a few piece sizes
    for (size_t piece = 1; piece <= largest_piece; ++piece) {
      size_t p = e.message.size() > 10000 ? std::vector<size_t>{1, 63, 64, 4096}[piece - 1] : piece;
      std::string got = digest_in_pieces(e.message, p);
      DP_EXPECT(got == e.digest, "%zu bytes in pieces of %zu: %s", e.message.size(), p, got.c_str());
    }
  }

  // Misuse is refused with a message, never a crash.
  alignas(8) unsigned char state[DP_SHA256_STATE_BYTES] = {0};
  uint8_t out[32];
  DP_EXPECT(dp_sha256_update(state, "x", 1) == DP_ERR_INVALID_ARGUMENT, "update on an unstarted state");
  DP_EXPECT(std::strstr(dp_last_error(), "dp_sha256_init") != nullptr, "%s", dp_last_error());
  DP_EXPECT(dp_sha256_init(nullptr) == DP_ERR_INVALID_ARGUMENT, "null state");
  DP_EXPECT(dp_sha256_init(state) == DP_OK, "init");
  DP_EXPECT(dp_sha256_update(state, nullptr, 3) == DP_ERR_INVALID_ARGUMENT, "null data");
  DP_EXPECT(dp_sha256_update(state, nullptr, 0) == DP_OK, "null data of length 0");
  DP_EXPECT(dp_sha256_final(state, nullptr) == DP_ERR_INVALID_ARGUMENT, "null out");
  DP_EXPECT(dp_sha256_final(state, out) == DP_OK, "final");
  DP_EXPECT(hex(out) == examples[0].digest, "empty: %s", hex(out).c_str());
  DP_EXPECT(dp_sha256_final(state, out) == DP_ERR_INVALID_ARGUMENT, "final twice");

  std::printf("%d passed, %d failed\n", dptest::passes(), dptest::failures());
  return dptest::failures() == 0 ? 0 : 1;
}
