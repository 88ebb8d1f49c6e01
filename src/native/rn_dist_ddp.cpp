// Data-parallel gradient averaging (PyTorch DDP's reducer, which is not usable from C++ here):
// parameters grouped in buckets of ~cap bytes in reverse registration order (backward produces the
// last layers' gradients first); a post-hook on each parameter's AccumulateGrad node marks it ready,
// and a bucket whose parameters are all ready is flattened, divided by the world size and
// all-reduced asynchronously while backward goes on. Buckets are issued strictly in order, so every
// rank issues the same collectives in the same sequence. rn_ddp_finish waits and copies back.
#include <mutex>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>
#include "rn_dist.h"

#ifdef RN_WITH_GLOO
namespace {
struct Reducer {
  rn::dist::Group* group = nullptr;
  std::vector<at::Tensor> params;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // the hooks live on them
  std::vector<std::vector<size_t>> buckets;
  std::vector<size_t> bucket_of;
  std::vector<size_t> pending;  // per bucket: parameters not ready yet
  std::vector<char> ready;
  std::vector<std::unique_ptr<rn::dist::Op>> ops;  // per bucket, once issued
  size_t next = 0;                                 // first bucket not issued
  bool sync = true;
  size_t issued_by_hooks = 0;  // buckets issued from hooks, before the last finish
  std::string error;    // a failure inside a hook, reported by finish
  std::mutex mu;

  at::Tensor flat(size_t b) {
    std::vector<at::Tensor> parts;
    for (auto i : buckets[b]) {
      const auto& g = params[i].grad();
      parts.push_back(g.defined() ? g.reshape(-1) : at::zeros({params[i].numel()}, params[i].options()));
    }
    return at::cat(parts).div_(group->world);
  }

  void issue_ready() {
    while (next < buckets.size() && pending[next] == 0) {
      auto op = std::make_unique<rn::dist::Op>();
      op->group = group;
      op->collective = "allreduce(gradient bucket " + std::to_string(next) + " of " + std::to_string(buckets.size()) + ")";
      op->tensors = {flat(next)};
      try {
        op->work = group->backend->allreduce(op->tensors, c10d::AllreduceOptions{});
      } catch (const std::exception& e) {
        throw std::runtime_error(group->where(op->collective) + " failed: " + e.what());
      }
      ops[next] = std::move(op);
      ++next;
    }
  }

  void mark(size_t i) {
    std::lock_guard<std::mutex> lock(mu);
    if (!sync || ready[i] || !error.empty()) return;
    ready[i] = 1;
    --pending[bucket_of[i]];
    try {
      at::NoGradGuard no_grad;
      issue_ready();
    } catch (const std::exception& e) {
      error = e.what();
    }
  }

  void reset() {
    for (size_t b = 0; b < buckets.size(); ++b) pending[b] = buckets[b].size();
    std::fill(ready.begin(), ready.end(), 0);
    for (auto& op : ops) op.reset();
    next = 0;
    error.clear();
  }

  void finish() {
    std::lock_guard<std::mutex> lock(mu);
    if (!sync) return;
    at::NoGradGuard no_grad;
    // Parameters that took no part in this backward (unused branches) count as zero gradients.
    issued_by_hooks = next;
    std::fill(pending.begin(), pending.end(), 0);
    try {
      if (!error.empty()) throw std::runtime_error(error);
      issue_ready();
      for (size_t b = 0; b < buckets.size(); ++b) {
        rn::dist::wait(*ops[b]);
        const auto& reduced = ops[b]->tensors[0];
        int64_t offset = 0;
        for (auto i : buckets[b]) {
          auto& p = params[i];
          auto slice = reduced.narrow(0, offset, p.numel()).view(p.sizes());
          offset += p.numel();
          auto& g = p.mutable_grad();
          if (g.defined()) g.copy_(slice);
          else g = slice.clone();
        }
      }
    } catch (...) {
      reset();
      throw;
    }
    reset();
  }
};

struct ReadyHook : torch::autograd::FunctionPostHook {
  std::weak_ptr<Reducer> reducer;
  size_t index;
  ReadyHook(std::weak_ptr<Reducer> r, size_t i) : reducer(std::move(r)), index(i) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    if (auto r = reducer.lock()) r->mark(index);
    return outputs;
  }
};

