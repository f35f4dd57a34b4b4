// The C ABI: argument checks, then one call to the engine's backend (dp::Backend). Nothing is
// written before every argument has been checked; which backend runs was decided when the engine
// was created (backends.cpp), so no entry point branches on it.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#if defined(__linux__)
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#endif

#include "backends.h"
#include "dyepack/dyepack.h"
#include "engine.h"
#include "error.h"

#ifndef DYEPACK_VERSION_STRING
#define DYEPACK_VERSION_STRING "0.0.0"
#endif

namespace dp {
namespace {

thread_local std::string t_last_error;

std::string str(int64_t v) { return std::to_string(v); }

const char *dtype_name(int32_t d) { return d == DP_DTYPE_UINT8 ? "uint8" : d == DP_DTYPE_FLOAT32 ? "float32" : "int32"; }

// Which dtypes an operation accepts for its batch.
enum Accept : unsigned { kU8 = 1u << DP_DTYPE_UINT8, kF32 = 1u << DP_DTYPE_FLOAT32, kI32 = 1u << DP_DTYPE_INT32 };
constexpr unsigned kImages = kU8 | kF32;

std::string accepted(unsigned mask) {
  std::string out;
  for (int32_t d : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32, DP_DTYPE_INT32})
    if (mask & (1u << d)) out += (out.empty() ? "" : " or ") + std::string(dtype_name(d));
  return out;
}
const char *layout_name(int32_t l) { return l == DP_LAYOUT_NHWC ? "NHWC" : "NCHW"; }

std::string shape_of(const dp_tensor &t) {
  return std::string(layout_name(t.layout)) + " (N=" + str(t.n) + ", C=" + str(t.c) + ", H=" + str(t.h) +
         ", W=" + str(t.w) + ")";
}

dp_engine &check_engine(dp_engine *engine) {
  if (engine == nullptr) invalid("engine is null");
  return *engine;
}

// A live operand of this engine. The handle is looked up, never followed, before it is known.
dp_operand &find_operand(dp_engine &eng, const void *handle, const std::string &name) {
  if (handle == nullptr) invalid(name + " is null");
  auto it = eng.operands.find(static_cast<const dp_operand *>(handle));
  if (it == eng.operands.end())
    invalid(name + " is not a live operand of this engine (released already, or created by another engine)");
  return *it->second;
}

// Operand values against an operation's range: the bounds recorded at creation decide, and only a
// failure looks for the first value outside, to name it.
void check_operand_range(const dp_operand &op, const std::string &name, float lo, float hi, const char *range) {
  if (op.min >= lo && op.max <= hi) return;
  for (int64_t e = 0; e < op.count(); ++e) {
    const float v = op.values[static_cast<size_t>(e)];
    if (v < lo || v > hi) invalid(name + "[" + str(e) + "] = " + std::to_string(v) + " is outside " + range);
  }
}

// Checks one tensor descriptor on its own: enums, sizes, overflow, data pointer, memory kind.
Batch check_tensor(dp_engine &eng, const dp_tensor *t, const std::string &name) {
  if (t == nullptr) invalid(name + " is null");
  if (t->dtype != DP_DTYPE_UINT8 && t->dtype != DP_DTYPE_FLOAT32 && t->dtype != DP_DTYPE_INT32)
    invalid(name + " has unknown dtype " + str(t->dtype) + " (expected uint8, float32 or int32)");
  if (t->layout != DP_LAYOUT_NHWC && t->layout != DP_LAYOUT_NCHW)
    invalid(name + " has unknown layout " + str(t->layout) + " (expected NHWC or NCHW)");
  if (t->memory != DP_MEMORY_HOST && t->memory != DP_MEMORY_DEVICE && t->memory != DP_MEMORY_OPERAND)
    invalid(name + " has unknown memory kind " + str(t->memory) + " (expected host, device or operand)");
  if (t->reserved != 0) invalid(name + ".reserved must be 0");
  if (t->n < 0) invalid(name + " has a negative sample count N=" + str(t->n));
  if (t->c < 1 || t->h < 1 || t->w < 1)
    invalid(name + " has shape " + shape_of(*t) + ": channels, height and width must each be at least 1");
  int64_t elems = 0, total = 0;
  const int64_t eb = t->dtype == DP_DTYPE_UINT8 ? 1 : 4;
  if (__builtin_mul_overflow(t->c, t->h, &elems) || __builtin_mul_overflow(elems, t->w, &elems) ||
      __builtin_mul_overflow(elems, eb, &total) || __builtin_mul_overflow(total, t->n, &total))
    invalid(name + " shape " + shape_of(*t) + " is too large (its size in bytes overflows 64 bits)");
  if (t->n > 0 && t->data == nullptr) invalid(name + ".data is null but N=" + str(t->n));
  const bool device = t->memory == DP_MEMORY_DEVICE;
  if (device) eng.backend->check_device_pointer(t->n > 0 ? t->data : nullptr, name + ".data");
  return Batch{static_cast<dp_dtype>(t->dtype), t->n, t->c, t->h, t->w, t->layout == DP_LAYOUT_NCHW, elems, t->data,
               device};
}

// The batch of an operation: a tensor of one of the accepted dtypes, in host or device memory.
Batch check_batch(dp_engine &eng, const dp_tensor *t, unsigned accept, const char *name = "batch") {
  Batch b = check_tensor(eng, t, name);
  if (t->memory == DP_MEMORY_OPERAND)
    invalid(std::string(name) + " cannot be a resident operand: operands are read-only inputs (pattern, mask, patch, "
            "signal, grid); pass the data in host or device memory");
  if (!(accept & (1u << t->dtype)))
    invalid(std::string(name) + " must be " + accepted(accept) + " for this operation, got " + dtype_name(t->dtype));
  return b;
}

// A float32 operand of one image, in host memory or resident: finite values, within [lo, hi].
Values check_values(dp_engine &eng, const dp_tensor *t, const std::string &name, float lo, float hi,
                    const char *range) {
  Batch b = check_tensor(eng, t, name);
  if (t->dtype != DP_DTYPE_FLOAT32) invalid(name + " must be float32, got " + dtype_name(t->dtype));
  if (t->memory == DP_MEMORY_DEVICE) invalid(name + " must be in host memory or a resident operand (dp_operand_create)");
  if (t->n != 1) invalid(name + " must hold exactly one image (N=1), got N=" + str(t->n));
  if (t->memory == DP_MEMORY_OPERAND) {
    const dp_operand &op = find_operand(eng, t->data, name + ".data");
    if (op.count() != b.sample_elems)
      invalid(name + " is an operand of " + str(op.count()) + " values but its shape " + shape_of(*t) + " holds " +
              str(b.sample_elems));
    check_operand_range(op, name, lo, hi, range);  // finite since its creation
    return op.view();
  }
  const float *v = static_cast<const float *>(t->data);
  for (int64_t e = 0; e < b.sample_elems; ++e) {
    if (!std::isfinite(v[e])) invalid(name + "[" + str(e) + "] is not finite");
    if (v[e] < lo || v[e] > hi)
      invalid(name + "[" + str(e) + "] = " + std::to_string(v[e]) + " is outside " + range);
  }
  return Values{v, nullptr};
}

float pattern_max(const Batch &b) { return b.dtype == DP_DTYPE_UINT8 ? 255.0f : INFINITY; }
float pattern_min(const Batch &b) { return b.dtype == DP_DTYPE_UINT8 ? 0.0f : -INFINITY; }
const char *pattern_range(const Batch &b) { return b.dtype == DP_DTYPE_UINT8 ? "the uint8 range [0, 255]" : "range"; }

void check_same_geometry(const dp_tensor &t, const dp_tensor &batch, const std::string &name) {
  if (t.c != batch.c || t.h != batch.h || t.w != batch.w || t.layout != batch.layout)
    invalid(name + " has shape " + shape_of(t) + " but the batch is " + shape_of(batch) +
            "; they must match in C, H, W and layout");
}

void check_amount(float amount) {
  if (!(amount >= 0.0f && amount <= 1.0f)) invalid("amount must be in [0, 1], got " + std::to_string(amount));
}

Selection check_selection(const int64_t *indices, int64_t n_indices, int64_t n) {
  if (n_indices == DP_ALL_SAMPLES) {
    if (indices != nullptr) invalid("n_indices is DP_ALL_SAMPLES but indices is not null");
    return Selection{nullptr, n};
  }
  if (n_indices < 0) invalid("n_indices must be >= 0 or DP_ALL_SAMPLES (-1), got " + str(n_indices));
  if (n_indices == 0) return Selection{indices, 0};
  if (indices == nullptr) invalid("indices is null but n_indices=" + str(n_indices));
  for (int64_t i = 0; i < n_indices; ++i) {
    if (indices[i] < 0 || indices[i] >= n)
      invalid("indices[" + str(i) + "] = " + str(indices[i]) + " is out of range [0, " + str(n) + ")");
  }
  std::vector<int64_t> sorted(indices, indices + n_indices);
  std::sort(sorted.begin(), sorted.end());
  auto dup = std::adjacent_find(sorted.begin(), sorted.end());
  if (dup != sorted.end()) invalid("index " + str(*dup) + " is listed more than once");
  return Selection{indices, n_indices};
}

// Runs `body(eng)` under the engine's lock, with the engine checked.
template <class Body>
int32_t locked(dp_engine *engine, Body body) {
  return guarded([&] {
    dp_engine &eng = check_engine(engine);
    std::lock_guard<std::mutex> lock(eng.mutex);
    body(eng);
  });
}

cpu::Runner &host(dp_engine &eng) { return eng.backend->host(); }

// dp_set_columns and dp_set_columns_op: everything but where the values live. The values' host copy
// is checked for finiteness (a resident operand's passes: it was checked at creation).
void set_columns(dp_engine &eng, const dp_tensor *batch, const int64_t *columns, Values values, int64_t k,
                 int32_t shift, const int64_t *indices, int64_t n_indices) {
  Batch b = check_batch(eng, batch, kF32);
  if (batch->c != 1 || batch->h != 1) invalid("tabular rows need C = H = 1 (W = row width), got " + shape_of(*batch));
  if (k < 1 || k > b.w) invalid("k must be in [1, " + str(b.w) + "] (the row width), got " + str(k));
  if (columns == nullptr || values.host == nullptr) invalid("columns and values must not be null");
  if (shift != 0 && shift != 1) invalid("shift must be 0 (set) or 1 (shift), got " + str(shift));
  std::vector<int64_t> sorted(columns, columns + k);
  for (int64_t j = 0; j < k; ++j) {
    if (columns[j] < 0 || columns[j] >= b.w)
      invalid("columns[" + str(j) + "] = " + str(columns[j]) + " is out of range [0, " + str(b.w) + ")");
    if (!std::isfinite(values.host[j])) invalid("values[" + str(j) + "] is not finite");
  }
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) invalid("a column is listed more than once");
  Selection sel = check_selection(indices, n_indices, b.n);
  if (sel.count == 0) return;
  eng.backend->set_columns(ColumnArgs{b, sel, columns, values, k, shift == 1});
}

