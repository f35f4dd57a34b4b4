// One engine's CUDA device and streams, and how CUDA errors become dp::Error. Included only by the
// CUDA backend's own files (it uses CUDA types).
#ifndef DYEPACK_SRC_CUDA_CUDA_CONTEXT_H
#define DYEPACK_SRC_CUDA_CUDA_CONTEXT_H

#include <cuda_runtime_api.h>

#include <memory>
#include <string>

namespace dp {
namespace cuda {

// Streams: all work of an operation is ordered on main(), which is the caller's stream when one was
// given (dp_engine_set_stream) and the engine's first own stream otherwise; host batches use aux(),
// the engine's second own stream, as the second staging slot, ordered after main() by an event
// (aux_after_main), never by a host wait.
class Context {
 public:
  // Sets up `device` (index already checked against the probe); throws Error(DP_ERR_NO_GPU) when
  // the device cannot run this build's code, and CUDA errors as dp::Error.
  static std::unique_ptr<Context> create(int device);
  ~Context();
  Context(const Context &) = delete;
  Context &operator=(const Context &) = delete;

  // Turns a failed CUDA call into dp::Error: sticky errors (the context is lost) mark the engine
  // unusable and give DP_ERR_CUDA_FATAL; others are cleared and give DP_ERR_CUDA (or
  // DP_ERR_DEVICE_OUT_OF_MEMORY), with file, line, error name and text.
  [[noreturn]] void raise(cudaError_t e, const char *expr, const char *file, int line);

  // Every entry point starts here: the device is per host thread, and a lost context stays lost.
  void enter();

  int device() const { return device_; }
  int multiprocessors() const { return multiprocessors_; }

  cudaStream_t main() const { return caller_ ? caller_ : streams_[0]; }
  cudaStream_t aux() const { return streams_[1]; }
  // The engine's first own stream, also while main() is a caller's: for work that must not queue
  // behind the caller's (the upload of a new resident operand, waited for at once).
  cudaStream_t own() const { return streams_[0]; }
  cudaStream_t stream(int slot) const { return slot == 0 ? main() : aux(); }

  // True when main() is a caller's stream: operations on device batches then return unsynchronised.
  bool caller_stream() const { return caller_ != nullptr; }

  // Checks `stream` (a stream of this device CUDA recognises), waits for the work queued so far and
  // makes it main(); nullptr goes back to the engine's own stream.
  void set_caller_stream(cudaStream_t stream);

  // Orders all work enqueued on aux() from now on after all work enqueued on main() so far.
  void aux_after_main();

  void sync_main();
  void sync_all();  // main(), aux() and own()

  // Throws Error(DP_ERR_INVALID_ARGUMENT) unless ptr is device (or managed) memory usable on this
  // context's device.
  void check_pointer(const void *ptr, const std::string &what);

 private:
  explicit Context(int device) : device_(device) {}

  int device_;
  int multiprocessors_ = 1;
  cudaStream_t streams_[2] = {nullptr, nullptr};
  cudaStream_t caller_ = nullptr;
  cudaEvent_t main_mark_ = nullptr;  // recorded on main() for aux_after_main
  std::string broken_;               // the sticky error that made this context unusable
};

#define DP_CUDA_CHECK(ctx, expr)                                                   \
  do {                                                                             \
    const cudaError_t dp_err_ = (expr);                                            \
    if (dp_err_ != cudaSuccess) (ctx)->raise(dp_err_, #expr, __FILE__, __LINE__); \
  } while (0)

}  // namespace cuda
}  // namespace dp

#endif  // DYEPACK_SRC_CUDA_CUDA_CONTEXT_H