std::shared_ptr<Reducer>& R(void* h) {
  if (h == nullptr) throw std::invalid_argument("null reducer handle");
  return *static_cast<std::shared_ptr<Reducer>*>(h);
}
}  // namespace

// Buckets `n` parameters (all requiring grad) of at most `cap_bytes` each, in reverse order.
RN_API int32_t rn_ddp_create(void* group, void* const* params, int32_t n, int64_t cap_bytes, void** out) {
  RN_GUARD({
    if (group == nullptr) throw std::invalid_argument("null process group handle");
    auto r = std::make_shared<Reducer>();
    r->group = static_cast<rn::dist::Group*>(group);
    for (int32_t k = 0; k < n; ++k) {
      const auto& p = rn::T(params[k]);
      if (!p.requires_grad() || !p.is_leaf())
        throw std::invalid_argument("parameter " + std::to_string(k) + " is not a leaf that requires grad");
      r->params.push_back(p);
    }
    r->bucket_of.assign(r->params.size(), 0);
    int64_t bytes = 0;
    for (int64_t i = static_cast<int64_t>(r->params.size()) - 1; i >= 0; --i) {
      const auto& p = r->params[i];
      const int64_t size = p.numel() * static_cast<int64_t>(p.element_size());
      const bool fresh = r->buckets.empty() || bytes + size > cap_bytes ||
                         r->params[r->buckets.back().front()].scalar_type() != p.scalar_type() ||
                         r->params[r->buckets.back().front()].device() != p.device();
      if (fresh) {
        r->buckets.emplace_back();
        bytes = 0;
      }
      r->buckets.back().push_back(static_cast<size_t>(i));
      r->bucket_of[i] = r->buckets.size() - 1;
      bytes += size;
    }
    r->pending.resize(r->buckets.size());
    r->ready.resize(r->params.size());
    r->ops.resize(r->buckets.size());
    r->reset();
    for (size_t i = 0; i < r->params.size(); ++i) {
      auto acc = torch::autograd::impl::grad_accumulator(r->params[i]);
      acc->add_post_hook(std::make_unique<ReadyHook>(r, i));
      r->accumulators.push_back(std::move(acc));
    }
    *out = new std::shared_ptr<Reducer>(std::move(r));
  })
}

// Off during accumulation micro-steps (DDP's no_sync): backward only accumulates locally.
RN_API int32_t rn_ddp_set_sync(void* h, int32_t sync) {
  RN_GUARD({
    auto& r = *R(h);
    std::lock_guard<std::mutex> lock(r.mu);
    r.sync = sync != 0;
  })
}

// After backward: issues what is left, waits for every bucket and writes the averages into .grad.
RN_API int32_t rn_ddp_finish(void* h) { RN_GUARD({ R(h)->finish(); }) }

// Buckets issued from hooks (during backward) before the last finish (for tests: > 0 means communication overlapped).
RN_API int32_t rn_ddp_issued(void* h, int32_t* issued, int32_t* buckets) {
  RN_GUARD({
    auto& r = *R(h);
    std::lock_guard<std::mutex> lock(r.mu);
    *issued = static_cast<int32_t>(r.issued_by_hooks);
    *buckets = static_cast<int32_t>(r.buckets.size());
  })
}

RN_API void rn_ddp_free(void* h) { delete static_cast<std::shared_ptr<Reducer>*>(h); }
#else
RN_API int32_t rn_ddp_create(void*, void* const*, int32_t, int64_t, void**) { RN_NO_GLOO_GUARD({}) }
RN_API int32_t rn_ddp_set_sync(void*, int32_t) { RN_NO_GLOO_GUARD({}) }
RN_API int32_t rn_ddp_finish(void*) { RN_NO_GLOO_GUARD({}) }
RN_API int32_t rn_ddp_issued(void*, int32_t*, int32_t*) { RN_NO_GLOO_GUARD({}) }
RN_API void rn_ddp_free(void*) {}
#endif