// The features, target and outputs of a scoring call (both entry points).
Batch check_scoring(dp_engine &eng, const dp_tensor *features, int64_t classes, int64_t target) {
  Batch x = check_batch(eng, features, kF32, "features");
  if (features->c != 1 || features->h != 1)
    invalid("features need C = H = 1 (W = the feature dimension D), got " + shape_of(*features));
  if (classes < 2) invalid("the head needs at least 2 classes, got " + str(classes));
  if (classes > 1000000) invalid("classes must be at most 1000000, got " + str(classes));
  if (target < -1 || target >= classes)
    invalid("target must be -1 (none) or a class in [0, " + str(classes) + "), got " + str(target));
  return x;
}

struct ScoreOutputs {
  int32_t *predicted, *runner_up;
  float *margin, *distance, *target_distance;
};

void check_outputs(const Batch &x, int64_t target, const ScoreOutputs &out) {
  if (x.n > 0 && (out.predicted == nullptr || out.runner_up == nullptr || out.margin == nullptr ||
                  out.distance == nullptr))
    invalid("output arrays must not be null");
  if (x.n > 0 && target >= 0 && out.target_distance == nullptr)
    invalid("target_distance is null but a target is given");
}

// Host features must be finite (device features are scanned on the device by the backend).
void check_features_finite(dp_engine &eng, const Batch &x) {
  if (x.device) return;
  const int64_t d = x.w;
  const float *f = static_cast<const float *>(x.data);
  if (host(eng).count_nonfinite(f, x.n * d) > 0) {
    for (int64_t i = 0; i < x.n * d; ++i)
      if (!std::isfinite(f[i])) invalid("features[" + str(i / d) + ", " + str(i % d) + "] is not finite");
  }
}

