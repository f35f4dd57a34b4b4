#include "cuda/cuda_context.h"

#include <sstream>

#include "cuda/cuda.h"
#include "dyepack_kernels/kernels.h"
#include "error.h"

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

}  // namespace

std::unique_ptr<Context> Context::create(int device) {
  std::unique_ptr<Context> ctx(new Context(device));
  DP_CUDA_CHECK(ctx, cudaSetDevice(device));
  const cudaError_t img = kernels::check_kernel_image();
  if (img != cudaSuccess) {
    cudaGetLastError();
    fail(DP_ERR_NO_GPU, "CUDA device " + std::to_string(device) + " cannot run this build's GPU code (" +
                            architectures() + "): " + cudaGetErrorString(img));
  }
  DP_CUDA_CHECK(ctx, cudaDeviceGetAttribute(&ctx->multiprocessors_, cudaDevAttrMultiProcessorCount, device));
  for (cudaStream_t &s : ctx->streams_) DP_CUDA_CHECK(ctx, cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  DP_CUDA_CHECK(ctx, cudaEventCreateWithFlags(&ctx->main_mark_, cudaEventDisableTiming));
  return ctx;
}

Context::~Context() {
  cudaSetDevice(device_);
  if (main_mark_) cudaEventDestroy(main_mark_);
  for (cudaStream_t s : streams_)
    if (s) cudaStreamDestroy(s);
}

void Context::raise(cudaError_t e, const char *expr, const char *file, int line) {
  std::string msg = describe(e, expr, file, line);
  if (is_sticky(e)) {
    broken_ = msg;
    fail(DP_ERR_CUDA_FATAL, msg + "; this engine can no longer be used (the CUDA context is lost)");
  }
  cudaGetLastError();  // clear a recoverable error so the next call starts clean
  if (e == cudaErrorMemoryAllocation) fail(DP_ERR_DEVICE_OUT_OF_MEMORY, "out of device memory: " + msg);
  fail(DP_ERR_CUDA, msg);
}

void Context::enter() {
  if (!broken_.empty()) fail(DP_ERR_CUDA_FATAL, "this engine hit a fatal CUDA error earlier: " + broken_);
  DP_CUDA_CHECK(this, cudaSetDevice(device_));
}

void Context::set_caller_stream(cudaStream_t stream) {
  if (stream != nullptr) {
    const cudaError_t e = cudaStreamQuery(stream);
    if (e != cudaSuccess && e != cudaErrorNotReady) {
      cudaGetLastError();
      invalid(std::string("stream is not a CUDA stream this engine can use: ") + cudaGetErrorName(e) + ": " +
              cudaGetErrorString(e));
    }
#if CUDART_VERSION >= 12080
    int stream_device = -1;
    if (cudaStreamGetDevice(stream, &stream_device) == cudaSuccess && stream_device != device_)
      invalid("stream belongs to CUDA device " + std::to_string(stream_device) + " but the engine runs on device " +
              std::to_string(device_));
    cudaGetLastError();
#endif
  }
  sync_all();  // nothing queued on the old stream may overlap work queued on the new one
  caller_ = stream;
}

void Context::aux_after_main() {
  DP_CUDA_CHECK(this, cudaEventRecord(main_mark_, main()));
  DP_CUDA_CHECK(this, cudaStreamWaitEvent(aux(), main_mark_, 0));
}

void Context::sync_main() { DP_CUDA_CHECK(this, cudaStreamSynchronize(main())); }

void Context::sync_all() {
  DP_CUDA_CHECK(this, cudaStreamSynchronize(main()));
  DP_CUDA_CHECK(this, cudaStreamSynchronize(aux()));
  if (caller_) DP_CUDA_CHECK(this, cudaStreamSynchronize(own()));
}

void Context::check_pointer(const void *ptr, const std::string &what) {
  cudaPointerAttributes attr;
  const cudaError_t e = cudaPointerGetAttributes(&attr, ptr);
  if (e != cudaSuccess) {
    cudaGetLastError();
    invalid(what + " is not a pointer CUDA knows: " + cudaGetErrorString(e));
  }
  if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
    invalid(what + " is marked as device memory but is not (CUDA reports " +
            (attr.type == cudaMemoryTypeHost ? "pinned host memory" : "unregistered host memory") + ")");
  if (attr.type == cudaMemoryTypeDevice && attr.device != device_)
    invalid(what + " lives on CUDA device " + std::to_string(attr.device) + " but the engine runs on device " +
            std::to_string(device_));
}

}  // namespace cuda
}  // namespace dp
