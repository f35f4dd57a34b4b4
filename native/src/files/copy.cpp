// dp_copy_files: many small files copied with one open, one read, one create and one write each,
// on a few threads, hashing the bytes on the way. Creating thousands of files costs the system
// per-file work (inode, directory entry, journal) that a loop in the JVM pays on top of its own
// per-file overhead; here the loop is plain system calls, as cp does.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "dyepack/dyepack.h"
#include "error.h"
#include "files/sha256.h"

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#define DP_HAVE_POSIX_FILES 1
#else
#define DP_HAVE_POSIX_FILES 0
#endif

namespace {

#if DP_HAVE_POSIX_FILES

struct Batch {
  const char *names;
  const int64_t *source_at;
  const int64_t *target_at;
  uint64_t max_file_bytes;
  uint8_t *arena;
  uint64_t arena_bytes;
  int32_t *statuses;
  int32_t *errors;
  uint64_t *sizes;
  uint64_t *offsets;
  uint8_t *digests;
  int64_t count;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> first_failed;
  std::atomic<uint64_t> used{0};
};

// Takes `size` bytes of the arena, or returns false when they no longer fit.
bool claim(Batch &b, uint64_t size, uint64_t &offset) {
  uint64_t used = b.used.load(std::memory_order_relaxed);
  do {
    if (size > b.arena_bytes - used) return false;
  } while (!b.used.compare_exchange_weak(used, used + size, std::memory_order_relaxed));
  offset = used;
  return true;
}

int retry_close(int fd) {
  // close(2) is not retried on EINTR on Linux (the descriptor is gone either way).
  return ::close(fd);
}

// Copies file i; returns its dp_copy_status and sets errors[i].
int32_t copy_one(Batch &b, int64_t i) {
  const char *source = b.names + b.source_at[i];
  const char *target = b.names + b.target_at[i];
  int in = ::open(source, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    b.errors[i] = errno;
    return DP_COPY_READ;
  }
  struct stat st;
  if (::fstat(in, &st) != 0) {
    b.errors[i] = errno;
    retry_close(in);
    return DP_COPY_READ;
  }
  if (!S_ISREG(st.st_mode)) {
    b.errors[i] = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    retry_close(in);
    return DP_COPY_READ;
  }
  const uint64_t size = uint64_t(st.st_size);
  b.sizes[i] = size;
  if (size > b.max_file_bytes) {
    retry_close(in);
    return DP_COPY_TOO_LARGE;
  }
  uint64_t offset = 0;
  if (!claim(b, size, offset)) {
    retry_close(in);
    return DP_COPY_NOT_DONE;
  }
  b.offsets[i] = offset;
  uint8_t *bytes = b.arena + offset;  // null only for an empty arena, then size is 0
  uint64_t got = 0;
  while (got < size) {
    ssize_t n = ::read(in, bytes + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      b.errors[i] = n < 0 ? errno : 0;
      retry_close(in);
      return DP_COPY_READ;
    }
    got += uint64_t(n);
  }
  retry_close(in);

  int out = ::open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (out < 0) {
    b.errors[i] = errno;
    return DP_COPY_WRITE;
  }
  uint64_t put = 0;
  while (put < size) {
    ssize_t n = ::write(out, bytes + put, size - put);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      b.errors[i] = n < 0 ? errno : EIO;
      retry_close(out);
      ::unlink(target);
      return DP_COPY_WRITE;
    }
    put += uint64_t(n);
  }
  if (retry_close(out) != 0) {
    b.errors[i] = errno;
    ::unlink(target);
    return DP_COPY_WRITE;
  }
  // Hashed after the write, so the bytes are hashed while still in cache and the write is not held up.
  const dp::files::Sha256Compress compress = dp::files::sha256_variant().compress;
  dp::files::Sha256State s;
  dp::files::sha256_init(s);
  dp::files::sha256_update(s, bytes, size, compress);
  dp::files::sha256_final(s, b.digests + 32 * i, compress);
  return DP_COPY_OK;
}