// Host features on a CPU engine are checked by the scoring pass itself (see score).
bool checked_while_scoring(dp_engine &eng, const Batch &x) {
  return !x.device && eng.backend->kind() == DP_BACKEND_CPU;
}

// Scores x. Where checked_while_scoring, the features have not been checked yet: the pass also counts
// their non-finite values, each row while it is in the core's caches (instead of a pass of its own over
// memory first), and writes into scratch arrays that reach the caller's only when every value was
// finite. The caller sees what a check before the work gives: the error naming the first non-finite
// value with its outputs untouched, or the scores.
void score(dp_engine &eng, const Batch &x, Values weight, Values bias, Values norms, int64_t classes, int64_t target,
           const ScoreOutputs &out, const float *prepared_head = nullptr) {
  if (!checked_while_scoring(eng, x)) {
    ScoreArgs args{x, weight, bias, norms, classes, target, out.predicted, out.runner_up, out.margin,
                   out.distance, target >= 0 ? out.target_distance : nullptr};
    args.prepared_head = prepared_head;
    eng.backend->score(args);
    return;
  }
  const size_t n = static_cast<size_t>(x.n);
  std::vector<int32_t> labels(2 * n);
  std::vector<float> values((target >= 0 ? 3 : 2) * n);
  ScoreArgs args{x, weight, bias, norms, classes, target, labels.data(), labels.data() + n, values.data(),
                 values.data() + n, target >= 0 ? values.data() + 2 * n : nullptr};
  args.count_nonfinite = true;
  args.prepared_head = prepared_head;
  if (host(eng).score(args) > 0) {
    check_features_finite(eng, x);  // throws, naming the first non-finite value
    invalid("features hold non-finite values");
  }
  std::copy(labels.begin(), labels.begin() + x.n, out.predicted);
  std::copy(labels.begin() + x.n, labels.end(), out.runner_up);
  std::copy(values.begin(), values.begin() + x.n, out.margin);
  std::copy(values.begin() + x.n, values.begin() + 2 * x.n, out.distance);
  if (target >= 0) std::copy(values.begin() + 2 * x.n, values.end(), out.target_distance);
}

}  // namespace

