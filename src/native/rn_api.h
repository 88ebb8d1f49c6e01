// Flat C ABI over libtorch. Every entry point returns 0 on success and non-zero on failure;
// the failure's message is kept per thread and read with rn_last_error(). No C++ exception
// ever crosses this boundary.
#pragma once
#include <cstdint>

#define RN_API extern "C" __attribute__((visibility("default")))

// Tags shared by arguments and results (mirrored in C# NativeTag).
enum rn_tag : int32_t {
  RN_NONE = 0,
  RN_TENSOR = 1,
  RN_INT = 2,
  RN_DOUBLE = 3,
  RN_BOOL = 4,
  RN_INT_LIST = 5,
  RN_DOUBLE_LIST = 6,
  RN_TENSOR_LIST = 7,
  RN_OPT_TENSOR_LIST = 8,
  RN_STRING = 9,
  RN_DEVICE = 10,
  RN_GENERATOR = 11,
  RN_BOOL_LIST = 12,
  RN_DEFAULT = 13,  // argument: take the schema's default
};

// One argument or result. Lists point to caller memory (`p`, `n` elements).
struct rn_value {
  int32_t tag;
  int32_t pad;
  int64_t i;   // int, bool, device type; element count for results of list type
  double d;    // double
  void* p;     // tensor handle, generator handle, list data, utf-8 string
  int64_t n;   // list length; device index
};

enum rn_status : int32_t { RN_OK = 0, RN_ERROR = 1, RN_RESULTS_PENDING = 2 };
