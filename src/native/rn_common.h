#pragma once
#include <string>
#include <torch/torch.h>
#include "rn_api.h"

namespace rn {
void set_error(const std::string& message);

inline at::Tensor& T(void* handle) {
  if (handle == nullptr) throw std::invalid_argument("null tensor handle");
  return *static_cast<at::Tensor*>(handle);
}
void* new_handle(at::Tensor t);
}  // namespace rn

// Wraps an entry point's body: converts every exception into a status + thread-local message.
#define RN_GUARD(...)                                              \
  try {                                                             \
    __VA_ARGS__;                                                    \
    return RN_OK;                                                   \
  } catch (const c10::Error& e) {                                   \
    rn::set_error(e.what_without_backtrace());                      \
  } catch (const std::exception& e) {                               \
    rn::set_error(e.what());                                        \
  } catch (...) {                                                   \
    rn::set_error("unknown native exception");                      \
  }                                                                 \
  return RN_ERROR;
