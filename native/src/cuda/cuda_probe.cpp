// Probing CUDA without the runtime's help where the runtime cannot tell: dlopen("libcuda.so.1")
// and cuDriverGetVersion tell "no driver" from "driver too old" (the static runtime reports both
// as cudaErrorInsufficientDriver); cudaGetDeviceCount then tells "no device"; devices are checked
// against the compiled architectures.
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "cuda/cuda.h"
#include "error.h"

#ifndef DYEPACK_CUDA_ARCHS
#define DYEPACK_CUDA_ARCHS ""
#endif

namespace dp {
namespace cuda {

namespace {

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

CudaProbe run_probe() {
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

const CudaProbe &probe() {
  static const CudaProbe p = run_probe();
  return p;
}

const char *architectures() { return archs().text.c_str(); }

void device_info(int index, dp_device *out) {
  const CudaProbe &p = probe();
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

}  // namespace cuda
}  // namespace dp
