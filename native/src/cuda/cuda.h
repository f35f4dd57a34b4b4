// The CUDA backend as backends.cpp sees it: the probe, device descriptions and the factory. No CUDA
// type appears here; everything behind it is compiled only when the kernels are built.
#ifndef DYEPACK_SRC_CUDA_CUDA_H
#define DYEPACK_SRC_CUDA_CUDA_H

#include <memory>

#include "backend.h"
#include "backends.h"
#include "cpu/variant.h"

namespace dp {
namespace cuda {

// cuda_probe.cpp: driver, devices and compiled architectures, probed once per process.
const CudaProbe &probe();
const char *architectures();
void device_info(int index, dp_device *out);

// True when this build carries code (SASS or PTX) that runs on a device of this compute capability.
bool supported(int major, int minor);

// cuda_backend.cpp: a backend on `device` whose host-side work uses the `host` variant of the CPU
// loops. Throws Error(DP_ERR_NO_GPU) when the device cannot run this build's code.
std::unique_ptr<Backend> create_backend(int device, cpu::Variant host);

}  // namespace cuda
}  // namespace dp

#endif  // DYEPACK_SRC_CUDA_CUDA_H
