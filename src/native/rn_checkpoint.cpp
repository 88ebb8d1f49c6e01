// torch.save checkpoints (zip format) as a flat list of (path, value) entries, read through
// libtorch's own Unpickler after rn_pickle_scan has checked and rewritten the stream. Python
// classes other than tensors and dicts (argparse.Namespace, numpy scalars, ...) become opaque
// objects named by their class; every tensor is checked to lie inside its storage record before
// anything reads its data.
#include <sys/types.h>  // off_t, which in_memory_adapter.h uses without including

#include <caffe2/serialize/in_memory_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include <cstring>
#include <unordered_map>
#include <vector>

#include "rn_common.h"
#include "rn_pickle_scan.h"

namespace {
constexpr int kMaxDepth = 64;

struct Entry {
  std::string path;  // components joined by '\x1f'
  std::string what;  // "tensor" or a short description of the value
  at::Tensor tensor;
};

struct Doc {
  std::vector<Entry> entries;
  std::string text;
};

std::string describe(const c10::IValue& v) {
  if (v.isNone()) return "None";
  if (v.isBool()) return v.toBool() ? "bool True" : "bool False";
  if (v.isInt()) return "int " + std::to_string(v.toInt());
  if (v.isDouble()) return "float " + std::to_string(v.toDouble());
  if (v.isString()) {
    const auto& s = v.toStringRef();
    return "str " + (s.size() > 60 ? s.substr(0, 60) + "..." : s);
  }
  if (v.isObject()) return "object " + v.toObjectRef().type()->name()->qualifiedName();
  if (v.isGenericDict()) return "dict (empty)";
  if (v.isList()) return "list (empty)";
  if (v.isTuple()) return "tuple (empty)";
  if (v.isDevice()) return "device " + v.toDevice().str();
  return v.tagKind();
}

std::string key_component(const c10::IValue& k) {
  if (k.isString()) return "k" + k.toStringRef();
  if (k.isInt()) return "i" + std::to_string(k.toInt());
  return "k<" + k.tagKind() + ">";
}

void flatten(const c10::IValue& v, const std::string& path, int depth, std::vector<Entry>& out) {
  if (depth > kMaxDepth) throw std::invalid_argument("values nested deeper than " + std::to_string(kMaxDepth) + " levels (a cycle?)");
  auto child = [&](const std::string& c) { return path.empty() ? c : path + '\x1f' + c; };
  if (v.isTensor()) {
    out.push_back({path, "tensor", v.toTensor()});
  } else if (v.isGenericDict() && !v.toGenericDict().empty()) {
    bool any = false;
    for (const auto& kv : v.toGenericDict()) {
      const auto& k = kv.key();
      if (k.isString() && (k.toStringRef() == rn::kOrderedDictMarker || k.toStringRef() == rn::kBuildStateKey)) continue;
      any = true;
      flatten(kv.value(), child(key_component(k)), depth + 1, out);
    }
    if (!any) {
      // {kBuildStateKey: (object, state)} stands for an object with state; a bare marker, an empty dict.
      auto d = v.toGenericDict();
      auto it = d.find(c10::IValue(std::string(rn::kBuildStateKey)));
      std::string what = "dict (empty)";
      if (it != d.end() && it->value().isTuple() && it->value().toTupleRef().elements().size() == 2)
        what = describe(it->value().toTupleRef().elements()[0]);
      out.push_back({path, what, {}});
    }
  } else if ((v.isList() && !v.toListRef().empty()) || (v.isTuple() && !v.toTupleRef().elements().empty())) {
    auto elems = v.isList() ? v.toListRef() : v.toTupleRef().elements();
    for (size_t i = 0; i < elems.size(); ++i) flatten(elems[i], child("#" + std::to_string(i)), depth + 1, out);
  } else {
    out.push_back({path, describe(v), {}});
  }
}

// A tensor's extent (bytes from the storage start to its last element) must lie inside the record it
// was read from: libtorch does not compare the pickle's sizes and strides with the data.
void check_extent(const at::Tensor& t, const std::string& where,
                  const std::unordered_map<const void*, size_t>& records) {
  for (auto s : t.sizes())
    if (s < 0) throw std::invalid_argument(where + ": negative size in the pickle");
  for (auto s : t.strides())
    if (s < 0) throw std::invalid_argument(where + ": negative stride in the pickle");
  if (t.storage_offset() < 0) throw std::invalid_argument(where + ": negative storage offset in the pickle");
  if (t.numel() == 0) return;
  const void* base = t.storage().data_ptr().get();
  auto it = records.find(base);
  if (it == records.end()) throw std::invalid_argument(where + ": tensor without a data record");
  unsigned __int128 last = static_cast<unsigned __int128>(t.storage_offset());
  for (int64_t d = 0; d < t.dim(); ++d)
    last += static_cast<unsigned __int128>(t.size(d) - 1) * static_cast<unsigned __int128>(t.stride(d));
  unsigned __int128 bytes = (last + 1) * t.element_size();
  if (bytes > it->second || t.storage().nbytes() > it->second)
    throw std::invalid_argument(where + ": sizes and strides reach byte " + std::to_string(static_cast<uint64_t>(bytes)) +
                                " but its data record holds " + std::to_string(it->second) + " bytes");
}

Doc* load(const char* p, size_t n) {
  if (n < 4 || p[0] != 'P' || p[1] != 'K')
    throw std::invalid_argument(
        n >= 2 && static_cast<uint8_t>(p[0]) == 0x80
            ? "legacy torch.save format (PyTorch < 1.6 or _use_new_zipfile_serialization=False); convert it with a recent "
              "PyTorch: torch.save(torch.load(f, map_location='cpu'), g), or save it as safetensors"
            : "not a torch.save zip archive (it does not start with 'PK')");
  caffe2::serialize::PyTorchStreamReader reader(std::make_unique<caffe2::serialize::MemoryReadAdapter>(p, n));
  if (!reader.hasRecord("data.pkl")) throw std::invalid_argument("the archive has no data.pkl (a TorchScript module, not a torch.save file?)");
  auto [pkl, pklSize] = reader.getRecord("data.pkl");
  std::string stream = rn::scan_pickle(static_cast<const char*>(pkl.get()), pklSize);

  size_t pos = 0;
  auto readFn = [&](char* buf, size_t len) {
    size_t k = std::min(len, stream.size() - pos);
    std::memcpy(buf, stream.data() + pos, k);
    pos += k;
    return k;
  };
  std::unordered_map<const void*, size_t> records;
  auto readRecord = [&](const std::string& name) {
    auto [ptr, size] = reader.getRecord("data/" + name);
    records[ptr.get()] = size;
    return std::move(ptr);
  };
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  std::unordered_map<std::string, c10::ClassTypePtr> classes;
  auto typeResolver = [&](const c10::QualifiedName& qn) {
    auto& cls = classes[qn.qualifiedName()];
    if (!cls) cls = c10::ClassType::create(qn, cu);
    return c10::StrongTypePtr(cu, cls);
  };
  auto objLoader = [](const at::StrongTypePtr& type, const c10::IValue&) {
    return c10::ivalue::Object::create(type, 0);
  };
  torch::jit::Unpickler unpickler(readFn, typeResolver, objLoader, readRecord, c10::Device(c10::DeviceType::CPU));
  auto value = unpickler.parse_ivalue();

  auto doc = std::make_unique<Doc>();
  flatten(value, "", 0, doc->entries);
  for (auto& e : doc->entries) {
    if (!e.tensor.defined()) continue;
    std::string where = "tensor '" + e.path + "'";
    for (auto& c : where)
      if (c == '\x1f') c = '/';
    check_extent(e.tensor, where, records);
    e.tensor = e.tensor.detach().contiguous();
  }
  for (const auto& e : doc->entries) {
    doc->text += e.path;
    doc->text += '\x1d';
    doc->text += e.what;
    doc->text += '\x1e';
  }
  return doc.release();
}
}  // namespace

