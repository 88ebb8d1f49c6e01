// Shared by rn_dist.cpp (process groups, collectives) and rn_dist_ddp.cpp (gradient buckets).
#pragma once
#include <chrono>
#include <string>
#include <torch/version.h>
#include "rn_common.h"

#ifdef RN_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

namespace rn::dist {
// 1.x: backends derive from ProcessGroup. 2.x: they derive from Backend and ProcessGroup wraps them;
// a Backend has the same collective methods, so we hold the backend itself.
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> backend;
  int rank = 0;
  int world = 1;
  std::string name;  // "gloo" or "nccl"
  std::chrono::milliseconds timeout{0};
  // "rank 1 of 2 (gloo) allreduce": the prefix of every error message.
  std::string where(const std::string& collective) const {
    return "rank " + std::to_string(rank) + " of " + std::to_string(world) + " (" + name + ") " + collective;
  }
};

// An issued collective. Tensors are kept alive until it completes; `divide` > 1 turns a SUM into an
// average at completion (Gloo has no AVG).
struct Op {
  Group* group = nullptr;
  std::string collective;
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<at::Tensor> tensors;
  int64_t divide = 1;
};

// Waits for `op` (up to the group's timeout) and rethrows a failure with the rank and the collective.
void wait(Op& op);
}  // namespace rn::dist

#define RN_NO_GLOO_GUARD(...) RN_GUARD(__VA_ARGS__)
#else
#define RN_NO_GLOO_GUARD(...)                                                                        \
  RN_GUARD(throw std::runtime_error(                                                                 \
      "this reproduce_native was built without c10d/Gloo (libgloo-dev was not installed when it was " \
      "built), so it runs single-process only; install libgloo-dev and rebuild (dotnet fsi build.fsx native)"))
#endif
