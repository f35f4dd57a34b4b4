// Internal error handling: code inside the library throws dp::Error; the C ABI layer catches it,
// stores the message in the thread-local last-error buffer and returns the status.
#ifndef DYEPACK_SRC_ERROR_H
#define DYEPACK_SRC_ERROR_H

#include <stdexcept>
#include <string>

#include "dyepack/dyepack.h"

namespace dp {

class Error : public std::runtime_error {
 public:
  Error(dp_status status, const std::string &message) : std::runtime_error(message), status_(status) {}
  dp_status status() const { return status_; }

 private:
  dp_status status_;
};

[[noreturn]] inline void fail(dp_status status, const std::string &message) { throw Error(status, message); }

[[noreturn]] inline void invalid(const std::string &message) { fail(DP_ERR_INVALID_ARGUMENT, message); }

// Thread-local last-error buffer behind dp_last_error().
void set_last_error(const std::string &message);
void clear_last_error();

// Run `body` and translate whatever it throws into a status code plus last-error message.
template <class Body>
int32_t guarded(Body &&body) noexcept {
  try {
    clear_last_error();
    body();
    return DP_OK;
  } catch (const Error &e) {
    set_last_error(e.what());
    return e.status();
  } catch (const std::bad_alloc &) {
    set_last_error("out of host memory");
    return DP_ERR_OUT_OF_MEMORY;
  } catch (const std::exception &e) {
    set_last_error(std::string("internal error: ") + e.what());
    return DP_ERR_INTERNAL;
  } catch (...) {
    set_last_error("internal error: unknown exception");
    return DP_ERR_INTERNAL;
  }
}

}  // namespace dp

#endif  // DYEPACK_SRC_ERROR_H
