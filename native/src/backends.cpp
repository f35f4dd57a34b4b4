#include "backends.h"

#include "cpu/cpu_backend.h"
#include "cpu/variant.h"
#include "error.h"

// The only compile-time branch on CUDA: a build without the kernels has no CUDA backend, and says
// so wherever CUDA is asked for.
#if DYEPACK_WITH_CUDA
#include "cuda/cuda.h"
#endif

namespace dp {

namespace {

#if DYEPACK_WITH_CUDA
constexpr bool kCudaCompiled = true;
const CudaProbe &probe() { return cuda::probe(); }
const char *architectures() { return cuda::architectures(); }
void device_info(int index, dp_device *out) { cuda::device_info(index, out); }
std::unique_ptr<Backend> create_cuda(int device, cpu::Variant host) { return cuda::create_backend(device, host); }
#else
constexpr bool kCudaCompiled = false;
const char kNotCompiled[] =
    "this build of DyePack has no CUDA kernels (it was built with -Ddyepack.cuda=OFF or on a machine without nvcc)";
const CudaProbe &probe() {
  static const CudaProbe p{DP_CUDA_NOT_COMPILED, kNotCompiled, 0};
  return p;
}
const char *architectures() { return ""; }
void device_info(int index, dp_device *) {
  fail(DP_ERR_NO_GPU, "no CUDA device " + std::to_string(index) + ": " + kNotCompiled);
}
std::unique_ptr<Backend> create_cuda(int, cpu::Variant) { fail(DP_ERR_NO_GPU, kNotCompiled); }
#endif

}  // namespace

const CudaProbe &cuda_probe() { return probe(); }

bool cuda_compiled() { return kCudaCompiled; }

const char *cuda_architectures() { return architectures(); }

void cuda_device_info(int index, dp_device *out) { device_info(index, out); }

CreatedBackend create_backend(int32_t requested, int device) {
  const cpu::VariantChoice cpu = cpu::choose_variant();
  const std::string on_cpu =
      "running on the CPU (" + std::to_string(cpu::hardware_threads()) + " threads, " + cpu.description + ")";
  const std::string host_work = "; host-side work (argument scans, head norms) on the CPU's " +
                                std::string(cpu::variant_name(cpu.variant)) + " loops";
  if (requested == DP_BACKEND_CPU) return {cpu::create_backend(cpu.variant), "CPU backend requested; " + on_cpu};
  const CudaProbe &p = probe();
  if (requested == DP_BACKEND_CUDA) {
    if (p.state != DP_CUDA_AVAILABLE) fail(DP_ERR_NO_GPU, "CUDA backend requested but unavailable: " + p.reason);
    return {create_cuda(device, cpu.variant), "CUDA backend requested; " + p.reason + host_work};
  }
  if (p.state != DP_CUDA_AVAILABLE) return {cpu::create_backend(cpu.variant), "no usable GPU (" + p.reason + "); " + on_cpu};
  try {
    return {create_cuda(device, cpu.variant), "a CUDA device answered; " + p.reason + host_work};
  } catch (const Error &e) {
    return {cpu::create_backend(cpu.variant),
            "CUDA device " + std::to_string(device) + " could not be used (" + e.what() + "); " + on_cpu};
  }
}

}  // namespace dp