// Reads a torch.save archive of `n` bytes into a document of flat entries; `*count` receives the number
// of entries and `*text_len` the length of their text (rn_checkpoint_text).
RN_API int32_t rn_checkpoint_load(const void* bytes, int64_t n, void** doc, int32_t* count, int64_t* text_len) {
  RN_GUARD({
    if (bytes == nullptr || n <= 0) throw std::invalid_argument("the file is empty");
    auto* d = load(static_cast<const char*>(bytes), static_cast<size_t>(n));
    *doc = d;
    *count = static_cast<int32_t>(d->entries.size());
    *text_len = static_cast<int64_t>(d->text.size());
  })
}

// Copies the entries' text: per entry the path (components joined by 0x1f; a component is 'k' + dict key,
// 'i' + integer dict key or '#' + sequence index), 0x1d, the value's description ("tensor", "int 3",
// "object argparse.Namespace", ...), 0x1e.
RN_API int32_t rn_checkpoint_text(void* doc, char* buf, int64_t cap) {
  RN_GUARD({
    auto* d = static_cast<Doc*>(doc);
    if (cap < static_cast<int64_t>(d->text.size())) throw std::invalid_argument("text buffer too small");
    std::memcpy(buf, d->text.data(), d->text.size());
  })
}

// New handles for the entries' tensors (contiguous, CPU) in `out` (one slot per entry; null where the
// entry is not a tensor).
RN_API int32_t rn_checkpoint_tensors(void* doc, void** out, int32_t cap) {
  RN_GUARD({
    auto* d = static_cast<Doc*>(doc);
    if (cap < static_cast<int32_t>(d->entries.size())) throw std::invalid_argument("handle buffer too small");
    for (size_t i = 0; i < d->entries.size(); ++i)
      out[i] = d->entries[i].tensor.defined() ? rn::new_handle(d->entries[i].tensor) : nullptr;
  })
}

RN_API int32_t rn_checkpoint_free(void* doc) { RN_GUARD({ delete static_cast<Doc*>(doc); }) }
