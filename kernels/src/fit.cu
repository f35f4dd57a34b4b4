// The surrogate fit's step on the device (dp_fit_linear on a CUDA engine), in the CPU fit's operations and
// order (docs/numerics.md, "Surrogate fit"), so both give the same head, bit for bit:
//  - fit_forward_kernel: one block per sample of the batch. Its warps take the classes in turn, each logit in
//    the scoring order (math::dot_lanes: lane l adds fmaf(x[e], w[e], acc) for e = l, l+32, ...; then the
//    shuffle tree), plus the bias; then one thread turns the sample's logits into its softmax gradient and
//    coefficients (math::softmax_gradient, with the fit's own e^x).
//  - fit_update_kernel: one thread per weight element, w - f_k * x_k[e] for the batch's samples k in order
//    (product and difference each rounded: the kernels are compiled with --fmad=false), then w - decay * w;
//    and one thread per class for the bias, b - scale * (the gradients summed in batch order).
// Every sample's logits are taken from the weights before the batch: the update is launched after the
// forward pass on the same stream.
#include <algorithm>
#include <cstdint>

#include "dyepack_kernels/kernels.h"
#include "dyepack_math/fit.h"
#include "warp_dot.cuh"

namespace dp {
namespace kernels {

namespace {

constexpr int kBlock = 256;
constexpr int kWarpsPerBlock = kBlock / 32;

__global__ void __launch_bounds__(kBlock)
    fit_forward_kernel(const float *__restrict__ features, int64_t d, const int32_t *__restrict__ labels,
                       const int64_t *__restrict__ perm, const float *__restrict__ weight,
                       const float *__restrict__ bias, int64_t classes, float scale, float *__restrict__ z,
                       float *__restrict__ coef) {
  const int64_t k = blockIdx.x;  // the sample's place in the batch
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t row = perm[k];
  const float *x = features + row * d;
  float *zk = z + k * classes;
  for (int64_t c = warp; c < classes; c += kWarpsPerBlock) {
    const float acc = warp_dot(x, weight + c * d, d, lane);
    if (lane == 0) zk[c] = acc + bias[c];
  }
  __syncthreads();
  if (threadIdx.x == 0) math::softmax_gradient(zk, classes, labels[row], scale, coef + k * classes);
}

__global__ void __launch_bounds__(kBlock)
    fit_update_kernel(const float *__restrict__ features, int64_t d, const int64_t *__restrict__ perm, int64_t m,
                      float *__restrict__ weight, float *__restrict__ bias, int64_t classes,
                      const float *__restrict__ z, const float *__restrict__ coef, float scale, float decay) {
  const int64_t elems = classes * d;
  for (int64_t t = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; t < elems + classes;
       t += int64_t{gridDim.x} * blockDim.x) {
    if (t < elems) {
      const int64_t c = t / d, e = t - c * d;
      float v = weight[t];
      for (int64_t k = 0; k < m; ++k) v = v - coef[k * classes + c] * features[perm[k] * d + e];
      weight[t] = v - decay * v;
    } else {
      const int64_t c = t - elems;
      float gb = 0.0f;
      for (int64_t k = 0; k < m; ++k) gb = gb + z[k * classes + c];
      bias[c] = bias[c] - scale * gb;
    }
  }
}

}  // namespace

cudaError_t launch_fit_step(const float *features, int64_t d, const int32_t *labels, const int64_t *perm, int64_t m,
                            float *weight, float *bias, int64_t classes, float scale, float decay, float *z,
                            float *coef, int multiprocessors, cudaStream_t stream) {
  if (m <= 0) return cudaSuccess;
  fit_forward_kernel<<<static_cast<unsigned>(m), kBlock, 0, stream>>>(features, d, labels, perm, weight, bias,
                                                                       classes, scale, z, coef);
  const int64_t threads = classes * d + classes;
  const int64_t blocks = std::min<int64_t>(int64_t{std::max(multiprocessors, 1)} * 8, (threads + kBlock - 1) / kBlock);
  fit_update_kernel<<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(features, d, perm, m, weight, bias, classes,
                                                                           z, coef, scale, decay);
  return cudaGetLastError();
}

}  // namespace kernels
}  // namespace dp
