// Tensor handles: creation from / copy to caller memory, metadata, lifetime.
#include <atomic>
#include <cstring>
#include "rn_common.h"

namespace {
std::atomic<int64_t> g_live{0};

c10::Device make_device(int32_t type, int32_t index) {
  return c10::Device(static_cast<c10::DeviceType>(type), static_cast<c10::DeviceIndex>(index));
}
}  // namespace

namespace rn {
void* new_handle(at::Tensor t) {
  auto* h = new at::Tensor(std::move(t));
  g_live.fetch_add(1, std::memory_order_relaxed);
  return h;
}
}  // namespace rn

RN_API int64_t rn_live_handles() { return g_live.load(); }

RN_API int32_t rn_tensor_free(void* h) {
  RN_GUARD({
    if (h == nullptr) return RN_OK;
    delete static_cast<at::Tensor*>(h);
    g_live.fetch_sub(1, std::memory_order_relaxed);
  })
}

// Creates a tensor of `dtype` with `shape` on the device, copying `nbytes` from `data`
// (data may be null: then the tensor is left uninitialised).
RN_API int32_t rn_tensor_from_data(const void* data, int64_t nbytes, const int64_t* shape, int32_t ndim,
                                   int32_t dtype, int32_t dev_type, int32_t dev_index, void** out) {
  RN_GUARD({
    auto st = static_cast<at::ScalarType>(dtype);
    auto t = at::empty(c10::IntArrayRef(shape, ndim), at::TensorOptions().dtype(st));
    int64_t want = t.numel() * static_cast<int64_t>(t.element_size());
    if (data != nullptr) {
      if (want != nbytes)
        throw std::invalid_argument("tensor from data: shape " + c10::str(t.sizes()) + " of " +
                                    c10::toString(st) + " needs " + std::to_string(want) +
                                    " bytes but " + std::to_string(nbytes) + " were given");
      if (want > 0) std::memcpy(t.data_ptr(), data, static_cast<size_t>(want));
    }
    auto dev = make_device(dev_type, dev_index);
    if (dev.type() != c10::DeviceType::CPU) t = t.to(dev);
    *out = rn::new_handle(std::move(t));
  })
}

// Copies the tensor's values (as a contiguous CPU array of its own dtype) into `dst`.
RN_API int32_t rn_tensor_copy_to(void* h, void* dst, int64_t nbytes) {
  RN_GUARD({
    auto t = rn::T(h).detach();
    if (t.device().type() != c10::DeviceType::CPU) t = t.to(c10::Device(c10::DeviceType::CPU));
    t = t.contiguous();
    int64_t have = t.numel() * static_cast<int64_t>(t.element_size());
    if (have != nbytes)
      throw std::invalid_argument("tensor copy: tensor " + c10::str(t.sizes()) + " of " +
                                  c10::toString(t.scalar_type()) + " holds " + std::to_string(have) +
                                  " bytes but the destination holds " + std::to_string(nbytes));
    if (have > 0) std::memcpy(dst, t.data_ptr(), static_cast<size_t>(have));
  })
}

// Pointer to the data of a contiguous CPU tensor (null otherwise), for zero-copy access.
RN_API int32_t rn_tensor_data_ptr(void* h, void** out) {
  RN_GUARD({
    auto& t = rn::T(h);
    *out = (t.device().is_cpu() && t.is_contiguous()) ? t.data_ptr() : nullptr;
  })
}

// All metadata in one call: returns ndim (and fills up to `cap` sizes), dtype, device, flags.
// flags: bit0 requires_grad, bit1 is_leaf, bit2 defined, bit3 contiguous.
RN_API int32_t rn_tensor_info(void* h, int64_t* sizes, int32_t cap, int32_t* ndim, int32_t* dtype,
                              int32_t* dev_type, int32_t* dev_index, int32_t* flags) {
  RN_GUARD({
    auto& t = rn::T(h);
    if (!t.defined()) {
      *ndim = 0;
      *dtype = -1;
      *dev_type = 0;
      *dev_index = -1;
      *flags = 0;
      return RN_OK;
    }
    auto s = t.sizes();
    *ndim = static_cast<int32_t>(s.size());
    for (int32_t i = 0; i < *ndim && i < cap; ++i) sizes[i] = s[i];
    *dtype = static_cast<int32_t>(t.scalar_type());
    *dev_type = static_cast<int32_t>(t.device().type());
    *dev_index = t.device().index();
    *flags = (t.requires_grad() ? 1 : 0) | (t.is_leaf() ? 2 : 0) | 4 | (t.is_contiguous() ? 8 : 0);
  })
}

RN_API int32_t rn_tensor_clone_handle(void* h, void** out) {
  RN_GUARD({ *out = rn::new_handle(rn::T(h)); })
}

// Replaces the tensor's data in place, keeping its identity (PyTorch's `param.data = other`).
RN_API int32_t rn_tensor_set_data(void* h, void* src) {
  RN_GUARD({ rn::T(h).set_data(rn::T(src)); })
}

RN_API int32_t rn_tensor_same(void* a, void* b, int32_t* out) {
  RN_GUARD({ *out = rn::T(a).is_same(rn::T(b)) ? 1 : 0; })
}