void set_last_error(const std::string &message) { t_last_error = message; }
void clear_last_error() { t_last_error.clear(); }

}  // namespace dp

using namespace dp;

namespace {

// The system calls made on a file named by path.
enum class PathCall { kSyncFilesystem, kStartWriteback };

// Opens `path` read-only, makes the call on the descriptor and closes it: syncfs, or sync_file_range over
// the whole file (offset 0, length 0: however long it has grown) starting its write-back. A null, empty
// or unopenable path is an invalid argument, a failing call DP_ERR_INTERNAL, each message naming the path
// and the system's error text. Off Linux DP_ERR_UNSUPPORTED, naming the call.
void on_path(const char *path, PathCall call) {
  const bool sync = call == PathCall::kSyncFilesystem;
  const char *name = sync ? "syncfs" : "sync_file_range";
  if (path == nullptr || *path == '\0') invalid("path is null or empty");
#if defined(__linux__)
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    invalid(std::string(path) + ": cannot be opened to " + (sync ? "sync its file system" : "start its write-back") +
            ": " + std::strerror(e));
  }
  int rc = sync ? ::syncfs(fd) : ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  int e = errno;
  ::close(fd);
  if (rc != 0) fail(DP_ERR_INTERNAL, std::string(path) + ": " + name + " failed: " + std::strerror(e));
#else
  fail(DP_ERR_UNSUPPORTED, std::string(name) + " is not available on this platform");
#endif
}

}  // namespace

extern "C" {

const char *dp_version(void) { return DYEPACK_VERSION_STRING; }

int32_t dp_abi_version(void) { return DP_ABI_VERSION; }

int32_t dp_abi_revision(void) { return DP_ABI_REVISION; }

const char *dp_last_error(void) { return t_last_error.c_str(); }

int32_t dp_cuda_compiled(void) { return cuda_compiled() ? 1 : 0; }

const char *dp_cuda_architectures(void) { return cuda_architectures(); }

int32_t dp_cuda_status(char *reason, size_t reason_capacity) {
  const CudaProbe *p = nullptr;
  int32_t st = guarded([&] { p = &cuda_probe(); });
  if (st != DP_OK) return DP_CUDA_ERROR;
  if (reason != nullptr && reason_capacity > 0) {
    size_t len = std::min(reason_capacity - 1, p->reason.size());
    std::memcpy(reason, p->reason.data(), len);
    reason[len] = '\0';
  }
  return p->state;
}

int32_t dp_device_count(void) {
  int32_t count = 0;
  guarded([&] { count = cuda_probe().device_count; });
  return count;
}

int32_t dp_device_info(int32_t index, dp_device *out) {
  return guarded([&] {
    if (out == nullptr) invalid("out is null");
    cuda_device_info(index, out);
  });
}

int32_t dp_engine_create(int32_t backend, int32_t device, dp_engine **out) {
  return guarded([&] {
    if (out == nullptr) invalid("out is null");
    *out = nullptr;
    if (backend != DP_BACKEND_AUTO && backend != DP_BACKEND_CPU && backend != DP_BACKEND_CUDA)
      invalid("unknown backend " + str(backend) + " (expected AUTO, CPU or CUDA)");
    if (device < 0) invalid("device index must be >= 0, got " + str(device));
    std::unique_ptr<dp_engine> eng(new dp_engine());
    CreatedBackend created = create_backend(backend, device);
    eng->backend = std::move(created.backend);
    eng->reason = std::move(created.reason);
    *out = eng.release();
  });
}

void dp_engine_destroy(dp_engine *engine) { delete engine; }

int32_t dp_engine_backend(const dp_engine *engine) { return engine ? engine->backend->kind() : -1; }

const char *dp_engine_reason(const dp_engine *engine) { return engine ? engine->reason.c_str() : ""; }

int32_t dp_engine_set_threads(dp_engine *engine, int32_t threads) {
  return guarded([&] {
    dp_engine &eng = check_engine(engine);
    if (threads < 0 || threads > 4096) invalid("threads must be in [0, 4096] (0 = one per hardware thread), got " + str(threads));
    std::lock_guard<std::mutex> lock(eng.mutex);
    eng.backend->host().set_threads(threads);
  });
}

int32_t dp_mask_blend(dp_engine *engine, const dp_tensor *batch, const dp_tensor *pattern, const dp_tensor *mask,
                      float amount, const int64_t *indices, int64_t n_indices) {
  return locked(engine, [&](dp_engine &eng) {
    Batch b = check_batch(eng, batch, kImages);
    const Values p = check_values(eng, pattern, "pattern", pattern_min(b), pattern_max(b), pattern_range(b));
    check_same_geometry(*pattern, *batch, "pattern");
    const Values m = check_values(eng, mask, "mask", 0.0f, 1.0f, "[0, 1]");
    check_same_geometry(*mask, *batch, "mask");
    check_amount(amount);
    Selection sel = check_selection(indices, n_indices, b.n);
    if (sel.count == 0) return;
    eng.backend->mask_blend(BlendArgs{b, sel, amount, m, p});
  });
}

int32_t dp_scatter_blend(dp_engine *engine, const dp_tensor *batch, const int64_t *elements, const float *values,
                         int64_t k, float amount, const int64_t *indices, int64_t n_indices) {
  return locked(engine, [&](dp_engine &eng) {
    Batch b = check_batch(eng, batch, kImages);
    if (k < 0 || k > b.sample_elems)
      invalid("k must be in [0, " + str(b.sample_elems) + "] (the elements of one sample), got " + str(k));
    if (k > 0 && (elements == nullptr || values == nullptr)) invalid("elements and values must not be null");
    const float lo = pattern_min(b), hi = pattern_max(b);
    for (int64_t j = 0; j < k; ++j) {
      if (elements[j] < 0 || elements[j] >= b.sample_elems)
        invalid("elements[" + str(j) + "] = " + str(elements[j]) + " is out of range [0, " + str(b.sample_elems) + ")");
      if (!std::isfinite(values[j])) invalid("values[" + str(j) + "] is not finite");
      if (values[j] < lo || values[j] > hi)
        invalid("values[" + str(j) + "] = " + std::to_string(values[j]) + " is outside " + pattern_range(b));
    }
    std::vector<int64_t> sorted(elements, elements + k);
    std::sort(sorted.begin(), sorted.end());
    auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup != sorted.end()) invalid("element " + str(*dup) + " is listed more than once");
    check_amount(amount);
    Selection sel = check_selection(indices, n_indices, b.n);
    if (sel.count == 0 || k == 0) return;
    eng.backend->scatter_blend(ScatterArgs{b, sel, amount, elements, values, k});
  });
}

