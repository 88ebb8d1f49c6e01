#include <atomic>
#include "rn_common.h"

namespace {
thread_local std::string g_last_error;
}

namespace rn {
void set_error(const std::string& message) { g_last_error = message; }
}  // namespace rn

RN_API const char* rn_last_error() { return g_last_error.c_str(); }
