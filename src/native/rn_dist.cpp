// c10d process groups: the torchrun rendezvous through a TCPStore, Gloo (and NCCL when libtorch has
// CUDA and the build found it), collectives with async handles, errors naming rank and collective.
// Built without Gloo (libgloo-dev missing), the entry points fail with a message saying so.
#include "rn_dist.h"

#ifdef RN_WITH_GLOO
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef RN_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace rn::dist {
namespace {
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  // A loopback rendezvous means every rank is on this machine; the hostname may not resolve there.
  if (master == "localhost" || master.rfind("127.", 0) == 0)
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

Group& G(void* h) {
  if (h == nullptr) throw std::invalid_argument("null process group handle");
  return *static_cast<Group*>(h);
}

Op* issue(Group& g, const std::string& collective, std::vector<at::Tensor> tensors,
          const std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&)>& start) {
  auto op = std::make_unique<Op>();
  op->group = &g;
  op->collective = collective;
  op->tensors = std::move(tensors);
  try {
    op->work = start(op->tensors);
  } catch (const c10::Error& e) {
    throw std::runtime_error(g.where(collective) + " failed: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error(g.where(collective) + " failed: " + e.what());
  }
  return op.release();
}
}  // namespace

void wait(Op& op) {
  const auto& g = *op.group;
  try {
    if (!op.work->wait(g.timeout))
      throw std::runtime_error("did not complete within " + std::to_string(g.timeout.count() / 1000) + " s");
  } catch (const c10::Error& e) {
    throw std::runtime_error(g.where(op.collective) + " failed: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error(g.where(op.collective) + " failed: " + e.what());
  }
  if (op.divide > 1)
    for (auto& t : op.tensors) t.div_(op.divide);
}
}  // namespace rn::dist

#endif

// Which backends this build can create: bit 0 Gloo, bit 1 NCCL.
RN_API int32_t rn_dist_backends() {
  int32_t b = 0;
#ifdef RN_WITH_GLOO
  b |= 1;
#endif
#ifdef RN_WITH_NCCL
  b |= 2;
#endif
  return b;
}

// Joins the group at master:port (rank 0 hosts the TCPStore unless `store_client_only`, torchrun's
// TORCHELASTIC_USE_AGENT_STORE) and creates the backend; both wait at most `timeout_ms`.
RN_API int32_t rn_dist_init(const char* master, int32_t port, int32_t rank, int32_t world, int32_t store_client_only,
                            const char* backend, int64_t timeout_ms, void** out) {
  RN_NO_GLOO_GUARD({
    auto g = std::make_unique<rn::dist::Group>();
    g->rank = rank;
    g->world = world;
    g->name = backend;
    g->timeout = std::chrono::milliseconds(timeout_ms);
    const std::string host = master;
    if (g->name != "gloo" && g->name != "nccl")
      throw std::invalid_argument("unknown backend '" + g->name + "' (gloo or nccl)");
#ifndef RN_WITH_NCCL
    if (g->name == "nccl")
      throw std::runtime_error("backend nccl: this reproduce_native was built without NCCL (it needs a CUDA libtorch "
                               "and nccl.h at build time); use gloo");
#endif
    try {
      c10d::TCPStoreOptions o;
      o.port = static_cast<std::uint16_t>(port);
      o.isServer = rank == 0 && store_client_only == 0;
      o.numWorkers = world;
      o.waitWorkers = false;
      o.timeout = g->timeout;
      auto tcp = c10::make_intrusive<c10d::TCPStore>(host, o);
      g->store = c10::make_intrusive<c10d::PrefixStore>("reproduce/default_pg", tcp);
    } catch (const std::exception& e) {
      throw std::runtime_error(g->where("rendezvous") + ": cannot reach the store at " + host + ":" +
                               std::to_string(port) + " within " + std::to_string(timeout_ms / 1000) +
                               " s: " + e.what());
    }
    try {
      if (g->name == "gloo") {
        auto opts = c10d::ProcessGroupGloo::Options::create(g->timeout);
        opts->devices.push_back(rn::dist::gloo_device(host));
        g->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, rank, world, opts);
      }
#ifdef RN_WITH_NCCL
      else {
        auto opts = c10d::ProcessGroupNCCL::Options::create();
        opts->timeout = g->timeout;
        g->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, rank, world, opts);
      }
#endif
    } catch (const c10::Error& e) {
      throw std::runtime_error(g->where("rendezvous") + ": " + e.what_without_backtrace());
    } catch (const std::exception& e) {
      throw std::runtime_error(g->where("rendezvous") + ": " + e.what());
    }
    *out = g.release();
  })
}

RN_API int32_t rn_dist_free(void* h) {
  RN_NO_GLOO_GUARD({ delete static_cast<rn::dist::Group*>(h); })
}