int32_t dp_paste(dp_engine *engine, const dp_tensor *batch, const dp_tensor *patch, const dp_tensor *mask,
                 float amount, const int64_t *offsets, const int64_t *indices, int64_t n_indices) {
  return locked(engine, [&](dp_engine &eng) {
    Batch b = check_batch(eng, batch, kImages);
    const Values p = check_values(eng, patch, "patch", pattern_min(b), pattern_max(b), pattern_range(b));
    if (patch->c != batch->c || patch->layout != batch->layout || patch->h > batch->h || patch->w > batch->w)
      invalid("patch has shape " + shape_of(*patch) + " but the batch is " + shape_of(*batch) +
              "; it needs the batch's C and layout and at most its H and W");
    const Values m = check_values(eng, mask, "mask", 0.0f, 1.0f, "[0, 1]");
    if (mask->c != patch->c || mask->h != patch->h || mask->w != patch->w || mask->layout != patch->layout)
      invalid("mask has shape " + shape_of(*mask) + " but the patch is " + shape_of(*patch) + "; they must match");
    check_amount(amount);
    Selection sel = check_selection(indices, n_indices, b.n);
    if (sel.count > 0 && offsets == nullptr) invalid("offsets is null");
    for (int64_t i = 0; i < sel.count; ++i) {
      const int64_t top = offsets[2 * i], left = offsets[2 * i + 1];
      if (top < 0 || top > b.h - patch->h || left < 0 || left > b.w - patch->w)
        invalid("offsets for selected sample " + str(i) + " (top " + str(top) + ", left " + str(left) + ") put the " +
                str(patch->h) + "x" + str(patch->w) + " patch outside the " + str(b.h) + "x" + str(b.w) + " image");
    }
    if (sel.count == 0) return;
    eng.backend->paste(PasteArgs{b, sel, patch->h, patch->w, amount, m, p, offsets});
  });
}

int32_t dp_add_signal(dp_engine *engine, const dp_tensor *batch, const dp_tensor *signal, const int64_t *indices,
                      int64_t n_indices) {
  return locked(engine, [&](dp_engine &eng) {
    Batch b = check_batch(eng, batch, kImages);
    const Values s = check_values(eng, signal, "signal", -INFINITY, INFINITY, "range");
    check_same_geometry(*signal, *batch, "signal");
    Selection sel = check_selection(indices, n_indices, b.n);
    if (sel.count == 0) return;
    eng.backend->add_signal(AddArgs{b, sel, s});
  });
}

