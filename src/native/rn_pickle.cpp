// torch.save payloads (the zip container PyTorch writes since 1.6), read through libtorch's own
// unpickler (torch::pickle_load). Used for third-party label files such as TokenLabeling's
// per-image `.pt` score maps; our own files are safetensors.
#include <torch/csrc/jit/serialization/pickle.h>
#include <vector>
#include "rn_common.h"

namespace {
// Collects the tensors of a value in pickle order: a tensor itself, or the elements of a
// list / tuple / dict (values in insertion order), recursively.
void collect(const c10::IValue& v, std::vector<at::Tensor>& out) {
  if (v.isTensor()) {
    out.push_back(v.toTensor());
  } else if (v.isTensorList()) {
    for (const auto& t : v.toTensorList()) out.push_back(t);
  } else if (v.isList()) {
    for (const auto& e : v.toListRef()) collect(e, out);
  } else if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) collect(e, out);
  } else if (v.isGenericDict()) {
    for (const auto& kv : v.toGenericDict()) collect(kv.value(), out);
  } else if (!v.isNone()) {
    throw std::invalid_argument("torch.save payload holds a " + v.tagKind() +
                                ", which is not a tensor or a container of tensors");
  }
}
}  // namespace

// Unpickles `n` bytes of a torch.save file and returns its tensors (detached, contiguous, on the
// CPU) as new handles in `out` (capacity `cap`); `*count` receives how many there are. When more
// than `cap` tensors are present nothing is returned and the call fails naming the count.
RN_API int32_t rn_pickle_load_tensors(const void* bytes, int64_t n, void** out, int32_t cap, int32_t* count) {
  RN_GUARD({
    if (bytes == nullptr || n <= 0) throw std::invalid_argument("torch.save payload is empty");
    const char* p = static_cast<const char*>(bytes);
    // A zip archive starts with "PK\x03\x04"; the legacy (pre-1.6) format starts with a pickle
    // protocol byte (0x80) and is not readable without Python.
    if (n < 4 || p[0] != 'P' || p[1] != 'K')
      throw std::invalid_argument(
          "not a torch.save zip archive (first bytes are not 'PK'); files written by PyTorch < 1.6 "
          "or with _use_new_zipfile_serialization=False must be re-saved with a newer PyTorch");
    std::vector<char> data(p, p + n);
    auto value = torch::pickle_load(data);
    std::vector<at::Tensor> tensors;
    collect(value, tensors);
    *count = static_cast<int32_t>(tensors.size());
    if (static_cast<int64_t>(tensors.size()) > cap)
      throw std::invalid_argument("torch.save payload holds " + std::to_string(tensors.size()) +
                                  " tensors but room was given for " + std::to_string(cap));
    for (size_t i = 0; i < tensors.size(); ++i)
      out[i] = rn::new_handle(tensors[i].detach().to(c10::Device(c10::DeviceType::CPU)).contiguous());
  })
}