#ifdef RN_WITH_GLOO
// op: 0 sum, 1 average. The result is written into `t`.
RN_API int32_t rn_dist_allreduce(void* h, void* t, int32_t op, void** out) {
  RN_GUARD({
    auto& g = rn::dist::G(h);
    auto* o = rn::dist::issue(g, op == 1 ? "allreduce(avg)" : "allreduce(sum)", {rn::T(t)}, [&](auto& ts) {
      return g.backend->allreduce(ts, c10d::AllreduceOptions{});
    });
    if (op == 1) o->divide = g.world;
    *out = o;
  })
}

RN_API int32_t rn_dist_broadcast(void* h, void* t, int32_t root, void** out) {
  RN_GUARD({
    auto& g = rn::dist::G(h);
    *out = rn::dist::issue(g, "broadcast(root " + std::to_string(root) + ")", {rn::T(t)}, [&](auto& ts) {
      c10d::BroadcastOptions o;
      o.rootRank = root;
      return g.backend->broadcast(ts, o);
    });
  })
}

// Gathers `t` from every rank into `*result`, shaped [world, ...t.shape]; the result is valid after wait.
RN_API int32_t rn_dist_allgather(void* h, void* t, void** result, void** out) {
  RN_GUARD({
    auto& g = rn::dist::G(h);
    auto input = rn::T(t).contiguous();
    std::vector<int64_t> shape{g.world};
    for (auto s : input.sizes()) shape.push_back(s);
    auto stacked = at::empty(shape, input.options());
    *out = rn::dist::issue(g, "allgather", {input, stacked}, [&](auto& ts) {
      std::vector<std::vector<at::Tensor>> outs{stacked.unbind(0)};
      std::vector<at::Tensor> in{ts[0]};
      return g.backend->allgather(outs, in, c10d::AllgatherOptions{});
    });
    *result = rn::new_handle(stacked);
  })
}

RN_API int32_t rn_dist_barrier(void* h, void** out) {
  RN_GUARD({
    auto& g = rn::dist::G(h);
    *out = rn::dist::issue(g, "barrier", {}, [&](auto&) { return g.backend->barrier(c10d::BarrierOptions{}); });
  })
}

RN_API int32_t rn_dist_wait(void* op) {
  RN_GUARD({
    if (op == nullptr) throw std::invalid_argument("null work handle");
    rn::dist::wait(*static_cast<rn::dist::Op*>(op));
  })
}

RN_API void rn_dist_op_free(void* op) { delete static_cast<rn::dist::Op*>(op); }

namespace {
// A blocking sum over ranks of a copy of `x`.
at::Tensor sum_over_ranks(rn::dist::Group& g, const at::Tensor& x, const std::string& what) {
  auto y = x.detach().contiguous().clone();
  std::unique_ptr<rn::dist::Op> op(rn::dist::issue(g, what, {y}, [&](auto& ts) { return g.backend->allreduce(ts, c10d::AllreduceOptions{}); }));
  rn::dist::wait(*op);
  return y;
}

// y = Σ_ranks x with ∂L/∂x = Σ_ranks ∂L/∂y: the communication of SyncBatchNorm in both directions (its forward
// all-reduces the batch statistics, its backward the sums of the output gradient, as torch.nn.SyncBatchNorm does).
struct SumOverRanks : public torch::autograd::Function<SumOverRanks> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, int64_t group) {
    ctx->saved_data["group"] = group;
    return sum_over_ranks(*reinterpret_cast<rn::dist::Group*>(group), x, "allreduce(sum) of sync_batch_norm statistics");
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto* g = reinterpret_cast<rn::dist::Group*>(ctx->saved_data["group"].toInt());
    return {sum_over_ranks(*g, grads[0], "allreduce(sum) of sync_batch_norm gradients"), at::Tensor()};
  }
};
}  // namespace

// Differentiable all-reduce (sum) of `t`, blocking; the result is a new tensor in the autograd graph.
RN_API int32_t rn_dist_allreduce_autograd(void* h, void* t, void** out) {
  RN_GUARD({
    auto& g = rn::dist::G(h);
    *out = rn::new_handle(SumOverRanks::apply(rn::T(t), reinterpret_cast<int64_t>(&g)));
  })
}
#else
RN_API int32_t rn_dist_allreduce(void*, void*, int32_t, void**) { RN_NO_GLOO_GUARD({}) }
RN_API int32_t rn_dist_broadcast(void*, void*, int32_t, void**) { RN_NO_GLOO_GUARD({}) }
RN_API int32_t rn_dist_allgather(void*, void*, void**, void**) { RN_NO_GLOO_GUARD({}) }
RN_API int32_t rn_dist_barrier(void*, void**) { RN_NO_GLOO_GUARD({}) }
RN_API int32_t rn_dist_wait(void*) { RN_NO_GLOO_GUARD({}) }
RN_API void rn_dist_op_free(void*) {}
RN_API int32_t rn_dist_allreduce_autograd(void*, void*, void**) { RN_NO_GLOO_GUARD({}) }
#endif
