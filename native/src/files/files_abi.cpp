// The C ABI's file helpers that need no engine: SHA-256 over caller-owned state.
#include <cstring>

#include "dyepack/dyepack.h"
#include "error.h"
#include "files/sha256.h"

namespace {

using dp::files::Sha256State;

static_assert(sizeof(Sha256State) <= DP_SHA256_STATE_BYTES, "DP_SHA256_STATE_BYTES is too small");

// The caller's state may have any alignment: it is copied in and out whole.
Sha256State load_started(const void *state) {
  if (state == nullptr) dp::invalid("SHA-256 state is null");
  Sha256State s;
  std::memcpy(&s, state, sizeof s);
  if (s.magic != dp::files::kSha256Magic || s.buffered >= 64)
    dp::invalid("SHA-256 state was not started by dp_sha256_init (or was ended by dp_sha256_final)");
  return s;
}

}  // namespace

extern "C" {

int32_t dp_sha256_init(void *state) {
  return dp::guarded([&] {
    if (state == nullptr) dp::invalid("SHA-256 state is null");
    (void)dp::files::sha256_variant();
    Sha256State s;
    dp::files::sha256_init(s);
    std::memcpy(state, &s, sizeof s);
  });
}

int32_t dp_sha256_update(void *state, const void *data, size_t n) {
  return dp::guarded([&] {
    Sha256State s = load_started(state);
    if (data == nullptr && n > 0) dp::invalid("SHA-256 data is null but its length is " + std::to_string(n));
    if (n == 0) return;
    dp::files::sha256_update(s, static_cast<const uint8_t *>(data), n, dp::files::sha256_variant().compress);
    std::memcpy(state, &s, sizeof s);
  });
}

int32_t dp_sha256_update2(void *state_a, const void *data_a, void *state_b, const void *data_b, size_t n) {
  return dp::guarded([&] {
    if (state_a == state_b) dp::invalid("the two SHA-256 states are the same state");
    Sha256State a = load_started(state_a);
    Sha256State b = load_started(state_b);
    if ((data_a == nullptr || data_b == nullptr) && n > 0)
      dp::invalid("SHA-256 data is null but its length is " + std::to_string(n));
    if (n == 0) return;
    dp::files::sha256_update2(a, static_cast<const uint8_t *>(data_a), b, static_cast<const uint8_t *>(data_b), n,
                              dp::files::sha256_variant());
    std::memcpy(state_a, &a, sizeof a);
    std::memcpy(state_b, &b, sizeof b);
  });
}

int32_t dp_sha256_final(void *state, uint8_t *out) {
  return dp::guarded([&] {
    Sha256State s = load_started(state);
    if (out == nullptr) dp::invalid("SHA-256 output is null");
    dp::files::sha256_final(s, out, dp::files::sha256_variant().compress);
    std::memset(state, 0, sizeof s);
  });
}

const char *dp_sha256_implementation(void) {
  const char *name = nullptr;
  dp::guarded([&] { name = dp::files::sha256_variant().name; });
  return name;
}

}  // extern "C"
