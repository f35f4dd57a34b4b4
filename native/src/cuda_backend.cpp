// Host side of the CUDA backend: driver probing, device contexts, pinned staging of host
// batches, and the calls into kernels/. Compiled only when the kernels are built.
#include "cuda_backend.h"

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dyepack_kernels/kernels.h"
#include "error.h"

#ifndef DYEPACK_CUDA_ARCHS
#define DYEPACK_CUDA_ARCHS ""
#endif

namespace dp {
namespace cuda {

namespace {

bool is_sticky(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorECCUncorrectable:
    case cudaErrorLaunchTimeout:
      return true;
    default:
      return false;
  }
}

std::string describe(cudaError_t e, const char *expr, const char *file, int line) {
  std::ostringstream os;
  os << file << ":" << line << ": " << cudaGetErrorName(e) << ": " << cudaGetErrorString(e) << " (in " << expr << ")";
  return os.str();
}

std::string version_text(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

// Architectures compiled in, as compute capabilities times ten: SASS ("real") and PTX ("virtual").
struct ArchList {
  std::vector<int> sass, ptx;
  std::string text;
};

ArchList parse_archs() {
  ArchList a;
  std::string list = DYEPACK_CUDA_ARCHS;  // e.g. "75-real 80-real 120-virtual"
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ' ')) {
    if (item.empty()) continue;
    const size_t dash = item.find('-');
    const int cc = std::atoi(item.substr(0, dash).c_str());
    const std::string kind = dash == std::string::npos ? "" : item.substr(dash + 1);
    if (kind == "real" || kind.empty()) {
      a.sass.push_back(cc);
      a.text += (a.text.empty() ? "" : " ") + std::string("sm_") + std::to_string(cc);
    }
    if (kind == "virtual" || kind.empty()) {
      a.ptx.push_back(cc);
      a.text += (a.text.empty() ? "" : " ") + std::string("compute_") + std::to_string(cc);
    }
  }
  return a;
}

const ArchList &archs() {
  static const ArchList a = parse_archs();
  return a;
}

// SASS runs on devices of the same major version and an equal or higher minor; PTX is compiled
// by the driver for any device at least as new.
bool supported(int major, int minor) {
  const int cc = major * 10 + minor;
  for (int s : archs().sass)
    if (s / 10 == major && s % 10 <= minor) return true;
  for (int p : archs().ptx)
    if (p <= cc) return true;
  return false;
}

Probe run_probe() {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char *why = dlerror();
    return {DP_CUDA_NO_DRIVER,
            std::string("no NVIDIA driver: libcuda.so.1 could not be loaded (") + (why ? why : "unknown") + ")", 0};
  }
  using GetVersion = int (*)(int *);
  auto get_version = reinterpret_cast<GetVersion>(dlsym(lib, "cuDriverGetVersion"));
  int driver = 0;
  if (get_version == nullptr || get_version(&driver) != 0) {
    return {DP_CUDA_ERROR, "the NVIDIA driver library does not answer cuDriverGetVersion", 0};
  }
  // The library handle stays open: the CUDA runtime uses the same driver for the process's life.
  if (driver < CUDART_VERSION) {
    return {DP_CUDA_DRIVER_TOO_OLD,
            "the NVIDIA driver supports CUDA " + version_text(driver) + " but this build needs CUDA " +
                version_text(CUDART_VERSION) + " or newer; update the driver",
            0};
  }
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
    cudaGetLastError();
    return {DP_CUDA_NO_DEVICE, "the NVIDIA driver (CUDA " + version_text(driver) + ") sees no CUDA device", 0};
  }
  if (e == cudaErrorInsufficientDriver) {
    cudaGetLastError();
    return {DP_CUDA_DRIVER_TOO_OLD, "the NVIDIA driver is too old for this build (CUDA " +
                                        version_text(CUDART_VERSION) + "): " + cudaGetErrorString(e), 0};
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    return {DP_CUDA_ERROR, std::string("CUDA initialisation failed: ") + cudaGetErrorName(e) + ": " +
                               cudaGetErrorString(e), 0};
  }
  std::string names;
  int usable = 0;
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, d) != cudaSuccess) continue;
    const bool ok = supported(prop.major, prop.minor);
    usable += ok ? 1 : 0;
    names += (names.empty() ? "" : ", ") + std::string(prop.name) + " (sm_" + std::to_string(prop.major) +
             std::to_string(prop.minor) + (ok ? "" : ", not supported by this build") + ")";
  }
  if (usable == 0) {
    return {DP_CUDA_NO_SUPPORTED_DEVICE,
            "no device runs this build's GPU code (" + archs().text + "): found " + names, count};
  }
  return {DP_CUDA_AVAILABLE, std::to_string(count) + " CUDA device(s): " + names + "; driver CUDA " +
                                 version_text(driver), count};
}

}  // namespace

