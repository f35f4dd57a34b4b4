// Mask blend kernels: x' = blend_value(x, amount * mask, p) per element (dyepack_math/pixel.h), in place.
#include <algorithm>
#include <cstdint>

#include "dyepack_math/pixel.h"
#include "dyepack_kernels/kernels.h"

namespace dp {
namespace kernels {

namespace {

constexpr int kBlock = 256;

template <int V>
struct FloatVec;
template <>
struct FloatVec<1> {
  using type = float;
};
template <>
struct FloatVec<4> {
  using type = float4;
};

__device__ __forceinline__ float lane(float v, int) { return v; }
__device__ __forceinline__ float lane(const float4 &v, int k) { return k == 0 ? v.x : k == 1 ? v.y : k == 2 ? v.z : v.w; }

// Data vectors of V elements of T, loaded and stored as one access.
template <class T, int V>
struct alignas(sizeof(T) * V) DataVec {
  T v[V];
};

// Each thread owns V consecutive elements of one image position (grid-stride over x) and walks
// the selected samples (grid-stride over y), computing its weights and loading its pattern once
// for all of them. Elements whose weight is 0 are neither read nor written.
template <class T, int V>
__global__ void __launch_bounds__(kBlock) mask_blend_kernel(T *__restrict__ data, const int64_t *__restrict__ indices,
                                                            int64_t count, int64_t sample_elems, float amount,
                                                            const float *__restrict__ mask,
                                                            const float *__restrict__ pattern) {
  using FV = typename FloatVec<V>::type;
  const int64_t vecs = sample_elems / V;
  for (int64_t q = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; q < vecs; q += int64_t{gridDim.x} * blockDim.x) {
    const FV m = reinterpret_cast<const FV *>(mask)[q];
    float w[V];
    bool any = false;
#pragma unroll
    for (int k = 0; k < V; ++k) {
      w[k] = math::blend_weight(amount, lane(m, k));
      any = any || w[k] != 0.0f;
    }
    if (!any) continue;
    const FV p = reinterpret_cast<const FV *>(pattern)[q];
    for (int64_t i = blockIdx.y; i < count; i += gridDim.y) {
      const int64_t s = indices ? indices[i] : i;
      auto *x = reinterpret_cast<DataVec<T, V> *>(data + s * sample_elems) + q;
      DataVec<T, V> in = *x, out;
#pragma unroll
      for (int k = 0; k < V; ++k) {
        math::store(&out.v[k], math::blend_value(math::load_f32(in.v[k]), w[k], lane(p, k)));
      }
      *x = out;
    }
  }
}

template <class T, int V>
cudaError_t launch_typed(T *data, const int64_t *indices, int64_t count, int64_t sample_elems, float amount,
                         const float *mask, const float *pattern, int multiprocessors, cudaStream_t stream) {
  const int64_t vecs = sample_elems / V;
  const int64_t target = int64_t{multiprocessors > 0 ? multiprocessors : 1} * 8;
  const int64_t gx = std::min<int64_t>((vecs + kBlock - 1) / kBlock, int64_t{1} << 30);
  int64_t gy = std::max<int64_t>(1, target / std::max<int64_t>(gx, 1));
  gy = std::min<int64_t>({gy, count, int64_t{65535}});
  dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy));
  mask_blend_kernel<T, V><<<grid, kBlock, 0, stream>>>(data, indices, count, sample_elems, amount, mask, pattern);
  return cudaGetLastError();
}

bool aligned(const void *p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

__global__ void image_probe_kernel() {}

}  // namespace

cudaError_t launch_mask_blend(void *data, bool is_u8, const int64_t *indices, int64_t count, int64_t sample_elems,
                              float amount, const float *mask, const float *pattern, int multiprocessors,
                              cudaStream_t stream) {
  if (count <= 0 || sample_elems <= 0) return cudaSuccess;
  // Four elements per access when every sample start, mask and pattern are suitably aligned.
  const size_t eb = is_u8 ? 1 : 4;
  const bool vec4 = sample_elems % 4 == 0 && aligned(data, 4 * eb) && aligned(mask, 16) && aligned(pattern, 16);
  if (is_u8) {
    auto *d = static_cast<uint8_t *>(data);
    return vec4 ? launch_typed<uint8_t, 4>(d, indices, count, sample_elems, amount, mask, pattern, multiprocessors,
                                           stream)
                : launch_typed<uint8_t, 1>(d, indices, count, sample_elems, amount, mask, pattern, multiprocessors,
                                           stream);
  }
  auto *d = static_cast<float *>(data);
  return vec4 ? launch_typed<float, 4>(d, indices, count, sample_elems, amount, mask, pattern, multiprocessors, stream)
              : launch_typed<float, 1>(d, indices, count, sample_elems, amount, mask, pattern, multiprocessors, stream);
}

cudaError_t check_kernel_image() {
  cudaFuncAttributes attr;
  return cudaFuncGetAttributes(&attr, image_probe_kernel);
}

}  // namespace kernels
}  // namespace dp