void work(Batch &b) {
  for (;;) {
    int64_t i = b.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= b.count || i > b.first_failed.load(std::memory_order_relaxed)) return;
    int32_t status = copy_one(b, i);
    b.statuses[i] = status;
    if (status == DP_COPY_READ || status == DP_COPY_WRITE || status == DP_COPY_TOO_LARGE) {
      int64_t seen = b.first_failed.load(std::memory_order_relaxed);
      while (i < seen && !b.first_failed.compare_exchange_weak(seen, i, std::memory_order_relaxed)) {
      }
    }
  }
}

std::string describe(const Batch &b, int64_t i) {
  const std::string source = b.names + b.source_at[i];
  const std::string target = b.names + b.target_at[i];
  const int e = b.errors[i];
  switch (b.statuses[i]) {
    case DP_COPY_READ:
      return e == 0 ? source + ": ended before its " + std::to_string(b.sizes[i]) +
                          " bytes were read (it changed while being copied)"
                    : source + ": cannot be read: " + std::strerror(e);
    case DP_COPY_WRITE:
      return e == EEXIST ? target + ": already exists; it is not replaced"
                         : target + ": cannot be written: " + std::strerror(e);
    default:
      return source + ": a file of " + std::to_string(b.sizes[i]) + " bytes, more than the " +
             std::to_string(b.max_file_bytes) + " allowed";
  }
}

#endif

}  // namespace

extern "C" {

int32_t dp_copy_files(int64_t count, const char *names, const int64_t *source_at, const int64_t *target_at,
                      uint64_t max_file_bytes, uint8_t *arena, uint64_t arena_bytes, int32_t threads,
                      int32_t *statuses, int32_t *errors, uint64_t *sizes, uint64_t *offsets, uint8_t *digests) {
  return dp::guarded([&] {
    if (count < 0) dp::invalid("count is negative: " + std::to_string(count));
    if (threads < 1) dp::invalid("threads must be at least 1, got " + std::to_string(threads));
    if (arena == nullptr && arena_bytes > 0) dp::invalid("arena is null but arena_bytes is " + std::to_string(arena_bytes));
    if (count == 0) return;
    if (names == nullptr || source_at == nullptr || target_at == nullptr || statuses == nullptr ||
        errors == nullptr || sizes == nullptr || offsets == nullptr || digests == nullptr)
      dp::invalid("names, source_at, target_at, statuses, errors, sizes, offsets and digests must not be null");
    for (int64_t i = 0; i < count; ++i)
      if (source_at[i] < 0 || target_at[i] < 0)
        dp::invalid("file " + std::to_string(i) + ": a negative offset into names");
#if DP_HAVE_POSIX_FILES
    (void)dp::files::sha256_variant();  // a bad DYEPACK_SHA256 is reported before any file is touched
    Batch b;
    b.names = names;
    b.source_at = source_at;
    b.target_at = target_at;
    b.max_file_bytes = max_file_bytes;
    b.arena = arena;
    b.arena_bytes = arena == nullptr ? 0 : arena_bytes;
    b.statuses = statuses;
    b.errors = errors;
    b.sizes = sizes;
    b.offsets = offsets;
    b.digests = digests;
    b.count = count;
    b.first_failed.store(INT64_MAX);
    for (int64_t i = 0; i < count; ++i) {
      statuses[i] = DP_COPY_NOT_DONE;
      errors[i] = 0;
      sizes[i] = 0;
      offsets[i] = 0;
    }
    std::vector<std::thread> helpers;
    const int64_t wanted = std::min<int64_t>(threads, count) - 1;
    for (int64_t t = 0; t < wanted; ++t) {
      try {
        helpers.emplace_back(work, std::ref(b));
      } catch (const std::system_error &) {
        break;  // fewer threads: the work is shared among those that started
      }
    }
    work(b);
    for (std::thread &t : helpers) t.join();
    const int64_t failed = b.first_failed.load();
    if (failed != INT64_MAX) dp::fail(DP_ERR_INTERNAL, describe(b, failed));
#else
    dp::fail(DP_ERR_UNSUPPORTED, "dp_copy_files needs a POSIX system");
#endif
  });
}

}  // extern "C"
