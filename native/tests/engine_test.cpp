// How engines are created, and what a CUDA engine does with device memory, in two halves that each
// run only where they can (and exit 77, skipped, elsewhere), so that no test takes a GPU or a CPU
// branch at run time:
//   dyepack_engine_test without-gpu   where no CUDA device answers: AUTO picks the CPU and says why,
//                                     CUDA is refused with the same reason, no device is listed;
//   dyepack_engine_test with-gpu      where one does: AUTO picks CUDA, devices are described, device
//                                     memory is allocated, checked and copied.
// (The CUDA operations themselves are compared with the CPU in dyepack_compare.)
#include <cstring>
#include <string>

#include "test_util.h"

using namespace dptest;

namespace {

bool contains(const char *haystack, const char *needle) { return std::strstr(haystack, needle) != nullptr; }

void without_gpu(const std::string &reason) {
  dp_engine *eng = nullptr;
  DP_EXPECT(dp_engine_create(DP_BACKEND_AUTO, 0, &eng) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_engine_backend(eng) == DP_BACKEND_CPU, "AUTO without CUDA must pick the CPU");
  DP_EXPECT(contains(dp_engine_reason(eng), reason.c_str()), "AUTO reason '%s' should carry '%s'",
            dp_engine_reason(eng), reason.c_str());
  DP_EXPECT(contains(dp_engine_reason(eng), " loops"), "AUTO reason '%s' should name the CPU loops",
            dp_engine_reason(eng));
  dp_engine_destroy(eng);

  dp_engine *cuda = nullptr;
  DP_EXPECT(dp_engine_create(DP_BACKEND_CUDA, 0, &cuda) == DP_ERR_NO_GPU, "CUDA without GPU must fail");
  DP_EXPECT(cuda == nullptr, "no engine on failure");
  DP_EXPECT(contains(dp_last_error(), reason.c_str()), "NO_GPU message '%s'", dp_last_error());
  DP_EXPECT(dp_device_count() == 0, "device count without CUDA");
  dp_device d;
  DP_EXPECT(dp_device_info(0, &d) == DP_ERR_NO_GPU, "device info without CUDA");
  if (!dp_cuda_compiled()) DP_EXPECT(std::strlen(dp_cuda_architectures()) == 0, "architectures without CUDA");
}

void with_gpu(const std::string &reason) {
  DP_EXPECT(dp_cuda_compiled() == 1, "a GPU answered, so CUDA is compiled");
  DP_EXPECT(std::strlen(dp_cuda_architectures()) > 0, "architectures");
  const int32_t count = dp_device_count();
  DP_EXPECT(count >= 1, "device count %d", count);
  dp_device d;
  DP_EXPECT(dp_device_info(0, &d) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(std::strlen(d.name) > 0 && d.total_memory > 0 && d.multiprocessors > 0, "device 0 described");
  DP_EXPECT(dp_device_info(count, &d) == DP_ERR_INVALID_ARGUMENT, "device %d does not exist", count);
  DP_EXPECT(contains(dp_last_error(), "does not exist"), "%s", dp_last_error());

  dp_engine *eng = nullptr;
  DP_EXPECT(dp_engine_create(DP_BACKEND_AUTO, 0, &eng) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_engine_backend(eng) == DP_BACKEND_CUDA, "AUTO with a GPU must pick CUDA: %s", dp_engine_reason(eng));
  DP_EXPECT(contains(dp_engine_reason(eng), reason.c_str()), "AUTO reason '%s' should carry '%s'",
            dp_engine_reason(eng), reason.c_str());
  DP_EXPECT(contains(dp_engine_reason(eng), " loops"), "reason '%s' should name the host-side CPU loops",
            dp_engine_reason(eng));
  dp_engine_destroy(eng);
  dp_engine *bad = nullptr;
  DP_EXPECT(dp_engine_create(DP_BACKEND_CUDA, count, &bad) != DP_OK && bad == nullptr, "device %d", count);

  dp_engine *gpu = nullptr;
  if (dp_engine_create(DP_BACKEND_CUDA, 0, &gpu) != DP_OK) {
    DP_EXPECT(false, "CUDA engine: %s", dp_last_error());
    return;
  }
  // Device memory: allocate, copy both ways, and refuse pointers that are not device memory.
  std::vector<float> host(1000), back(1000, 0.0f);
  for (size_t i = 0; i < host.size(); ++i) host[i] = static_cast<float>(i) * 0.5f;
  void *dev = nullptr, *dev2 = nullptr;
  DP_EXPECT(dp_device_alloc(gpu, 4000, &dev) == DP_OK && dev != nullptr, "%s", dp_last_error());
  DP_EXPECT(dp_device_alloc(gpu, 4000, &dev2) == DP_OK && dev2 != nullptr, "%s", dp_last_error());
  DP_EXPECT(dp_device_alloc(gpu, 0, &dev2) == DP_ERR_INVALID_ARGUMENT, "zero bytes");
  DP_EXPECT(dp_memcpy(gpu, dev, host.data(), 4000, DP_COPY_HOST_TO_DEVICE) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_memcpy(gpu, dev2, dev, 4000, DP_COPY_DEVICE_TO_DEVICE) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_memcpy(gpu, back.data(), dev2, 4000, DP_COPY_DEVICE_TO_HOST) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(back == host, "round trip through device memory");
  DP_EXPECT(dp_memcpy(gpu, dev, host.data(), 4000, DP_COPY_DEVICE_TO_DEVICE) == DP_ERR_INVALID_ARGUMENT,
            "host src as device");
  DP_EXPECT(contains(dp_last_error(), "src"), "%s", dp_last_error());
  dp_tensor t = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 10, 1, 1, 100, host.data(), DP_MEMORY_DEVICE);
  std::vector<float> sig(100, 1.0f);
  dp_tensor st = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 1, 1, 100, sig.data());
  DP_EXPECT(dp_add_signal(gpu, &t, &st, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "host data as device");
  DP_EXPECT(contains(dp_last_error(), "batch.data") && contains(dp_last_error(), "device memory"), "%s",
            dp_last_error());
  DP_EXPECT(host[3] == 1.5f, "a rejected call wrote into the batch");
  t.data = dev;
  DP_EXPECT(dp_add_signal(gpu, &t, &st, nullptr, DP_ALL_SAMPLES) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_engine_synchronize(gpu) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_memcpy(gpu, back.data(), dev, 4000, DP_COPY_DEVICE_TO_HOST) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(back[3] == 2.5f && back[999] == 500.5f, "signal added on the device: %g %g", back[3], back[999]);
  DP_EXPECT(dp_device_free(gpu, dev) == DP_OK && dp_device_free(gpu, dev2) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_device_free(gpu, nullptr) == DP_OK, "freeing NULL");

  // Resident operands live on the device; a caller's stream is taken and given back.
  dp_operand *op = nullptr;
  DP_EXPECT(dp_operand_create(gpu, sig.data(), 100, &op) == DP_OK && op != nullptr, "%s", dp_last_error());
  DP_EXPECT(dp_operand_destroy(gpu, op) == DP_OK, "%s", dp_last_error());
  DriverStream stream;
  DP_EXPECT(stream.get() != nullptr, "cannot make a CUDA stream through the driver API");
  DP_EXPECT(dp_engine_set_stream(gpu, stream.get()) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_engine_synchronize(gpu) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_engine_set_stream(gpu, nullptr) == DP_OK, "%s", dp_last_error());
  // An engine destroyed with operands left releases them.
  DP_EXPECT(dp_operand_create(gpu, sig.data(), 100, &op) == DP_OK, "%s", dp_last_error());
  dp_engine_destroy(gpu);
}

}  // namespace

int main(int argc, char **argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "without-gpu" && mode != "with-gpu") {
    std::fprintf(stderr, "usage: dyepack_engine_test without-gpu|with-gpu\n");
    return 2;
  }
  char reason[512];
  const bool gpu = dp_cuda_status(reason, sizeof reason) == DP_CUDA_AVAILABLE;
  DP_EXPECT(std::strlen(reason) > 0, "dp_cuda_status gave no reason");
  if (gpu != (mode == "with-gpu")) {
    std::printf("engine_test %s: skipped: %s\n", mode.c_str(), reason);
    return 77;
  }
  if (gpu) {
    with_gpu(reason);
  } else {
    without_gpu(reason);
  }
  return finish(("engine_test " + mode).c_str());
}