int32_t dp_warp(dp_engine *engine, const dp_tensor *batch, const dp_tensor *grid, const int64_t *indices,
                int64_t n_indices) {
  return locked(engine, [&](dp_engine &eng) {
    Batch b = check_batch(eng, batch, kImages);
    const Values g = check_values(eng, grid, "grid", -INFINITY, INFINITY, "range");
    if (grid->c != 2 || grid->h != batch->h || grid->w != batch->w || grid->layout != DP_LAYOUT_NCHW)
      invalid("grid has shape " + shape_of(*grid) + " but must be NCHW (N=1, C=2, H=" + str(batch->h) +
              ", W=" + str(batch->w) + "): a row plane and a column plane");
    Selection sel = check_selection(indices, n_indices, b.n);
    if (sel.count == 0) return;
    eng.backend->warp(WarpArgs{b, sel, g});
  });
}

int32_t dp_keyed_noise(dp_engine *engine, const dp_tensor *batch, uint32_t key0, uint32_t key1, float eps,
                       int64_t first_sample, const int64_t *indices, int64_t n_indices) {
  return locked(engine, [&](dp_engine &eng) {
    Batch b = check_batch(eng, batch, kImages);
    const float eps_max = b.dtype == DP_DTYPE_UINT8 ? 255.0f : INFINITY;
    if (!(eps >= 0.0f && eps <= eps_max) || std::isinf(eps))
      invalid("eps must be finite and in [0, " + std::string(b.dtype == DP_DTYPE_UINT8 ? "255" : "inf") +
              ") for " + dtype_name(b.dtype) + " data, got " + std::to_string(eps));
    if (first_sample < 0) invalid("first_sample must be >= 0, got " + str(first_sample));
    if (first_sample > INT64_MAX - b.n) invalid("first_sample + N overflows");
    Selection sel = check_selection(indices, n_indices, b.n);
    if (sel.count == 0) return;
    eng.backend->keyed_noise(NoiseArgs{b, sel, {key0, key1}, eps, first_sample});
  });
}

int32_t dp_write_tokens(dp_engine *engine, const dp_tensor *batch, const int32_t *ids, int64_t k,
                        const int64_t *positions, const int64_t *indices, int64_t n_indices) {
  return locked(engine, [&](dp_engine &eng) {
    Batch b = check_batch(eng, batch, kI32);
    if (batch->c != 1 || batch->h != 1) invalid("token sequences need C = H = 1 (W = length), got " + shape_of(*batch));
    if (k < 1 || k > b.w) invalid("k must be in [1, " + str(b.w) + "] (the sequence length), got " + str(k));
    if (ids == nullptr) invalid("ids is null");
    Selection sel = check_selection(indices, n_indices, b.n);
    if (sel.count > 0 && positions == nullptr) invalid("positions is null");
    for (int64_t i = 0; i < sel.count; ++i)
      if (positions[i] < 0 || positions[i] > b.w - k)
        invalid("positions[" + str(i) + "] = " + str(positions[i]) + " leaves no room for " + str(k) +
                " tokens in a sequence of length " + str(b.w));
    if (sel.count == 0) return;
    eng.backend->write_tokens(TokenArgs{b, sel, ids, k, positions});
  });
}

int32_t dp_set_columns(dp_engine *engine, const dp_tensor *batch, const int64_t *columns, const float *values,
                       int64_t k, int32_t shift, const int64_t *indices, int64_t n_indices) {
  return locked(engine, [&](dp_engine &eng) {
    set_columns(eng, batch, columns, Values{values, nullptr}, k, shift, indices, n_indices);
  });
}

int32_t dp_set_columns_op(dp_engine *engine, const dp_tensor *batch, const int64_t *columns, const dp_operand *values,
                          int32_t shift, const int64_t *indices, int64_t n_indices) {
  return locked(engine, [&](dp_engine &eng) {
    const dp_operand &v = find_operand(eng, values, "values");
    set_columns(eng, batch, columns, v.view(), v.count(), shift, indices, n_indices);
  });
}

int32_t dp_score_boundary(dp_engine *engine, const dp_tensor *features, const float *weight, const float *bias,
                          int64_t classes, int64_t target, int32_t *predicted, int32_t *runner_up, float *margin,
                          float *distance, float *target_distance) {
  return locked(engine, [&](dp_engine &eng) {
    const Batch x = check_scoring(eng, features, classes, target);
    const int64_t d = x.w;
    const ScoreOutputs out{predicted, runner_up, margin, distance, target_distance};
    if (weight == nullptr || bias == nullptr) invalid("weight and bias must not be null");
    check_outputs(x, target, out);
    int64_t wsize = 0;
    if (__builtin_mul_overflow(classes, d, &wsize)) invalid("the head's size overflows");
    for (int64_t i = 0; i < wsize; ++i)
      if (!std::isfinite(weight[i]))
        invalid("weight[" + str(i / d) + ", " + str(i % d) + "] is not finite");
    for (int64_t c = 0; c < classes; ++c)
      if (!std::isfinite(bias[c])) invalid("bias[" + str(c) + "] is not finite");
    if (!checked_while_scoring(eng, x)) check_features_finite(eng, x);
    if (x.n == 0) return;
    std::vector<float> norms(static_cast<size_t>(classes * classes));
    host(eng).pair_norms(weight, classes, d, norms.data());
    score(eng, x, Values{weight, nullptr}, Values{bias, nullptr}, Values{norms.data(), nullptr}, classes, target, out);
  });
}

