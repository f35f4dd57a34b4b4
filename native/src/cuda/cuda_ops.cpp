// The operations of the CUDA backend: per-call host operands uploaded through the arena (resident
// operands are already on the device), then the kernels of kernels/ on the batch in device memory,
// or chunk by chunk through the staging slots for host batches. Nothing waits between the uploads
// and the kernels: they are ordered on one stream (and by an event for the second staging slot).
#include <algorithm>
#include <vector>

#include "cuda/cuda_backend.h"
#include "error.h"

namespace dp {
namespace cuda {

namespace {
constexpr size_t kWarpChunkBytes = size_t{64} << 20;    // per warp gather on device batches
constexpr size_t kScoreChunkBytes = size_t{64} << 20;   // host features per scoring chunk

// The device memory of one fit: the features, labels and orders, the head and the batch's work areas,
// freed when the fit ends, once the stream that used it has finished.
class FitMemory {
 public:
  FitMemory(Context &ctx, cudaStream_t stream) : ctx_(ctx), stream_(stream) {}
  ~FitMemory() {
    cudaStreamSynchronize(stream_);
    for (void *p : ptrs_) cudaFree(p);
  }
  FitMemory(const FitMemory &) = delete;
  FitMemory &operator=(const FitMemory &) = delete;

  // `count` values of T on the device, or nullptr (the error cleared) when it has not that much free memory.
  template <class T>
  T *get(int64_t count) {
    void *p = nullptr;
    const cudaError_t e = cudaMalloc(&p, std::max<size_t>(1, static_cast<size_t>(count) * sizeof(T)));
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return nullptr;
    }
    DP_CUDA_CHECK(&ctx_, e);
    ptrs_.push_back(p);
    return static_cast<T *>(p);
  }

