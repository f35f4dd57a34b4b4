// Kernels of the trigger primitives other than the mask blend (mask_blend.cu): patch pasting, the
// mask blend at listed elements, additive signals, warps, keyed noise, token and column triggers, and
// a sample gather. All the per-element arithmetic comes from dyepack_math, shared with the CPU backend.
#include <algorithm>
#include <cstdint>

#include "dyepack_math/philox.h"
#include "dyepack_math/pixel.h"
#include "dyepack_kernels/kernels.h"

namespace dp {
namespace kernels {

namespace {

constexpr int kBlock = 256;

// A 2-D grid: x covers `items` per sample (grid-stride), y covers the samples (grid-stride), sized
// so that the whole launch has a few blocks per multiprocessor.
dim3 grid_for(int64_t items, int64_t samples, int multiprocessors) {
  const int64_t target = int64_t{multiprocessors > 0 ? multiprocessors : 1} * 8;
  const int64_t gx = std::max<int64_t>(1, std::min<int64_t>((items + kBlock - 1) / kBlock, int64_t{1} << 30));
  int64_t gy = std::max<int64_t>(1, target / gx);
  gy = std::max<int64_t>(1, std::min<int64_t>({gy, samples, int64_t{65535}}));
  return dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy));
}

__device__ __forceinline__ int64_t x_start() { return int64_t{blockIdx.x} * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t x_stride() { return int64_t{gridDim.x} * blockDim.x; }

template <class T>
__global__ void __launch_bounds__(kBlock)
    scatter_blend_kernel(T *__restrict__ data, const int64_t *__restrict__ sample_of, int64_t count, int64_t elems,
                         const int64_t *__restrict__ elements, const float *__restrict__ values, int64_t k,
                         float w) {
  for (int64_t j = x_start(); j < k; j += x_stride()) {
    const int64_t e = elements[j];
    const float p = values[j];
    for (int64_t i = blockIdx.y; i < count; i += gridDim.y) {
      T *dst = data + (sample_of ? sample_of[i] : i) * elems + e;
      math::store(dst, math::blend_value(math::load_f32(*dst), w, p));
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock)
    paste_kernel(T *__restrict__ data, const int64_t *__restrict__ sample_of, int64_t count, Geometry g, int64_t ph,
                 int64_t pw, float amount, const float *__restrict__ mask, const float *__restrict__ pattern,
                 const int64_t *__restrict__ offsets) {
  const int64_t patch_elems = g.c * ph * pw;
  for (int64_t pe = x_start(); pe < patch_elems; pe += x_stride()) {
    const float w = math::blend_weight(amount, mask[pe]);
    if (w == 0.0f) continue;
    const float p = pattern[pe];
    // Invert the patch's own layout offset into (c, y, x).
    int64_t c, y, x;
    if (g.nchw) {
      c = pe / (ph * pw);
      y = (pe / pw) % ph;
      x = pe % pw;
    } else {
      c = pe % g.c;
      x = (pe / g.c) % pw;
      y = pe / (g.c * pw);
    }
    for (int64_t i = blockIdx.y; i < count; i += gridDim.y) {
      const int64_t s = sample_of ? sample_of[i] : i;
      T *dst = data + s * g.elems +
               math::offset(g.nchw, c, offsets[2 * i] + y, offsets[2 * i + 1] + x, g.c, g.h, g.w);
      math::store(dst, math::blend_value(math::load_f32(*dst), w, p));
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock)
    add_signal_kernel(T *__restrict__ data, const int64_t *__restrict__ sample_of, int64_t count, int64_t elems,
                      const float *__restrict__ signal) {
  for (int64_t e = x_start(); e < elems; e += x_stride()) {
    const float sig = signal[e];
    for (int64_t i = blockIdx.y; i < count; i += gridDim.y) {
      T *x = data + (sample_of ? sample_of[i] : i) * elems + e;
      math::store(x, math::add_value(math::load_f32(*x), sig));
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock)
    warp_kernel(const T *__restrict__ src, T *__restrict__ dst, const int64_t *__restrict__ sample_of, int64_t count,
                Geometry g, const float *__restrict__ grid) {
  const int64_t pixels = g.h * g.w;
  for (int64_t px = x_start(); px < pixels; px += x_stride()) {
    const math::BilinearTap tap = math::bilinear_tap(g.h, g.w, grid[px], grid[pixels + px]);
    const int64_t y = px / g.w, x = px % g.w;
    for (int64_t i = blockIdx.y; i < count; i += gridDim.y) {
      const T *image = src + i * g.elems;
      T *out = dst + (sample_of ? sample_of[i] : i) * g.elems;
      for (int64_t c = 0; c < g.c; ++c) {
        math::store(out + math::offset(g.nchw, c, y, x, g.c, g.h, g.w),
                    math::bilinear(image, g.nchw, g.c, g.h, g.w, c, tap));
      }
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock)
    keyed_noise_kernel(T *__restrict__ data, const int64_t *__restrict__ sample_of, const int64_t *__restrict__ id_of,
                       int64_t id_base, int64_t count, int64_t elems, uint32_t key0, uint32_t key1, float eps) {
  const int64_t quads = (elems + 3) / 4;
  for (int64_t q = x_start(); q < quads; q += x_stride()) {
    for (int64_t i = blockIdx.y; i < count; i += gridDim.y) {
      const int64_t id = id_base + (id_of ? id_of[i] : i);
      const math::Philox4 r = math::keyed_block(key0, key1, id, q);
      T *x = data + (sample_of ? sample_of[i] : i) * elems + q * 4;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        if (q * 4 + j < elems) math::store(x + j, math::noise_value(math::load_f32(x[j]), eps, math::unit_uniform(r.v[j])));
      }
    }
  }
}

__global__ void __launch_bounds__(kBlock)
    write_tokens_kernel(int32_t *__restrict__ data, const int64_t *__restrict__ sample_of, int64_t count,
                        int64_t length, const int32_t *__restrict__ ids, int64_t k,
                        const int64_t *__restrict__ positions) {
  for (int64_t t = x_start(); t < count * k; t += x_stride()) {
    const int64_t i = t / k, j = t % k;
    data[(sample_of ? sample_of[i] : i) * length + positions[i] + j] = ids[j];
  }
}

__global__ void __launch_bounds__(kBlock)
    set_columns_kernel(float *__restrict__ data, const int64_t *__restrict__ sample_of, int64_t count, int64_t width,
                       const int64_t *__restrict__ columns, const float *__restrict__ values, int64_t k, bool shift) {
  for (int64_t t = x_start(); t < count * k; t += x_stride()) {
    const int64_t i = t / k, j = t % k;
    float *v = data + (sample_of ? sample_of[i] : i) * width + columns[j];
    *v = shift ? math::add_value(*v, values[j]) : values[j];
  }
}

template <class W>
__global__ void __launch_bounds__(kBlock)
    gather_kernel(const W *__restrict__ src, W *__restrict__ dst, const int64_t *__restrict__ sample_of, int64_t count,
                  int64_t words) {
  for (int64_t e = x_start(); e < words; e += x_stride()) {
    for (int64_t i = blockIdx.y; i < count; i += gridDim.y) {
      dst[i * words + e] = src[(sample_of ? sample_of[i] : i) * words + e];
    }
  }
}

template <class Body>
cudaError_t by_dtype(bool is_u8, Body body) {
  if (is_u8) {
    body(uint8_t{});
  } else {
    body(float{});
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_paste(void *data, bool is_u8, const int64_t *sample_of, int64_t count, Geometry g, int64_t ph,
                         int64_t pw, float amount, const float *mask, const float *pattern, const int64_t *offsets,
                         int multiprocessors, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  return by_dtype(is_u8, [&](auto tag) {
    using T = decltype(tag);
    paste_kernel<T><<<grid_for(g.c * ph * pw, count, multiprocessors), kBlock, 0, stream>>>(
        static_cast<T *>(data), sample_of, count, g, ph, pw, amount, mask, pattern, offsets);
  });
}

cudaError_t launch_scatter_blend(void *data, bool is_u8, const int64_t *sample_of, int64_t count, int64_t elems,
                                 const int64_t *elements, const float *values, int64_t k, float amount,
                                 int multiprocessors, cudaStream_t stream) {
  if (count <= 0 || k <= 0) return cudaSuccess;
  const float w = math::blend_weight(amount, 1.0f);
  return by_dtype(is_u8, [&](auto tag) {
    using T = decltype(tag);
    scatter_blend_kernel<T><<<grid_for(k, count, multiprocessors), kBlock, 0, stream>>>(
        static_cast<T *>(data), sample_of, count, elems, elements, values, k, w);
  });
}

cudaError_t launch_add_signal(void *data, bool is_u8, const int64_t *sample_of, int64_t count, int64_t elems,
                              const float *signal, int multiprocessors, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  return by_dtype(is_u8, [&](auto tag) {
    using T = decltype(tag);
    add_signal_kernel<T><<<grid_for(elems, count, multiprocessors), kBlock, 0, stream>>>(static_cast<T *>(data),
                                                                                          sample_of, count, elems,
                                                                                          signal);
  });
}

cudaError_t launch_warp(const void *src, void *dst, bool is_u8, const int64_t *sample_of, int64_t count, Geometry g,
                        const float *grid, int multiprocessors, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  return by_dtype(is_u8, [&](auto tag) {
    using T = decltype(tag);
    warp_kernel<T><<<grid_for(g.h * g.w, count, multiprocessors), kBlock, 0, stream>>>(
        static_cast<const T *>(src), static_cast<T *>(dst), sample_of, count, g, grid);
  });
}

cudaError_t launch_keyed_noise(void *data, bool is_u8, const int64_t *sample_of, const int64_t *id_of, int64_t id_base,
                               int64_t count, int64_t elems, uint32_t key0, uint32_t key1, float eps,
                               int multiprocessors, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  return by_dtype(is_u8, [&](auto tag) {
    using T = decltype(tag);
    keyed_noise_kernel<T><<<grid_for((elems + 3) / 4, count, multiprocessors), kBlock, 0, stream>>>(
        static_cast<T *>(data), sample_of, id_of, id_base, count, elems, key0, key1, eps);
  });
}

cudaError_t launch_write_tokens(int32_t *data, const int64_t *sample_of, int64_t count, int64_t length,
                                const int32_t *ids, int64_t k, const int64_t *positions, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  write_tokens_kernel<<<grid_for(count * k, 1, 1).x, kBlock, 0, stream>>>(data, sample_of, count, length, ids, k,
                                                                          positions);
  return cudaGetLastError();
}

cudaError_t launch_set_columns(float *data, const int64_t *sample_of, int64_t count, int64_t width,
                               const int64_t *columns, const float *values, int64_t k, bool shift,
                               cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  set_columns_kernel<<<grid_for(count * k, 1, 1).x, kBlock, 0, stream>>>(data, sample_of, count, width, columns,
                                                                         values, k, shift);
  return cudaGetLastError();
}

cudaError_t launch_gather(const void *src, void *dst, const int64_t *sample_of, int64_t count, int64_t sample_bytes,
                          cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  const bool words = sample_bytes % 4 == 0 && reinterpret_cast<uintptr_t>(src) % 4 == 0 &&
                     reinterpret_cast<uintptr_t>(dst) % 4 == 0;
  if (words) {
    gather_kernel<uint32_t><<<grid_for(sample_bytes / 4, count, 16), kBlock, 0, stream>>>(
        static_cast<const uint32_t *>(src), static_cast<uint32_t *>(dst), sample_of, count, sample_bytes / 4);
  } else {
    gather_kernel<uint8_t><<<grid_for(sample_bytes, count, 16), kBlock, 0, stream>>>(
        static_cast<const uint8_t *>(src), static_cast<uint8_t *>(dst), sample_of, count, sample_bytes);
  }
  return cudaGetLastError();
}

}  // namespace kernels
}  // namespace dp