int32_t dp_score_boundary_op(dp_engine *engine, const dp_tensor *features, const dp_operand *weight,
                             const dp_operand *bias, int64_t classes, int64_t target, int32_t *predicted,
                             int32_t *runner_up, float *margin, float *distance, float *target_distance) {
  return locked(engine, [&](dp_engine &eng) {
    const Batch x = check_scoring(eng, features, classes, target);
    const int64_t d = x.w;
    const ScoreOutputs out{predicted, runner_up, margin, distance, target_distance};
    dp_operand &w = find_operand(eng, weight, "weight");
    const dp_operand &b = find_operand(eng, bias, "bias");
    int64_t wsize = 0;
    if (__builtin_mul_overflow(classes, d, &wsize) || w.count() != wsize)
      invalid("weight is an operand of " + str(w.count()) + " values, but a head of " + str(classes) +
              " classes over D=" + str(d) + " features needs " + str(classes) + " x " + str(d));
    if (b.count() != classes)
      invalid("bias is an operand of " + str(b.count()) + " values but the head has " + str(classes) + " classes");
    check_outputs(x, target, out);
    if (!checked_while_scoring(eng, x)) check_features_finite(eng, x);
    if (x.n == 0) return;
    if (w.norms == nullptr || w.norms_classes != classes) {
      auto norms = std::make_unique<dp_operand>();
      norms->values.resize(static_cast<size_t>(classes * classes));
      host(eng).pair_norms(w.values.data(), classes, d, norms->values.data());
      norms->device = eng.backend->make_resident(norms->values.data(), norms->count());
      w.norms = std::move(norms);  // no queued work reads the old ones: scoring returns when done
      w.norms_classes = classes;
    }
    // The CPU's layout of the head, kept like the norms (only where the CPU scores these features).
    const float *prepared = nullptr;
    if (!x.device && eng.backend->kind() == DP_BACKEND_CPU) {
      if (w.cpu_head_classes != classes) {
        w.cpu_head = host(eng).prepare_head(w.values.data(), classes, d);
        w.cpu_head_classes = classes;
      }
      prepared = w.cpu_head.get();
    }
    score(eng, x, w.view(), b.view(), w.norms->view(), classes, target, out, prepared);
  });
}

int32_t dp_fit_linear(dp_engine *engine, const dp_tensor *features, const int32_t *labels, int64_t classes,
                      const int64_t *order, int32_t epochs, int32_t batch, float rate, float l2, float *weight,
                      float *bias) {
  return locked(engine, [&](dp_engine &eng) {
    Batch x = check_batch(eng, features, kF32);
    if (features->c != 1 || features->h != 1)
      invalid("features need C = H = 1 (W = the feature dimension D), got " + shape_of(*features));
    if (x.device) invalid("the fit needs features in host memory");
    if (x.n < 1) invalid("the fit needs at least one sample");
    if (classes < 2 || classes > 1000000) invalid("classes must be in [2, 1000000], got " + str(classes));
    if (epochs < 1 || epochs > 10000) invalid("epochs must be in [1, 10000], got " + str(epochs));
    if (batch < 1) invalid("batch must be >= 1, got " + str(batch));
    if (!(rate > 0.0f) || !std::isfinite(rate)) invalid("rate must be a positive number");
    if (!(l2 >= 0.0f) || !std::isfinite(l2)) invalid("l2 must be a non-negative number");
    if (labels == nullptr || order == nullptr || weight == nullptr || bias == nullptr)
      invalid("labels, order, weight and bias must not be null");
    const float *f = static_cast<const float *>(x.data);
    if (host(eng).count_nonfinite(f, x.n * x.w) > 0) invalid("features hold non-finite values");
    for (int64_t i = 0; i < x.n; ++i)
      if (labels[i] < 0 || labels[i] >= classes)
        invalid("labels[" + str(i) + "] = " + str(labels[i]) + " is outside [0, " + str(classes) + ")");
    std::vector<uint8_t> seen(static_cast<size_t>(x.n));
    for (int32_t e = 0; e < epochs; ++e) {
      std::fill(seen.begin(), seen.end(), 0);
      for (int64_t i = 0; i < x.n; ++i) {
        const int64_t v = order[e * x.n + i];
        if (v < 0 || v >= x.n || seen[static_cast<size_t>(v)])
          invalid("order for epoch " + str(e) + " is not a permutation of 0.." + str(x.n - 1));
        seen[static_cast<size_t>(v)] = 1;
      }
    }
    eng.backend->fit_linear(FitArgs{f, x.n, x.w, labels, classes, order, epochs, batch, rate, l2, weight, bias});
  });
}