 private:
  Context &ctx_;
  cudaStream_t stream_;
  std::vector<void *> ptrs_;
};
}  // namespace

// `launch(data, sample_of, ids, first, count, stream)` enqueues the kernel for `count` samples:
// `data` is the batch (device batches, with `sample_of` the device index list, or nullptr for all)
// or a staging chunk of dense samples (`sample_of` nullptr); `first` is the position in the
// selection of the chunk's first sample, and `ids` the device index list from that position
// (nullptr when all are selected). Uploads must have been ended (end_uploads) before.
template <class Launch>
void CudaBackend::run(const Batch &b, const Selection &sel, const int64_t *d_idx, Launch launch) {
  if (b.device) {
    DP_CUDA_CHECK(ctx_, launch(b.data, d_idx, d_idx, int64_t{0}, sel.count, ctx_->main()));
    finish_device();
    return;
  }
  staging_.run(*ctx_, b, sel, [&](void *dev, int64_t first, int64_t count, int, cudaStream_t stream) {
    return launch(dev, static_cast<const int64_t *>(nullptr), d_idx ? d_idx + first : nullptr, first, count, stream);
  });
}

void CudaBackend::mask_blend(const BlendArgs &a) {
  begin();
  const int64_t elems = a.batch.sample_elems;
  const float *m = device_values(a.mask, scratch_.mask, elems);
  const float *p = device_values(a.pattern, scratch_.pattern, elems);
  const int64_t *idx = device_selection(a.selection);
  end_uploads();
  const bool u8 = a.batch.dtype == DP_DTYPE_UINT8;
  const int sms = ctx_->multiprocessors();
  run(a.batch, a.selection, idx,
      [&](void *data, const int64_t *sample_of, const int64_t *, int64_t, int64_t count, cudaStream_t s) {
        return kernels::launch_mask_blend(data, u8, sample_of, count, elems, a.amount, m, p, sms, s);
      });
}

// Host batches stay on the host: k elements per sample are not worth a sample's trip to the device and
// back (the same math, so the same bits). Device batches: one thread per listed element, across samples.
void CudaBackend::scatter_blend(const ScatterArgs &a) {
  if (!a.batch.device) {
    host().scatter_blend(a);
    return;
  }
  begin();
  const int64_t *elements = uploads_.put(*ctx_, scratch_.elements, a.elements, a.k);
  const float *values = uploads_.put(*ctx_, scratch_.element_values, a.values, a.k);
  const int64_t *idx = device_selection(a.selection);
  end_uploads();
  const bool u8 = a.batch.dtype == DP_DTYPE_UINT8;
  const int sms = ctx_->multiprocessors();
  run(a.batch, a.selection, idx,
      [&](void *data, const int64_t *sample_of, const int64_t *, int64_t, int64_t count, cudaStream_t s) {
        return kernels::launch_scatter_blend(data, u8, sample_of, count, a.batch.sample_elems, elements, values, a.k,
                                             a.amount, sms, s);
      });
}

void CudaBackend::paste(const PasteArgs &a) {
  begin();
  const int64_t patch_elems = a.batch.c * a.ph * a.pw;
  const float *m = device_values(a.mask, scratch_.mask, patch_elems);
  const float *p = device_values(a.pattern, scratch_.pattern, patch_elems);
  const int64_t *offsets = uploads_.put(*ctx_, scratch_.offsets, a.offsets, 2 * a.selection.count);
  const int64_t *idx = device_selection(a.selection);
  end_uploads();
  const bool u8 = a.batch.dtype == DP_DTYPE_UINT8;
  const kernels::Geometry g = geometry(a.batch);
  const int sms = ctx_->multiprocessors();
  run(a.batch, a.selection, idx,
      [&](void *data, const int64_t *sample_of, const int64_t *, int64_t first, int64_t count, cudaStream_t s) {
        return kernels::launch_paste(data, u8, sample_of, count, g, a.ph, a.pw, a.amount, m, p, offsets + 2 * first,
                                     sms, s);
      });
}

void CudaBackend::add_signal(const AddArgs &a) {
  begin();
  const int64_t elems = a.batch.sample_elems;
  const float *sig = device_values(a.signal, scratch_.signal, elems);
  const int64_t *idx = device_selection(a.selection);
  end_uploads();
  const bool u8 = a.batch.dtype == DP_DTYPE_UINT8;
  const int sms = ctx_->multiprocessors();
  run(a.batch, a.selection, idx,
      [&](void *data, const int64_t *sample_of, const int64_t *, int64_t, int64_t count, cudaStream_t s) {
        return kernels::launch_add_signal(data, u8, sample_of, count, elems, sig, sms, s);
      });
}

void CudaBackend::keyed_noise(const NoiseArgs &a) {
  begin();
  const int64_t *idx = device_selection(a.selection);
  end_uploads();
  const bool u8 = a.batch.dtype == DP_DTYPE_UINT8;
  const int sms = ctx_->multiprocessors();
  run(a.batch, a.selection, idx,
      [&](void *data, const int64_t *sample_of, const int64_t *ids, int64_t first, int64_t count, cudaStream_t s) {
        // A sample's id is its index in the whole dataset: first_sample + its index in this batch.
        const int64_t base = ids ? a.first_sample : a.first_sample + first;
        return kernels::launch_keyed_noise(data, u8, sample_of, ids, base, count, a.batch.sample_elems, a.key[0],
                                           a.key[1], a.eps, sms, s);
      });
}

void CudaBackend::write_tokens(const TokenArgs &a) {
  begin();
  const int32_t *ids = uploads_.put(*ctx_, scratch_.token_ids, a.ids, a.k);
  const int64_t *positions = uploads_.put(*ctx_, scratch_.positions, a.positions, a.selection.count);
  const int64_t *idx = device_selection(a.selection);
  end_uploads();
  run(a.batch, a.selection, idx,
      [&](void *data, const int64_t *sample_of, const int64_t *, int64_t first, int64_t count, cudaStream_t s) {
        return kernels::launch_write_tokens(static_cast<int32_t *>(data), sample_of, count, a.batch.sample_elems, ids,
                                            a.k, positions + first, s);
      });
}

void CudaBackend::set_columns(const ColumnArgs &a) {
  begin();
  const int64_t *cols = uploads_.put(*ctx_, scratch_.columns, a.columns, a.k);
  const float *vals = device_values(a.values, scratch_.column_values, a.k);
  const int64_t *idx = device_selection(a.selection);
  end_uploads();
  run(a.batch, a.selection, idx,
      [&](void *data, const int64_t *sample_of, const int64_t *, int64_t, int64_t count, cudaStream_t s) {
        return kernels::launch_set_columns(static_cast<float *>(data), sample_of, count, a.batch.sample_elems, cols,
                                           vals, a.k, a.shift, s);
      });
}

// The warp reads neighbours, so it needs the unwarped samples elsewhere: device batches are
// gathered chunk by chunk into scratch and warped back in place; staged chunks are copied to a
// per-slot scratch on the device and warped back into the staging buffer.
void CudaBackend::warp(const WarpArgs &a) {
  begin();
  const float *grid = device_values(a.grid, scratch_.grid, 2 * a.batch.h * a.batch.w);
  const int64_t *idx = device_selection(a.selection);
  end_uploads();
  const bool u8 = a.batch.dtype == DP_DTYPE_UINT8;
  const kernels::Geometry g = geometry(a.batch);
  const size_t sb = static_cast<size_t>(a.batch.sample_bytes());
  const int sms = ctx_->multiprocessors();
  if (a.batch.device) {
    const int64_t per_chunk = static_cast<int64_t>(std::max<size_t>(1, kWarpChunkBytes / sb));
    void *source = scratch_.warp_source[0].reserve(*ctx_, static_cast<size_t>(std::min(per_chunk, a.selection.count)) * sb);
    auto *base = static_cast<unsigned char *>(a.batch.data);
    for (int64_t first = 0; first < a.selection.count; first += per_chunk) {
      const int64_t count = std::min(per_chunk, a.selection.count - first);
      const int64_t *sample_of = idx ? idx + first : nullptr;
      void *dst = idx ? a.batch.data : base + static_cast<size_t>(first) * sb;
      DP_CUDA_CHECK(ctx_, kernels::launch_gather(dst, source, sample_of, count, a.batch.sample_bytes(), ctx_->main()));
      DP_CUDA_CHECK(ctx_, kernels::launch_warp(source, dst, u8, sample_of, count, g, grid, sms, ctx_->main()));
    }
    finish_device();
    return;
  }
  staging_.run(*ctx_, a.batch, a.selection, [&](void *dev, int64_t, int64_t count, int slot, cudaStream_t s) {
    void *source = scratch_.warp_source[slot].reserve(*ctx_, static_cast<size_t>(count) * sb);
    const cudaError_t e = cudaMemcpyAsync(source, dev, static_cast<size_t>(count) * sb, cudaMemcpyDeviceToDevice, s);
    if (e != cudaSuccess) return e;
    return kernels::launch_warp(source, dev, u8, nullptr, count, g, grid, sms, s);
  });
}

void CudaBackend::fit_linear(const FitArgs &a) {
  ctx_->enter();
  const int64_t n = a.n, d = a.d, classes = a.classes, batch = std::min<int64_t>(a.batch, a.n);
  // The engine's own stream: the fit takes host arrays and is complete on return, so it need not queue
  // behind a caller's work.
  const cudaStream_t s = ctx_->own();
  FitMemory mem(*ctx_, s);
  float *x = mem.get<float>(n * d);
  int32_t *labels = x ? mem.get<int32_t>(n) : nullptr;
  int64_t *order = labels ? mem.get<int64_t>(int64_t{a.epochs} * n) : nullptr;
  float *weight = order ? mem.get<float>(classes * d) : nullptr;
  float *bias = weight ? mem.get<float>(classes) : nullptr;
  float *z = bias ? mem.get<float>(batch * classes) : nullptr;
  float *coef = z ? mem.get<float>(batch * classes) : nullptr;
  if (coef == nullptr) {
    // Too little device memory for these features: the CPU fits them, to the same bits.
    host().fit_linear(a);
    return;
  }
  DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(x, a.features, static_cast<size_t>(n * d) * sizeof(float),
                                      cudaMemcpyHostToDevice, s));
  DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(labels, a.labels, static_cast<size_t>(n) * sizeof(int32_t),
                                      cudaMemcpyHostToDevice, s));
  DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(order, a.order, static_cast<size_t>(int64_t{a.epochs} * n) * sizeof(int64_t),
                                      cudaMemcpyHostToDevice, s));
  // +0.0f is the all-zero pattern.
  DP_CUDA_CHECK(ctx_, cudaMemsetAsync(weight, 0, static_cast<size_t>(classes * d) * sizeof(float), s));
  DP_CUDA_CHECK(ctx_, cudaMemsetAsync(bias, 0, static_cast<size_t>(classes) * sizeof(float), s));
  const int sms = ctx_->multiprocessors();
  for (int epoch = 0; epoch < a.epochs; ++epoch) {
    const float step = a.rate / static_cast<float>(1 + epoch);
    const float decay = step * a.l2;
    const int64_t *perm = order + int64_t{epoch} * n;
    for (int64_t start = 0; start < n; start += a.batch) {
      const int64_t m = std::min<int64_t>(a.batch, n - start);
      const float scale = step / static_cast<float>(m);
      DP_CUDA_CHECK(ctx_, kernels::launch_fit_step(x, d, labels, perm + start, m, weight, bias, classes, scale, decay,
                                                   z, coef, sms, s));
    }
  }
  DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(a.weight, weight, static_cast<size_t>(classes * d) * sizeof(float),
                                      cudaMemcpyDeviceToHost, s));
  DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(a.bias, bias, static_cast<size_t>(classes) * sizeof(float),
                                      cudaMemcpyDeviceToHost, s));
  DP_CUDA_CHECK(ctx_, cudaStreamSynchronize(s));
}

