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
#include <ATen/cuda/CUDAContext.h>
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

// --- autocast (CPU and CUDA, bf16/f16) ---------------------------------------------------------
// What torch.autocast(device_type, dtype) does on entry and exit: per-device enabled flag and dtype, one nesting
// counter, and the cast cache cleared when the outermost region closes. 2.4 made the API device-generic and
// deprecated the per-device functions that 1.13 only has.
namespace {
c10::DeviceType autocast_device(int32_t dev_type) {
  auto d = static_cast<c10::DeviceType>(dev_type);
  if (d != c10::DeviceType::CPU && d != c10::DeviceType::CUDA)
    throw std::invalid_argument("autocast: device type " + c10::DeviceTypeName(d) + " is not supported (cpu or cuda)");
  return d;
}
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool ac_enabled(c10::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
void ac_set_enabled(c10::DeviceType d, bool x) { at::autocast::set_autocast_enabled(d, x); }
at::ScalarType ac_dtype(c10::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
void ac_set_dtype(c10::DeviceType d, at::ScalarType t) { at::autocast::set_autocast_dtype(d, t); }
#else
bool ac_enabled(c10::DeviceType d) {
  return d == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
}
void ac_set_enabled(c10::DeviceType d, bool x) {
  if (d == c10::DeviceType::CPU) at::autocast::set_cpu_enabled(x); else at::autocast::set_enabled(x);
}
at::ScalarType ac_dtype(c10::DeviceType d) {
  return d == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
}
void ac_set_dtype(c10::DeviceType d, at::ScalarType t) {
  if (d == c10::DeviceType::CPU) at::autocast::set_autocast_cpu_dtype(t); else at::autocast::set_autocast_gpu_dtype(t);
}
#endif
}  // namespace

// Enters an autocast region on `dev_type` (CPU or CUDA) with `dtype`; reports the previous state for rn_autocast_exit.
RN_API int32_t rn_autocast_enter(int32_t dev_type, int32_t dtype, int32_t* prev_enabled, int32_t* prev_dtype) {
  RN_GUARD({
    auto d = autocast_device(dev_type);
    *prev_enabled = ac_enabled(d) ? 1 : 0;
    *prev_dtype = static_cast<int32_t>(ac_dtype(d));
    ac_set_enabled(d, true);
    ac_set_dtype(d, static_cast<at::ScalarType>(dtype));
    at::autocast::increment_nesting();
  })
}

RN_API int32_t rn_autocast_exit(int32_t dev_type, int32_t prev_enabled, int32_t prev_dtype) {
  RN_GUARD({
    auto d = autocast_device(dev_type);
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    ac_set_enabled(d, prev_enabled != 0);
    ac_set_dtype(d, static_cast<at::ScalarType>(prev_dtype));
  })
}

// Whether autocast is on for `dev_type` (1/0), for tests and checks.
RN_API int32_t rn_autocast_is_enabled(int32_t dev_type, int32_t* enabled) {
  RN_GUARD({ *enabled = ac_enabled(autocast_device(dev_type)) ? 1 : 0; })
}

// bf16 support of a CUDA device as torch.cuda.is_bf16_supported() decides it (compute capability 8.0 or newer);
// 0 on a build without CUDA.
RN_API int32_t rn_cuda_bf16_supported(int32_t device, int32_t* supported) {
  RN_GUARD({
    *supported = 0;
#ifdef RN_WITH_CUDA
    *supported = at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(device))->major >= 8 ? 1 : 0;
#endif
  })
}
