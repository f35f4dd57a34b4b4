// SHA-256 through the C ABI against the digests published with FIPS 180-4 (NIST's examples for
// SHA-256), fed whole and in pieces of every size from 1 to 130 bytes, for the compression variant
// DYEPACK_SHA256 names; and two digests at once (dp_sha256_update2) against the same digests taken one at a
// time. Exits 77 (skipped) when that variant cannot run on this processor.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
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

// Two digests fed side by side through dp_sha256_update2: `a` gets prefix_a then a_rest, `b` gets prefix_b then
// b_rest (a_rest and b_rest of equal length), the rest in pieces of `piece` bytes. Returns both hex digests.
std::pair<std::string, std::string> digests_side_by_side(const std::string &prefix_a, const std::string &a_rest,
                                                         const std::string &prefix_b, const std::string &b_rest,
                                                         size_t piece) {
  alignas(8) unsigned char raw_a[DP_SHA256_STATE_BYTES + 3], raw_b[DP_SHA256_STATE_BYTES + 5];
  void *a = raw_a + 3;
  void *b = raw_b + 5;
  uint8_t out_a[32], out_b[32];
  if (dp_sha256_init(a) != DP_OK || dp_sha256_init(b) != DP_OK) return {"init failed", dp_last_error()};
  if (dp_sha256_update(a, prefix_a.data(), prefix_a.size()) != DP_OK ||
      dp_sha256_update(b, prefix_b.data(), prefix_b.size()) != DP_OK)
    return {"prefix failed", dp_last_error()};
  for (size_t at = 0; at < a_rest.size(); at += piece) {
    size_t n = std::min(piece, a_rest.size() - at);
    if (dp_sha256_update2(a, a_rest.data() + at, b, b_rest.data() + at, n) != DP_OK)
      return {"update2 failed", dp_last_error()};
  }
  if (dp_sha256_final(a, out_a) != DP_OK || dp_sha256_final(b, out_b) != DP_OK) return {"final failed", dp_last_error()};
  return {hex(out_a), hex(out_b)};
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

  // Two digests at once: the same digests as one at a time, whatever the pieces and wherever each state
  // stands within its block when they start (equal offsets are compressed together, unequal ones not).
  const std::string million(1000000, 'a');
  const char *million_digest = examples.back().digest;
  std::string mixed(million.size(), '\0');
  uint32_t x = 12345;
  for (char &c : mixed) {
    x = x * 1664525u + 1013904223u;
    c = char(x >> 24);
  }
  for (size_t piece : {size_t(1), size_t(63), size_t(64), size_t(65), size_t(4096), size_t(1000000)}) {
    auto same = digests_side_by_side("", million, "", million, piece);
    DP_EXPECT(same.first == million_digest && same.second == million_digest, "a million a's twice, pieces of %zu: %s %s",
              piece, same.first.c_str(), same.second.c_str());
    auto different = digests_side_by_side("", million, "", mixed, piece);
    DP_EXPECT(different.first == million_digest, "a million a's beside other bytes, pieces of %zu: %s", piece,
              different.first.c_str());
    DP_EXPECT(different.second == digest_in_pieces(mixed, 4096), "other bytes beside a million a's, pieces of %zu",
              piece);
    for (const auto &prefixes : std::vector<std::pair<std::string, std::string>>{{"abc", "abc"}, {"abc", "abcde"},
                                                                                  {"", std::string(64, 'q')}}) {
      auto shifted = digests_side_by_side(prefixes.first, mixed, prefixes.second, million, piece);
      DP_EXPECT(shifted.first == digest_in_pieces(prefixes.first + mixed, 4096) &&
                    shifted.second == digest_in_pieces(prefixes.second + million, 4096),
                "after prefixes of %zu and %zu bytes, pieces of %zu", prefixes.first.size(), prefixes.second.size(),
                piece);
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
  alignas(8) unsigned char other[DP_SHA256_STATE_BYTES] = {0};
  DP_EXPECT(dp_sha256_init(state) == DP_OK && dp_sha256_init(other) == DP_OK, "init two");
  DP_EXPECT(dp_sha256_update2(state, "x", state, "y", 1) == DP_ERR_INVALID_ARGUMENT, "update2 of one state twice");
  DP_EXPECT(std::strstr(dp_last_error(), "same state") != nullptr, "%s", dp_last_error());
  DP_EXPECT(dp_sha256_update2(state, "x", other, nullptr, 1) == DP_ERR_INVALID_ARGUMENT, "update2 with null data");
  DP_EXPECT(dp_sha256_update2(state, nullptr, other, nullptr, 0) == DP_OK, "update2 of nothing");
  unsigned char unstarted[DP_SHA256_STATE_BYTES] = {0};
  DP_EXPECT(dp_sha256_update2(state, "x", unstarted, "y", 1) == DP_ERR_INVALID_ARGUMENT, "update2 on an unstarted state");

  std::printf("%d passed, %d failed\n", dptest::passes(), dptest::failures());
  return dptest::failures() == 0 ? 0 : 1;
}
