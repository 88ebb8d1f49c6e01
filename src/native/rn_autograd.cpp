// Autograd: requires_grad, grads, backward/grad, and the thread-local grad / inference modes.
#include <torch/csrc/autograd/autograd.h>
#include "rn_common.h"

namespace {
std::vector<at::Tensor> tensors(void* const* hs, int32_t n, bool allow_null) {
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int32_t k = 0; k < n; ++k) {
    if (hs[k] == nullptr && allow_null)
      v.emplace_back();
    else
      v.push_back(rn::T(hs[k]));
  }
  return v;
}
}  // namespace

RN_API int32_t rn_tensor_set_requires_grad(void* h, int32_t flag) {
  RN_GUARD({ rn::T(h).set_requires_grad(flag != 0); })
}

// The accumulated gradient, or null when there is none.
RN_API int32_t rn_tensor_grad(void* h, void** out) {
  RN_GUARD({
    const auto& g = rn::T(h).grad();
    *out = g.defined() ? rn::new_handle(g) : nullptr;
  })
}

RN_API int32_t rn_tensor_set_grad(void* h, void* g) {
  RN_GUARD({ rn::T(h).mutable_grad() = g ? rn::T(g) : at::Tensor(); })
}

RN_API int32_t rn_tensor_zero_grad(void* h, int32_t set_to_none) {
  RN_GUARD({
    auto& g = rn::T(h).mutable_grad();
    if (!g.defined()) return RN_OK;
    if (set_to_none) {
      g = at::Tensor();
    } else {
      if (g.grad_fn()) g = g.detach();
      else g.requires_grad_(false);
      g.zero_();
    }
  })
}

RN_API int32_t rn_tensor_retain_grad(void* h) {
  RN_GUARD({ rn::T(h).retain_grad(); })
}

RN_API int32_t rn_tensor_grad_fn_name(void* h, char* buf, int32_t cap) {
  RN_GUARD({
    const auto& fn = rn::T(h).grad_fn();
    std::string name = fn ? fn->name() : "";
    std::snprintf(buf, static_cast<size_t>(cap), "%s", name.c_str());
  })
}

// Backward from `n` roots; `grads[k]` may be null (implicit ones for a scalar root).
RN_API int32_t rn_backward(void* const* roots, void* const* grads, int32_t n, int32_t retain_graph,
                           int32_t create_graph) {
  RN_GUARD({
    auto r = tensors(roots, n, false);
    auto g = grads ? tensors(grads, n, true) : std::vector<at::Tensor>(static_cast<size_t>(n));
    torch::autograd::backward(r, g, c10::optional<bool>(retain_graph != 0), create_graph != 0);
  })
}

// Gradients of `outputs` with respect to `inputs` (torch.autograd.grad); `outs` receives
// `ninputs` handles, null where an input is unused (allow_unused).
RN_API int32_t rn_autograd_grad(void* const* outputs, void* const* grad_outputs, int32_t noutputs,
                                void* const* inputs, int32_t ninputs, int32_t retain_graph,
                                int32_t create_graph, int32_t allow_unused, void** outs) {
  RN_GUARD({
    auto o = tensors(outputs, noutputs, false);
    auto go = grad_outputs ? tensors(grad_outputs, noutputs, true)
                           : std::vector<at::Tensor>(static_cast<size_t>(noutputs));
    auto in = tensors(inputs, ninputs, false);
    auto res = torch::autograd::grad(o, in, go, c10::optional<bool>(retain_graph != 0), create_graph != 0,
                                     allow_unused != 0);
    for (int32_t k = 0; k < ninputs; ++k) outs[k] = res[k].defined() ? rn::new_handle(res[k]) : nullptr;
  })
}

RN_API int32_t rn_grad_mode_is_enabled() { return c10::GradMode::is_enabled() ? 1 : 0; }
RN_API void rn_grad_mode_set_enabled(int32_t enabled) { c10::GradMode::set_enabled(enabled != 0); }

// Inference mode is an RAII guard touching several thread-local states; the C# side keeps the
// guard object and exits it on the same thread in LIFO order (a `using` block).
RN_API int32_t rn_inference_mode_enter(int32_t enabled, void** guard) {
  RN_GUARD({ *guard = new c10::InferenceMode(enabled != 0); })
}
RN_API int32_t rn_inference_mode_exit(void* guard) {
  RN_GUARD({ delete static_cast<c10::InferenceMode*>(guard); })
}
RN_API int32_t rn_inference_mode_is_enabled() { return c10::InferenceMode::is_enabled() ? 1 : 0; }
