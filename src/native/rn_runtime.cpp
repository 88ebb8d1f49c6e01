// Process-wide runtime: versions, seeds and generators, threads, CUDA queries, autocast.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include "rn_common.h"
#ifdef RN_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

RN_API const char* rn_torch_version() { return TORCH_VERSION; }
RN_API int32_t rn_torch_version_major() { return TORCH_VERSION_MAJOR; }
RN_API int32_t rn_torch_version_minor() { return TORCH_VERSION_MINOR; }
RN_API int32_t rn_built_with_cuda() {
#ifdef RN_WITH_CUDA
  return 1;
#else
  return 0;
#endif
}

RN_API int32_t rn_manual_seed(uint64_t seed) { RN_GUARD({ torch::manual_seed(seed); }) }
RN_API int32_t rn_set_num_threads(int32_t n) { RN_GUARD({ at::set_num_threads(n); }) }
RN_API int32_t rn_get_num_threads() { return at::get_num_threads(); }
RN_API int32_t rn_set_num_interop_threads(int32_t n) { RN_GUARD({ at::set_num_interop_threads(n); }) }

// TF32 for float32 matmuls (cuBLAS) and convolutions (cuDNN): process-wide flags of ATen's global context. They can be
// set and read on any build (what PyTorch's torch.backends.cuda.matmul.allow_tf32 / cudnn.allow_tf32 do) and only
// change results on Ampere-or-newer CUDA devices.
RN_API int32_t rn_set_allow_tf32(int32_t matmul, int32_t cudnn) {
  RN_GUARD({
    at::globalContext().setAllowTF32CuBLAS(matmul != 0);
    at::globalContext().setAllowTF32CuDNN(cudnn != 0);
  })
}
RN_API int32_t rn_get_allow_tf32(int32_t* matmul, int32_t* cudnn) {
  RN_GUARD({
    *matmul = at::globalContext().allowTF32CuBLAS() ? 1 : 0;
    *cudnn = at::globalContext().allowTF32CuDNN() ? 1 : 0;
  })
}

// --- generators -------------------------------------------------------------------------------
RN_API int32_t rn_generator_new(int32_t dev_type, int32_t dev_index, uint64_t seed, void** out) {
  RN_GUARD({
    auto type = static_cast<c10::DeviceType>(dev_type);
    if (type == c10::DeviceType::CPU) {
      *out = new at::Generator(at::detail::createCPUGenerator(seed));
      return RN_OK;
    }
#ifdef RN_WITH_CUDA
    if (type == c10::DeviceType::CUDA) {
      auto g = at::cuda::detail::createCUDAGenerator(static_cast<c10::DeviceIndex>(dev_index));
      g.set_current_seed(seed);
      *out = new at::Generator(g);
      return RN_OK;
    }
#endif
    throw std::invalid_argument("generator: unsupported device type " + c10::DeviceTypeName(type));
  })
}

// The process's default generator for a device (shared, not a copy).
RN_API int32_t rn_generator_default(int32_t dev_type, int32_t dev_index, void** out) {
  RN_GUARD({
    auto type = static_cast<c10::DeviceType>(dev_type);
    *out = new at::Generator(at::globalContext().defaultGenerator(
        c10::Device(type, static_cast<c10::DeviceIndex>(dev_index))));
  })
}

RN_API int32_t rn_generator_free(void* g) { RN_GUARD({ delete static_cast<at::Generator*>(g); }) }

RN_API int32_t rn_generator_set_seed(void* g, uint64_t seed) {
  RN_GUARD({
    auto& gen = *static_cast<at::Generator*>(g);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  })
}

RN_API int32_t rn_generator_get_state(void* g, void** out) {
  RN_GUARD({
    auto& gen = *static_cast<at::Generator*>(g);
    std::lock_guard<std::mutex> lock(gen.mutex());
    *out = rn::new_handle(gen.get_state());
  })
}

RN_API int32_t rn_generator_set_state(void* g, void* state) {
  RN_GUARD({
    auto& gen = *static_cast<at::Generator*>(g);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rn::T(state));
  })
}

// --- CUDA -------------------------------------------------------------------------------------
RN_API int32_t rn_cuda_is_available() { return torch::cuda::is_available() ? 1 : 0; }
RN_API int32_t rn_cuda_device_count() { return static_cast<int32_t>(torch::cuda::device_count()); }
RN_API int32_t rn_cuda_synchronize(int32_t device) { RN_GUARD({ torch::cuda::synchronize(device); }) }

// allocated, reserved, peak allocated (bytes); zeros when built without CUDA.
RN_API int32_t rn_cuda_memory_stats(int32_t device, int64_t* allocated, int64_t* reserved, int64_t* peak) {
  RN_GUARD({
    *allocated = *reserved = *peak = 0;
#ifdef RN_WITH_CUDA
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    constexpr auto agg = static_cast<size_t>(c10::cuda::CUDACachingAllocator::StatType::AGGREGATE);
    *allocated = stats.allocated_bytes[agg].current;
    *reserved = stats.reserved_bytes[agg].current;
    *peak = stats.allocated_bytes[agg].peak;
#endif
  })
}

RN_API int32_t rn_cuda_reset_peak(int32_t device) {
  RN_GUARD({
#ifdef RN_WITH_CUDA
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
#endif
  })
}

RN_API int32_t rn_cuda_empty_cache() {
  RN_GUARD({
#ifdef RN_WITH_CUDA
    c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  })
}

// --- autocast (CUDA, bf16/f16) ------------------------------------------------------------------
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define RN_AC_ENABLED() at::autocast::is_autocast_enabled(at::kCUDA)
#define RN_AC_SET_ENABLED(x) at::autocast::set_autocast_enabled(at::kCUDA, x)
#define RN_AC_DTYPE() at::autocast::get_autocast_dtype(at::kCUDA)
#define RN_AC_SET_DTYPE(x) at::autocast::set_autocast_dtype(at::kCUDA, x)
#else
#define RN_AC_ENABLED() at::autocast::is_enabled()
#define RN_AC_SET_ENABLED(x) at::autocast::set_enabled(x)
#define RN_AC_DTYPE() at::autocast::get_autocast_gpu_dtype()
#define RN_AC_SET_DTYPE(x) at::autocast::set_autocast_gpu_dtype(x)
#endif

// Enters an autocast region on CUDA with `dtype`; reports the previous state for rn_autocast_exit.
RN_API int32_t rn_autocast_enter(int32_t dtype, int32_t* prev_enabled, int32_t* prev_dtype) {
  RN_GUARD({
    *prev_enabled = RN_AC_ENABLED() ? 1 : 0;
    *prev_dtype = static_cast<int32_t>(RN_AC_DTYPE());
    RN_AC_SET_ENABLED(true);
    RN_AC_SET_DTYPE(static_cast<at::ScalarType>(dtype));
    at::autocast::increment_nesting();
  })
}

RN_API int32_t rn_autocast_exit(int32_t prev_enabled, int32_t prev_dtype) {
  RN_GUARD({
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    RN_AC_SET_ENABLED(prev_enabled != 0);
    RN_AC_SET_DTYPE(static_cast<at::ScalarType>(prev_dtype));
  })
}