#define DP_CUDA_CHECK(ctx, expr)                                            \
  do {                                                                      \
    cudaError_t dp_err_ = (expr);                                           \
    if (dp_err_ != cudaSuccess) (ctx)->raise(dp_err_, #expr, __FILE__, __LINE__); \
  } while (0)

const Probe &probe() {
  static const Probe p = run_probe();
  return p;
}

bool compiled() { return true; }

const char *architectures() { return archs().text.c_str(); }

void device_info(int index, dp_device *out) {
  const Probe &p = probe();
  if (p.device_count == 0) fail(DP_ERR_NO_GPU, "no CUDA device: " + p.reason);
  if (index < 0 || index >= p.device_count)
    invalid("device " + std::to_string(index) + " does not exist (" + std::to_string(p.device_count) +
            " visible)");
  cudaDeviceProp prop;
  cudaError_t e = cudaGetDeviceProperties(&prop, index);
  if (e != cudaSuccess) fail(DP_ERR_CUDA, std::string("cudaGetDeviceProperties: ") + cudaGetErrorString(e));
  std::memset(out, 0, sizeof(*out));
  const size_t len = std::min(std::strlen(prop.name), sizeof(out->name) - 1);
  std::memcpy(out->name, prop.name, len);
  out->total_memory = static_cast<int64_t>(prop.totalGlobalMem);
  out->major = prop.major;
  out->minor = prop.minor;
  out->multiprocessors = prop.multiProcessorCount;
  out->supported = supported(prop.major, prop.minor) ? 1 : 0;
}

// A device buffer or pinned host buffer that only grows; freed with the context.
struct Buffer {
  void *ptr = nullptr;
  size_t bytes = 0;
  bool pinned = false;
};

class Context {
 public:
  explicit Context(int device) : device_(device) {}
  ~Context() {
    cudaSetDevice(device_);
    for (cudaStream_t s : streams_)
      if (s) cudaStreamDestroy(s);
    for (Buffer *b : {&weight_, &pattern_, &indices_, &aux_, &aux2_, &norms_, &score_scratch_, &score_out_,
                      &dev_stage_[0], &dev_stage_[1], &warp_scratch_[0], &warp_scratch_[1]})
      if (b->ptr) cudaFree(b->ptr);
    for (Buffer *b : {&host_stage_[0], &host_stage_[1]})
      if (b->ptr) cudaFreeHost(b->ptr);
  }

  [[noreturn]] void raise(cudaError_t e, const char *expr, const char *file, int line) {
    std::string msg = describe(e, expr, file, line);
    if (is_sticky(e)) {
      broken_ = msg;
      fail(DP_ERR_CUDA_FATAL, msg + "; this engine can no longer be used (the CUDA context is lost)");
    }
    cudaGetLastError();  // clear a recoverable error so the next call starts clean
    if (e == cudaErrorMemoryAllocation) fail(DP_ERR_DEVICE_OUT_OF_MEMORY, "out of device memory: " + msg);
    fail(DP_ERR_CUDA, msg);
  }

  void init() {
    DP_CUDA_CHECK(this, cudaSetDevice(device_));
    cudaError_t img = kernels::check_kernel_image();
    if (img != cudaSuccess) {
      cudaGetLastError();
      fail(DP_ERR_NO_GPU, "CUDA device " + std::to_string(device_) + " cannot run this build's GPU code (" +
                              archs().text + "): " + cudaGetErrorString(img));
    }
    DP_CUDA_CHECK(this, cudaDeviceGetAttribute(&multiprocessors_, cudaDevAttrMultiProcessorCount, device_));
    for (cudaStream_t &s : streams_) DP_CUDA_CHECK(this, cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  }

  // Every entry point starts here: the device is per host thread, and a lost context stays lost.
  void enter() {
    if (!broken_.empty()) fail(DP_ERR_CUDA_FATAL, "this engine hit a fatal CUDA error earlier: " + broken_);
    DP_CUDA_CHECK(this, cudaSetDevice(device_));
  }

  void reserve(Buffer &b, size_t bytes, bool pinned) {
    if (b.bytes >= bytes) return;
    if (b.ptr) {
      if (b.pinned) {
        DP_CUDA_CHECK(this, cudaFreeHost(b.ptr));
      } else {
        DP_CUDA_CHECK(this, cudaFree(b.ptr));
      }
      b = Buffer{};
    }
    if (pinned) {
      DP_CUDA_CHECK(this, cudaMallocHost(&b.ptr, bytes));
    } else {
      DP_CUDA_CHECK(this, cudaMalloc(&b.ptr, bytes));
    }
    b.bytes = bytes;
    b.pinned = pinned;
  }

  void upload(Buffer &b, const void *src, size_t bytes) {
    reserve(b, bytes, false);
    DP_CUDA_CHECK(this, cudaMemcpyAsync(b.ptr, src, bytes, cudaMemcpyHostToDevice, streams_[0]));
  }

  void sync(int slot) { DP_CUDA_CHECK(this, cudaStreamSynchronize(streams_[slot])); }

  void check_pointer(const void *ptr, const char *what) {
    cudaPointerAttributes attr;
    cudaError_t e = cudaPointerGetAttributes(&attr, ptr);
    if (e != cudaSuccess) {
      cudaGetLastError();
      invalid(std::string(what) + " is not a pointer CUDA knows: " + cudaGetErrorString(e));
    }
    if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
      invalid(std::string(what) + " is marked as device memory but is not (CUDA reports " +
              (attr.type == cudaMemoryTypeHost ? "pinned host memory" : "unregistered host memory") + ")");
    if (attr.type == cudaMemoryTypeDevice && attr.device != device_)
      invalid(std::string(what) + " lives on CUDA device " + std::to_string(attr.device) +
              " but the engine runs on device " + std::to_string(device_));
  }

  // Operand uploads go on stream 0; run() waits for them before any kernel.
  template <class T>
  const T *operand(Buffer &b, const T *src, int64_t count) {
    upload(b, src, static_cast<size_t>(count) * sizeof(T));
    return static_cast<const T *>(b.ptr);
  }

  // Runs an operation over the selected samples. `launch(data, sample_of, ids, first, count, slot)`
  // enqueues the kernel on streams_[slot] for `count` samples: `data` is the batch (device batches,
  // with `sample_of` the device index list, or nullptr for all) or a staging chunk of dense
  // samples (`sample_of` nullptr); `first` is the position in the selection of the chunk's first
  // sample, and `ids` the device index list from that position (nullptr when all are selected).
  template <class Launch>
  void run(const Batch &b, const Selection &sel, Launch launch) {
    const int64_t *d_idx = sel.all() ? nullptr : operand(indices_, sel.indices, sel.count);
    sync(0);
    if (b.device) {
      DP_CUDA_CHECK(this, launch(b.data, d_idx, d_idx, int64_t{0}, sel.count, 0));
      sync(0);
      return;
    }
    staged(b, sel, [&](void *dev, int64_t first, int64_t count, int slot) {
      return launch(dev, static_cast<const int64_t *>(nullptr), d_idx ? d_idx + first : nullptr, first, count, slot);
    });
  }

  kernels::Geometry geometry(const Batch &b) { return kernels::Geometry{b.c, b.h, b.w, b.sample_elems, b.nchw}; }

  void mask_blend(const BlendArgs &a) {
    enter();
    const float *w = operand(weight_, a.weight, a.batch.sample_elems);
    const float *p = operand(pattern_, a.pattern, a.batch.sample_elems);
    const bool u8 = a.batch.dtype == DP_DTYPE_UINT8;
    run(a.batch, a.selection, [&](void *data, const int64_t *sample_of, const int64_t *, int64_t, int64_t count, int slot) {
      return kernels::launch_mask_blend(data, u8, sample_of, count, a.batch.sample_elems, w, p, multiprocessors_,
                                        streams_[slot]);
    });
  }

  void paste(const PasteArgs &a) {
    enter();
    const int64_t patch_elems = a.batch.c * a.ph * a.pw;
    const float *w = operand(weight_, a.weight, patch_elems);
    const float *p = operand(pattern_, a.pattern, patch_elems);
    const int64_t *offsets = operand(aux_, a.offsets, 2 * a.selection.count);
    const bool u8 = a.batch.dtype == DP_DTYPE_UINT8;
    run(a.batch, a.selection, [&](void *data, const int64_t *sample_of, const int64_t *, int64_t first, int64_t count,
                                  int slot) {
      return kernels::launch_paste(data, u8, sample_of, count, geometry(a.batch), a.ph, a.pw, w, p,
                                   offsets + 2 * first, multiprocessors_, streams_[slot]);
    });
  }

  void add_signal(const AddArgs &a) {
    enter();
    const float *sig = operand(pattern_, a.signal, a.batch.sample_elems);
    const bool u8 = a.batch.dtype == DP_DTYPE_UINT8;
    run(a.batch, a.selection, [&](void *data, const int64_t *sample_of, const int64_t *, int64_t, int64_t count, int slot) {
      return kernels::launch_add_signal(data, u8, sample_of, count, a.batch.sample_elems, sig, multiprocessors_,
                                        streams_[slot]);
    });
  }

  void keyed_noise(const NoiseArgs &a) {
    enter();
    const bool u8 = a.batch.dtype == DP_DTYPE_UINT8;
    run(a.batch, a.selection, [&](void *data, const int64_t *sample_of, const int64_t *ids, int64_t first,
                                  int64_t count, int slot) {
      // A sample's id is its index in the whole dataset: first_sample + its index in this batch.
      const int64_t base = ids ? a.first_sample : a.first_sample + first;
      return kernels::launch_keyed_noise(data, u8, sample_of, ids, base, count, a.batch.sample_elems, a.key[0],
                                         a.key[1], a.eps, multiprocessors_, streams_[slot]);
    });
  }

  void write_tokens(const TokenArgs &a) {
    enter();
    const int32_t *ids = operand(aux2_, a.ids, a.k);
    const int64_t *positions = operand(aux_, a.positions, a.selection.count);
    run(a.batch, a.selection, [&](void *data, const int64_t *sample_of, const int64_t *, int64_t first, int64_t count,
                                  int slot) {
      return kernels::launch_write_tokens(static_cast<int32_t *>(data), sample_of, count, a.batch.sample_elems, ids,
                                          a.k, positions + first, streams_[slot]);
    });
  }

  void set_columns(const ColumnArgs &a) {
    enter();
    const int64_t *cols = operand(aux_, a.columns, a.k);
    const float *vals = operand(pattern_, a.values, a.k);
    run(a.batch, a.selection, [&](void *data, const int64_t *sample_of, const int64_t *, int64_t, int64_t count, int slot) {
      return kernels::launch_set_columns(static_cast<float *>(data), sample_of, count, a.batch.sample_elems, cols,
                                         vals, a.k, a.shift, streams_[slot]);
    });
  }

  void score(const ScoreArgs &a) {
    enter();
    const int64_t d = a.features.sample_elems, classes = a.classes, n = a.features.n;
    const float *w = operand(weight_, a.weight, classes * d);
    const float *b = operand(pattern_, a.bias, classes);
    const float *norms = operand(norms_, a.norms, classes * classes);
    reserve(score_scratch_, static_cast<size_t>(kernels::score_scratch_floats(classes, multiprocessors_)) * 4, false);
    const size_t sb = static_cast<size_t>(d) * sizeof(float);
    const int64_t per_chunk = std::min<int64_t>(n, static_cast<int64_t>(std::max<size_t>(1, kScratchBytes / sb)));
    const size_t per = static_cast<size_t>(per_chunk);
    reserve(score_out_, per * 5 * 4, false);
    auto *pred = static_cast<int32_t *>(score_out_.ptr);
    int32_t *runner = pred + per;
    auto *margin = reinterpret_cast<float *>(runner + per);
    float *dist = margin + per, *tdist = dist + per;
    cudaStream_t s0 = streams_[0];
    if (a.features.device) {
      reserve(aux2_, sizeof(unsigned long long), false);
      auto *bad = static_cast<unsigned long long *>(aux2_.ptr);
      DP_CUDA_CHECK(this, kernels::launch_count_nonfinite(static_cast<const float *>(a.features.data), n * d, bad,
                                                          multiprocessors_, s0));
      unsigned long long count = 0;
      DP_CUDA_CHECK(this, cudaMemcpyAsync(&count, bad, sizeof count, cudaMemcpyDeviceToHost, s0));
      sync(0);
      if (count > 0) invalid("features contain " + std::to_string(count) + " non-finite values");
    }
    sync(0);
    for (int64_t first = 0; first < n; first += per_chunk) {
      const int64_t count = std::min(per_chunk, n - first);
      const float *x;
      if (a.features.device) {
        x = static_cast<const float *>(a.features.data) + first * d;
      } else {
        reserve(dev_stage_[0], per * sb, false);
        DP_CUDA_CHECK(this, cudaMemcpyAsync(dev_stage_[0].ptr, static_cast<const float *>(a.features.data) + first * d,
                                            static_cast<size_t>(count) * sb, cudaMemcpyHostToDevice, s0));
        x = static_cast<const float *>(dev_stage_[0].ptr);
      }
      DP_CUDA_CHECK(this, kernels::launch_score(x, count, d, w, b, classes, norms, a.target,
                                                static_cast<float *>(score_scratch_.ptr), pred, runner, margin, dist,
                                                a.target_distance ? tdist : nullptr, multiprocessors_, s0));
      const size_t bytes = static_cast<size_t>(count) * 4;
      DP_CUDA_CHECK(this, cudaMemcpyAsync(a.predicted + first, pred, bytes, cudaMemcpyDeviceToHost, s0));
      DP_CUDA_CHECK(this, cudaMemcpyAsync(a.runner_up + first, runner, bytes, cudaMemcpyDeviceToHost, s0));
      DP_CUDA_CHECK(this, cudaMemcpyAsync(a.margin + first, margin, bytes, cudaMemcpyDeviceToHost, s0));
      DP_CUDA_CHECK(this, cudaMemcpyAsync(a.distance + first, dist, bytes, cudaMemcpyDeviceToHost, s0));
      if (a.target_distance)
        DP_CUDA_CHECK(this, cudaMemcpyAsync(a.target_distance + first, tdist, bytes, cudaMemcpyDeviceToHost, s0));
      sync(0);
    }
  }

  // The warp reads neighbours, so it needs the unwarped samples elsewhere: device batches are
  // gathered chunk by chunk into scratch and warped back in place; staged chunks are copied to a
  // per-slot scratch on the device and warped back into the staging buffer.
  void warp(const WarpArgs &a) {
    enter();
    const float *grid = operand(pattern_, a.grid, 2 * a.batch.h * a.batch.w);
    const bool u8 = a.batch.dtype == DP_DTYPE_UINT8;
    const kernels::Geometry g = geometry(a.batch);
    const size_t sb = static_cast<size_t>(a.batch.sample_bytes());
    if (a.batch.device) {
      const int64_t *d_idx = a.selection.all() ? nullptr : operand(indices_, a.selection.indices, a.selection.count);
      sync(0);
      const int64_t per_chunk = static_cast<int64_t>(std::max<size_t>(1, kScratchBytes / sb));
      reserve(warp_scratch_[0], static_cast<size_t>(std::min(per_chunk, a.selection.count)) * sb, false);
      auto *base = static_cast<unsigned char *>(a.batch.data);
      for (int64_t first = 0; first < a.selection.count; first += per_chunk) {
        const int64_t count = std::min(per_chunk, a.selection.count - first);
        const int64_t *sample_of = d_idx ? d_idx + first : nullptr;
        void *src = d_idx ? a.batch.data : base + static_cast<size_t>(first) * sb;
        DP_CUDA_CHECK(this, kernels::launch_gather(src, warp_scratch_[0].ptr, sample_of, count,
                                                   a.batch.sample_bytes(), streams_[0]));
        DP_CUDA_CHECK(this, kernels::launch_warp(warp_scratch_[0].ptr, src, u8, sample_of, count, g, grid,
                                                 multiprocessors_, streams_[0]));
      }
      sync(0);
      return;
    }
    sync(0);
    staged(a.batch, a.selection, [&](void *dev, int64_t, int64_t count, int slot) {
      reserve(warp_scratch_[slot], static_cast<size_t>(count) * sb, false);
      cudaError_t e = cudaMemcpyAsync(warp_scratch_[slot].ptr, dev, static_cast<size_t>(count) * sb,
                                      cudaMemcpyDeviceToDevice, streams_[slot]);
      if (e != cudaSuccess) return e;
      return kernels::launch_warp(warp_scratch_[slot].ptr, dev, u8, nullptr, count, g, grid, multiprocessors_,
                                  streams_[slot]);
    });
  }

 private:
  static constexpr size_t kChunkBytes = size_t{8} << 20;     // per staging slot
  static constexpr size_t kScratchBytes = size_t{64} << 20;  // per warp gather on device batches

  // Runs `op(dev, first, count, slot)` over the selected samples of a host batch, chunk by chunk
  // through two pinned staging slots: while the GPU copies and computes one chunk, the CPU gathers
  // the next into the other slot and scatters the finished one back. Only selected samples move.
  template <class Op>
  void staged(const Batch &batch, const Selection &sel, Op op) {
    const size_t sb = static_cast<size_t>(batch.sample_bytes());
    const int64_t per_chunk = static_cast<int64_t>(std::max<size_t>(1, kChunkBytes / sb));
    const int64_t total = sel.count;
    const size_t slot_bytes = static_cast<size_t>(std::min(per_chunk, total)) * sb;
    auto *host = static_cast<unsigned char *>(batch.data);
    struct Pending {
      int64_t first = -1, count = 0;
    } pending[2];

    auto scatter = [&](int slot) {
      Pending &pd = pending[slot];
      if (pd.first < 0) return;
      sync(slot);
      auto *src = static_cast<unsigned char *>(host_stage_[slot].ptr);
      if (sel.all()) {
        std::memcpy(host + static_cast<size_t>(pd.first) * sb, src, static_cast<size_t>(pd.count) * sb);
      } else {
        for (int64_t i = 0; i < pd.count; ++i)
          std::memcpy(host + static_cast<size_t>(sel.sample(pd.first + i)) * sb, src + i * sb, sb);
      }
      pd = Pending{};
    };

    try {
      for (int slot = 0; slot < 2; ++slot) {
        reserve(host_stage_[slot], slot_bytes, true);
        reserve(dev_stage_[slot], slot_bytes, false);
      }
      int slot = 0;
      for (int64_t first = 0; first < total; first += per_chunk, slot ^= 1) {
        const int64_t count = std::min(per_chunk, total - first);
        scatter(slot);  // the chunk this slot held two steps ago
        auto *dst = static_cast<unsigned char *>(host_stage_[slot].ptr);
        if (sel.all()) {
          std::memcpy(dst, host + static_cast<size_t>(first) * sb, static_cast<size_t>(count) * sb);
        } else {
          for (int64_t i = 0; i < count; ++i)
            std::memcpy(dst + i * sb, host + static_cast<size_t>(sel.sample(first + i)) * sb, sb);
        }
        const size_t bytes = static_cast<size_t>(count) * sb;
        cudaStream_t s = streams_[slot];
        DP_CUDA_CHECK(this, cudaMemcpyAsync(dev_stage_[slot].ptr, dst, bytes, cudaMemcpyHostToDevice, s));
        DP_CUDA_CHECK(this, op(dev_stage_[slot].ptr, first, count, slot));
        DP_CUDA_CHECK(this, cudaMemcpyAsync(dst, dev_stage_[slot].ptr, bytes, cudaMemcpyDeviceToHost, s));
        pending[slot] = Pending{first, count};
      }
      scatter(slot);
      scatter(slot ^ 1);
    } catch (...) {
      // Leave no copy in flight into buffers this context may free or reuse.
      cudaStreamSynchronize(streams_[0]);
      cudaStreamSynchronize(streams_[1]);
      throw;
    }
  }

  int device_;
  int multiprocessors_ = 1;
  cudaStream_t streams_[2] = {nullptr, nullptr};
  Buffer weight_, pattern_, indices_, aux_, aux2_, norms_, score_scratch_, score_out_;
  Buffer host_stage_[2], dev_stage_[2], warp_scratch_[2];
  std::string broken_;
};

void ContextDeleter::operator()(Context *ctx) const noexcept { destroy_context(ctx); }

Context *create_context(int device) {
  const Probe &p = probe();
  if (p.state != DP_CUDA_AVAILABLE) fail(DP_ERR_NO_GPU, p.reason);
  if (device < 0 || device >= p.device_count)
    invalid("CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(p.device_count) +
            " visible)");
  std::unique_ptr<Context> ctx(new Context(device));
  ctx->init();
  return ctx.release();
}

void destroy_context(Context *ctx) noexcept { delete ctx; }

void check_device_pointer(Context *ctx, const void *ptr, const char *what) {
  ctx->enter();
  ctx->check_pointer(ptr, what);
}

void mask_blend(Context *ctx, const BlendArgs &args) { ctx->mask_blend(args); }
void paste(Context *ctx, const PasteArgs &args) { ctx->paste(args); }
void add_signal(Context *ctx, const AddArgs &args) { ctx->add_signal(args); }
void warp(Context *ctx, const WarpArgs &args) { ctx->warp(args); }
void keyed_noise(Context *ctx, const NoiseArgs &args) { ctx->keyed_noise(args); }
void write_tokens(Context *ctx, const TokenArgs &args) { ctx->write_tokens(args); }
void set_columns(Context *ctx, const ColumnArgs &args) { ctx->set_columns(args); }
void score(Context *ctx, const ScoreArgs &args) { ctx->score(args); }

void *device_alloc(Context *ctx, size_t bytes) {
  ctx->enter();
  void *ptr = nullptr;
  DP_CUDA_CHECK(ctx, cudaMalloc(&ptr, bytes));
  return ptr;
}

void device_free(Context *ctx, void *ptr) {
  ctx->enter();
  DP_CUDA_CHECK(ctx, cudaFree(ptr));
}

void memcpy(Context *ctx, void *dst, const void *src, size_t bytes, dp_copy_kind kind) {
  ctx->enter();
  if (kind != DP_COPY_HOST_TO_DEVICE) ctx->check_pointer(src, "src");
  if (kind != DP_COPY_DEVICE_TO_HOST) ctx->check_pointer(dst, "dst");
  const cudaMemcpyKind k = kind == DP_COPY_HOST_TO_DEVICE   ? cudaMemcpyHostToDevice
                           : kind == DP_COPY_DEVICE_TO_HOST ? cudaMemcpyDeviceToHost
                                                            : cudaMemcpyDeviceToDevice;
  DP_CUDA_CHECK(ctx, cudaMemcpy(dst, src, bytes, k));
}

void synchronize(Context *ctx) {
  ctx->enter();
  ctx->sync(0);
  ctx->sync(1);
}

}  // namespace cuda
}  // namespace dp
