#pragma once
// Checks and rewrites the pickle stream of a torch.save archive before libtorch's unpickler reads it.
// libtorch's Unpickler trusts its input (a malformed stream can index past its stack) and turns a
// collections.OrderedDict -- the type of every state_dict -- into None. The scan replays the stream on
// an abstract stack so that every opcode libtorch executes finds the operands it expects, refusing
// the stream otherwise, and rewrites the few constructs libtorch cannot build into opcodes it can.
#include <cstddef>
#include <string>

namespace rn {
// Dict keys the rewrite inserts; the caller drops them from the unpickled dicts.
constexpr const char* kOrderedDictMarker = "__rn_ordered_dict__";
constexpr const char* kBuildStateKey = "__rn_build_state__";

// The rewritten stream, or std::invalid_argument naming the opcode offset and what is wrong.
std::string scan_pickle(const char* data, size_t n);
}  // namespace rn