int32_t dp_fit_linear_rows(dp_engine *engine, const float *features, int64_t n, int64_t d, const int32_t *labels,
                           int64_t classes, const int64_t *order, int32_t epochs, int32_t batch, float rate, float l2,
                           float *weight, float *bias) {
  // The rows as the tensor dp_fit_linear takes; it checks the rest (a null pointer or a bad shape included).
  dp_tensor t{};
  t.dtype = DP_DTYPE_FLOAT32;
  t.layout = DP_LAYOUT_NHWC;
  t.memory = DP_MEMORY_HOST;
  t.n = n;
  t.c = 1;
  t.h = 1;
  t.w = d;
  t.data = const_cast<float *>(features);
  return dp_fit_linear(engine, &t, labels, classes, order, epochs, batch, rate, l2, weight, bias);
}

int32_t dp_device_alloc(dp_engine *engine, size_t bytes, void **out) {
  return guarded([&] {
    if (out == nullptr) invalid("out is null");
    *out = nullptr;
    dp_engine &eng = check_engine(engine);
    if (bytes == 0) invalid("bytes must be > 0");
    std::lock_guard<std::mutex> lock(eng.mutex);
    *out = eng.backend->device_alloc(bytes);
  });
}

int32_t dp_device_free(dp_engine *engine, void *ptr) {
  return guarded([&] {
    if (ptr == nullptr) return;
    dp_engine &eng = check_engine(engine);
    std::lock_guard<std::mutex> lock(eng.mutex);
    eng.backend->device_free(ptr);
  });
}

int32_t dp_memcpy(dp_engine *engine, void *dst, const void *src, size_t bytes, int32_t kind) {
  return guarded([&] {
    dp_engine &eng = check_engine(engine);
    if (kind != DP_COPY_HOST_TO_DEVICE && kind != DP_COPY_DEVICE_TO_HOST && kind != DP_COPY_DEVICE_TO_DEVICE)
      invalid("unknown copy kind " + str(kind));
    if (bytes > 0 && (dst == nullptr || src == nullptr)) invalid("dst and src must not be null");
    std::lock_guard<std::mutex> lock(eng.mutex);
    eng.backend->memcpy(dst, src, bytes, static_cast<dp_copy_kind>(kind));
  });
}

int32_t dp_engine_synchronize(dp_engine *engine) {
  return locked(engine, [&](dp_engine &eng) { eng.backend->synchronize(); });
}

int32_t dp_operand_create(dp_engine *engine, const float *host_values, int64_t count, dp_operand **out) {
  return guarded([&] {
    if (out == nullptr) invalid("out is null");
    *out = nullptr;
    dp_engine &eng = check_engine(engine);
    if (count < 1) invalid("count must be >= 1, got " + str(count));
    if (count > INT64_MAX / 4) invalid("count " + str(count) + " is too large (its size in bytes overflows 64 bits)");
    if (host_values == nullptr) invalid("host is null");
    std::lock_guard<std::mutex> lock(eng.mutex);
    if (host(eng).count_nonfinite(host_values, count) > 0) {
      for (int64_t i = 0; i < count; ++i)
        if (!std::isfinite(host_values[i])) invalid("host[" + str(i) + "] is not finite");
    }
    auto op = std::make_unique<dp_operand>();
    op->values.assign(host_values, host_values + count);
    const auto range = std::minmax_element(op->values.begin(), op->values.end());
    op->min = *range.first;
    op->max = *range.second;
    op->device = eng.backend->make_resident(op->values.data(), count);
    dp_operand *handle = op.get();
    eng.operands.emplace(handle, std::move(op));
    *out = handle;
  });
}

int32_t dp_operand_destroy(dp_engine *engine, dp_operand *operand) {
  return guarded([&] {
    if (operand == nullptr) return;
    dp_engine &eng = check_engine(engine);
    std::lock_guard<std::mutex> lock(eng.mutex);
    find_operand(eng, operand, "operand");
    auto it = eng.operands.find(operand);
    std::unique_ptr<dp_operand> released = std::move(it->second);
    eng.operands.erase(it);
    eng.backend->synchronize();  // queued work may still read it; released either way
  });
}

int32_t dp_engine_set_stream(dp_engine *engine, void *stream) {
  return locked(engine, [&](dp_engine &eng) { eng.backend->set_stream(stream); });
}

int32_t dp_sync_filesystem(const char *path) {
  return guarded([&] { on_path(path, PathCall::kSyncFilesystem); });
}

int32_t dp_start_writeback(const char *path) {
  return guarded([&] { on_path(path, PathCall::kStartWriteback); });
}

}  // extern "C"