void CudaBackend::score(const ScoreArgs &a) {
  begin();
  const int64_t d = a.features.sample_elems, classes = a.classes, n = a.features.n;
  const float *w = device_values(a.weight, scratch_.head_weight, classes * d);
  const float *b = device_values(a.bias, scratch_.head_bias, classes);
  const float *norms = device_values(a.norms, scratch_.head_norms, classes * classes);
  end_uploads();
  const int sms = ctx_->multiprocessors();
  const cudaStream_t s = ctx_->main();
  auto *logits = scratch_.logits.reserve_as<float>(*ctx_, kernels::score_scratch_floats(classes, sms));
  if (a.features.device) {
    // Checked before any output is written: the device features must be finite.
    auto *bad = scratch_.nonfinite.reserve_as<unsigned long long>(*ctx_, 1);
    DP_CUDA_CHECK(ctx_, kernels::launch_count_nonfinite(static_cast<const float *>(a.features.data), n * d, bad, sms, s));
    unsigned long long count = 0;
    DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(&count, bad, sizeof count, cudaMemcpyDeviceToHost, s));
    ctx_->sync_main();
    if (count > 0) invalid("features contain " + std::to_string(count) + " non-finite values");
  }
  const size_t sb = static_cast<size_t>(d) * sizeof(float);
  const int64_t per_chunk = std::min<int64_t>(n, static_cast<int64_t>(std::max<size_t>(1, kScoreChunkBytes / sb)));
  const size_t per = static_cast<size_t>(per_chunk);
  auto *pred = scratch_.scores.reserve_as<int32_t>(*ctx_, 5 * per_chunk);
  int32_t *runner = pred + per;
  auto *margin = reinterpret_cast<float *>(runner + per);
  float *dist = margin + per, *tdist = dist + per;
  // One stream: a chunk's copies in and out are ordered around its kernel, so the chunk buffers
  // are reused without waiting; the host waits once, at the end.
  for (int64_t first = 0; first < n; first += per_chunk) {
    const int64_t count = std::min(per_chunk, n - first);
    const float *x;
    if (a.features.device) {
      x = static_cast<const float *>(a.features.data) + first * d;
    } else {
      auto *chunk = scratch_.features.reserve_as<float>(*ctx_, per_chunk * d);
      DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(chunk, static_cast<const float *>(a.features.data) + first * d,
                                          static_cast<size_t>(count) * sb, cudaMemcpyHostToDevice, s));
      x = chunk;
    }
    DP_CUDA_CHECK(ctx_, kernels::launch_score(x, count, d, w, b, classes, norms, a.target, logits, pred, runner, margin,
                                              dist, a.target_distance ? tdist : nullptr, sms, s));
    const size_t bytes = static_cast<size_t>(count) * 4;
    DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(a.predicted + first, pred, bytes, cudaMemcpyDeviceToHost, s));
    DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(a.runner_up + first, runner, bytes, cudaMemcpyDeviceToHost, s));
    DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(a.margin + first, margin, bytes, cudaMemcpyDeviceToHost, s));
    DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(a.distance + first, dist, bytes, cudaMemcpyDeviceToHost, s));
    if (a.target_distance)
      DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(a.target_distance + first, tdist, bytes, cudaMemcpyDeviceToHost, s));
  }
  ctx_->sync_main();
}

}  // namespace cuda
}  // namespace dp
