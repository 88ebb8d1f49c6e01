// The pickle check and rewrite of rn_pickle_scan.h. The abstract stack mirrors libtorch's Unpickler
// (torch/csrc/jit/serialization/unpickler.cpp): the same opcodes, the same operand positions, and
// for each value only what a later opcode needs to know about it (its kind, where its opcodes start
// in the output, its nesting depth).
#include "rn_pickle_scan.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace rn {
namespace {
enum class Kind { Other, Int, Str, Tensor, StorageType, Tuple, List, Dict, Object, Global };
enum class Global { None, RebuildTensor, OrderedDict, Class, Device };

struct Item {
  Kind kind = Kind::Other;
  size_t start = 0;  // output offset of the first opcode that built the value
  int depth = 0;
  Global global = Global::None;
  std::vector<Kind> elems;  // a tuple's element kinds (the first few)
};

struct Insertion {
  size_t at;
  size_t seq;
  std::string bytes;
};

constexpr int kMaxDepth = 64;
constexpr size_t kMaxTupleKinds = 8;
constexpr size_t kMaxNameLength = 256;

class Scanner {
 public:
  Scanner(const char* data, size_t n) : p_(data), n_(n) {}

  std::string run() {
    if (n_ < 2 || static_cast<uint8_t>(p_[0]) != 0x80)
      throw std::invalid_argument("the pickle does not start with a PROTO opcode");
    if (static_cast<uint8_t>(p_[1]) != 2)
      throw std::invalid_argument("pickle protocol " + std::to_string(static_cast<uint8_t>(p_[1])) +
                                  " is not supported (torch.save writes protocol 2)");
    out_.append(p_, 2);
    pos_ = 2;
    while (true) {
      if (pos_ >= n_) fail("the pickle ends without a STOP opcode");
      op_ = pos_;
      auto code = static_cast<uint8_t>(p_[pos_++]);
      if (code == '.') {
        if (stack_.size() != 1 || !marks_.empty()) fail("STOP with " + std::to_string(stack_.size()) + " values on the stack");
        out_.push_back('.');
        break;
      }
      step(code);
    }
    return finish();
  }

 private:
  const char* p_;
  size_t n_;
  size_t pos_ = 0;
  size_t op_ = 0;
  std::string out_;
  std::vector<Item> stack_;
  std::vector<std::pair<size_t, size_t>> marks_;  // stack size, output offset of the MARK
  std::vector<Item> memo_;
  std::vector<Insertion> insertions_;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("malformed pickle at byte " + std::to_string(op_) + ": " + what);
  }

  const char* take(size_t k) {
    if (k > n_ - pos_) fail("the pickle ends inside an opcode");
    const char* q = p_ + pos_;
    pos_ += k;
    return q;
  }
  template <typename T>
  T read() {
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  std::string line() {
    size_t end = pos_;
    while (end < n_ && end - pos_ <= kMaxNameLength && p_[end] != '\n') ++end;
    if (end >= n_ || p_[end] != '\n') fail("a GLOBAL name is not terminated by a newline within " + std::to_string(kMaxNameLength) + " bytes");
    std::string s(p_ + pos_, end - pos_);
    for (char c : s)
      if (!(c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        fail("a GLOBAL name holds a character that is not part of a Python identifier");
    pos_ = end + 1;
    return s;
  }

  void need(size_t k) const {
    if (stack_.size() < k) fail("an opcode needs " + std::to_string(k) + " values but the stack holds " + std::to_string(stack_.size()));
  }
  Item pop() {
    Item it = std::move(stack_.back());
    stack_.pop_back();
    return it;
  }
  void push(Kind k, size_t start, int depth = 0) {
    if (depth > kMaxDepth) fail("values nested deeper than " + std::to_string(kMaxDepth) + " levels");
    Item it;
    it.kind = k;
    it.start = start;
    it.depth = depth;
    stack_.push_back(std::move(it));
  }
  void copy_op() { out_.append(p_ + op_, pos_ - op_); }
  void insert(size_t at, std::string bytes) { insertions_.push_back({at, insertions_.size(), std::move(bytes)}); }
  static std::string unicode(const std::string& s) {
    std::string b = "X";
    auto len = static_cast<uint32_t>(s.size());
    b.append(reinterpret_cast<const char*>(&len), 4);
    return b + s;
  }
  // Pops the values above the innermost mark; returns the mark's output offset.
  size_t pop_mark(std::vector<Item>& items) {
    if (marks_.empty()) fail("an opcode needs a MARK but there is none");
    auto [at, offset] = marks_.back();
    marks_.pop_back();
    items.assign(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(at)), std::make_move_iterator(stack_.end()));
    stack_.resize(at);
    return offset;
  }
  static int depth_of(const std::vector<Item>& items) {
    int d = 0;
    for (const auto& i : items) d = std::max(d, i.depth);
    return d + 1;
  }
  void memo_put(size_t id) {
    need(1);
    if (id > memo_.size()) fail("memo id " + std::to_string(id) + " skips ahead of the " + std::to_string(memo_.size()) + " stored values");
    if (id == memo_.size()) memo_.push_back(stack_.back());
    else memo_[id] = stack_.back();
  }
  void memo_get(size_t id, size_t here) {
    if (id >= memo_.size()) fail("memo id " + std::to_string(id) + " was never stored");
    Item it = memo_[id];
    it.start = here;
    stack_.push_back(std::move(it));
  }

  void step(uint8_t code) {
    const size_t here = out_.size();
    switch (code) {
      case ']': copy_op(); push(Kind::List, here); break;
      case ')': copy_op(); push(Kind::Tuple, here); break;
      case '}': copy_op(); push(Kind::Dict, here); break;
      case 'N': case 0x88: case 0x89: copy_op(); push(Kind::Other, here); break;
      case 'K': take(1); copy_op(); push(Kind::Int, here); break;
      case 'M': take(2); copy_op(); push(Kind::Int, here); break;
      case 'J': take(4); copy_op(); push(Kind::Int, here); break;
      case 'G': take(8); copy_op(); push(Kind::Other, here); break;
      case 0x8a: {  // LONG1: libtorch reads only the 8-byte form; widen shorter ones (sign-extended).
        auto len = read<uint8_t>();
        if (len > 8) fail("an integer of " + std::to_string(len) + " bytes does not fit 64 bits");
        const char* b = take(len);
        char wide[8];
        char fillByte = (len > 0 && (static_cast<uint8_t>(b[len - 1]) & 0x80)) ? '\xff' : '\0';
        std::memset(wide, fillByte, 8);
        std::memcpy(wide, b, len);
        out_.push_back(static_cast<char>(0x8a));
        out_.push_back(8);
        out_.append(wide, 8);
        push(Kind::Int, here);
      } break;
      case 'X': {
        auto len = read<uint32_t>();
        take(len);
        copy_op();
        push(Kind::Str, here);
      } break;
      case 'q': memo_put(read<uint8_t>()); copy_op(); break;
      case 'r': memo_put(read<uint32_t>()); copy_op(); break;
      case 'h': { auto id = read<uint8_t>(); copy_op(); memo_get(id, here); } break;
      case 'j': { auto id = read<uint32_t>(); copy_op(); memo_get(id, here); } break;
      case '(': copy_op(); marks_.emplace_back(stack_.size(), here); break;
      case 't': {
        copy_op();
        std::vector<Item> items;
        push_tuple(items, pop_mark(items));
      } break;
      case 0x85: case 0x86: case 0x87: {
        size_t k = code - 0x84;
        need(k);
        copy_op();
        std::vector<Item> items(std::make_move_iterator(stack_.end() - static_cast<std::ptrdiff_t>(k)), std::make_move_iterator(stack_.end()));
        stack_.resize(stack_.size() - k);
        push_tuple(items, items.front().start);
      } break;
      case 'l': {
        copy_op();
        std::vector<Item> items;
        size_t start = pop_mark(items);
        push(Kind::List, start, depth_of(items));
      } break;
      case 'd': {
        copy_op();
        std::vector<Item> items;
        size_t start = pop_mark(items);
        if (items.size() % 2) fail("DICT with an odd number of keys and values");
        push(Kind::Dict, start, depth_of(items));
      } break;
      case 'e': case 'u': {
        copy_op();
        if (marks_.empty() || marks_.back().first == 0) fail("APPENDS/SETITEMS without a container below its MARK");
        Kind want = code == 'e' ? Kind::List : Kind::Dict;
        if (stack_[marks_.back().first - 1].kind != want) fail(code == 'e' ? "APPENDS on a value that is not a list" : "SETITEMS on a value that is not a dict");
        std::vector<Item> items;
        pop_mark(items);
        if (code == 'u' && items.size() % 2) fail("SETITEMS with an odd number of keys and values");
        grow(stack_.back(), depth_of(items));
      } break;
      case 'a': {  // APPEND: libtorch has only APPENDS; put a MARK before the element.
        need(2);
        if (stack_[stack_.size() - 2].kind != Kind::List) fail("APPEND on a value that is not a list");
        insert(stack_.back().start, "(");
        out_.push_back('e');
        Item x = pop();
        grow(stack_.back(), x.depth + 1);
      } break;
      case 's': {
        need(3);
        if (stack_[stack_.size() - 3].kind != Kind::Dict) fail("SETITEM on a value that is not a dict");
        // libtorch 1.13 reads only SETITEMS: put a MARK before the key.
        insert(stack_[stack_.size() - 2].start, "(");
        out_.push_back('u');
        Item v = pop();
        Item k = pop();
        grow(stack_.back(), std::max(v.depth, k.depth) + 1);
      } break;
      case 'c': global(here); break;
      case 0x81: {  // NEWOBJ: libtorch drops the argument tuple and keeps the class for BUILD.
        need(2);
        if (stack_[stack_.size() - 2].kind != Kind::Global || stack_[stack_.size() - 2].global != Global::Class)
          fail("NEWOBJ on a value that is not a class");
        copy_op();
        pop();
      } break;
      case 'R': reduce(); break;
      case 'b': build(); break;
      case 'Q': {
        need(1);
        const Item& a = stack_.back();
        if (a.kind != Kind::Tuple || a.elems.size() < 5 || a.elems[0] != Kind::Str || a.elems[1] != Kind::StorageType ||
            a.elems[2] != Kind::Str || a.elems[3] != Kind::Str || a.elems[4] != Kind::Int)
          fail("BINPERSID without a ('storage', type, key, location, size) tuple");
        copy_op();
        size_t start = pop().start;
        push(Kind::Tensor, start);
      } break;
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", code);
        fail(std::string("opcode ") + hex + " is not one libtorch's unpickler reads");
      }
    }
  }

  void grow(Item& container, int depth) {
    container.depth = std::max(container.depth, depth);
    if (container.depth > kMaxDepth) fail("values nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }

  void push_tuple(const std::vector<Item>& items, size_t start) {
    push(Kind::Tuple, start, depth_of(items));
    auto& t = stack_.back();
    for (size_t i = 0; i < items.size() && i < kMaxTupleKinds; ++i) t.elems.push_back(items[i].kind);
  }

  void global(size_t here) {
    std::string module = line();
    std::string name = line();
    Item it;
    it.start = here;
    it.kind = Kind::Global;
    if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
      it.global = Global::RebuildTensor;
    } else if (module == "collections" && name == "OrderedDict") {
      it.global = Global::OrderedDict;
    } else if (module == "torch" && name.size() > 7 && name.compare(name.size() - 7, 7, "Storage") == 0) {
      it.kind = Kind::StorageType;  // libtorch pushes the scalar type; it names an unknown one itself
    } else if (module == "torch" && name == "device") {
      it.global = Global::Device;
    } else if (module == "torch" || module.rfind("torch.", 0) == 0 || module == "__main__") {
      fail("the pickle refers to " + module + "." + name + ", which libtorch's unpickler cannot rebuild" +
           (name.find("rebuild") != std::string::npos ? " (quantized, sparse or subclassed tensors are not supported)" : ""));
    } else {
      it.global = Global::Class;  // any other Python class: an opaque object (see rn_checkpoint.cpp)
    }
    copy_op();
    stack_.push_back(std::move(it));
  }

  void reduce() {
    need(2);
    const Item& f = stack_[stack_.size() - 2];
    if (f.kind != Kind::Global) fail("REDUCE on a value that is not a class or function");
    Global g = f.global;
    size_t fstart = f.start;
    Item arg = pop();
    pop();
    switch (g) {
      case Global::RebuildTensor:
        if (arg.kind != Kind::Tuple || arg.elems.size() < 6 || arg.elems[0] != Kind::Tensor || arg.elems[1] != Kind::Int ||
            arg.elems[2] != Kind::Tuple || arg.elems[3] != Kind::Tuple)
          fail("_rebuild_tensor_v2 without a (storage, offset, size, stride, ...) tuple");
        out_.push_back('R');
        push(Kind::Tensor, fstart);
        break;
      case Global::OrderedDict:
        // libtorch makes None of it. Build {marker: None} instead: a fresh dict, a MARK and a key before
        // the class, REDUCE (giving None), SETITEMS.
        if (arg.kind != Kind::Tuple || !arg.elems.empty()) fail("OrderedDict built from arguments (only an empty OrderedDict filled by SETITEMS is read)");
        insert(fstart, "}(" + unicode(kOrderedDictMarker));
        out_.append("Ru");
        push(Kind::Dict, fstart);
        break;
      case Global::Device:
        if (arg.kind != Kind::Tuple || arg.elems.empty() || arg.elems[0] != Kind::Str) fail("torch.device without a name");
        out_.push_back('R');
        push(Kind::Other, fstart);
        break;
      case Global::Class:
        out_.push_back('R');
        push(Kind::Object, fstart, arg.depth + 1);
        break;
      case Global::None:
        fail("REDUCE on a value that is not a class or function");
    }
  }

  void build() {
    need(2);
    Item& target = stack_[stack_.size() - 2];
    if (target.kind == Kind::Global && target.global == Global::Class) {
      copy_op();
      Item state = pop();
      Item cls = pop();
      push(Kind::Object, cls.start, state.depth + 1);
    } else if (target.kind == Kind::Dict) {
      // An OrderedDict's attributes (state_dict's _metadata): store them under a key libtorch can set.
      insert(stack_.back().start, "(" + unicode(kBuildStateKey));
      out_.push_back('u');
      Item state = pop();
      grow(stack_.back(), state.depth + 1);
    } else if (target.kind == Kind::Object || target.kind == Kind::Other) {
      // State for an object libtorch already built (e.g. a numpy dtype): keep both as
      // {key: (object, state)}, which the caller shows as an opaque value.
      insert(target.start, "}(" + unicode(kBuildStateKey));
      out_.append("\x86u");
      Item state = pop();
      Item obj = pop();
      push(Kind::Dict, obj.start, std::max(state.depth, obj.depth) + 2);
    } else {
      fail("BUILD on a value that takes no state");
    }
  }

  std::string finish() {
    if (insertions_.empty()) return std::move(out_);
    std::stable_sort(insertions_.begin(), insertions_.end(), [](const Insertion& a, const Insertion& b) {
      return a.at != b.at ? a.at < b.at : a.seq > b.seq;  // at one offset, the later (outer) insertion first
    });
    std::string result;
    size_t extra = 0;
    for (const auto& i : insertions_) extra += i.bytes.size();
    result.reserve(out_.size() + extra);
    size_t from = 0;
    for (const auto& i : insertions_) {
      result.append(out_, from, i.at - from);
      result.append(i.bytes);
      from = i.at;
    }
    result.append(out_, from, std::string::npos);
    return result;
  }
};
}  // namespace

std::string scan_pickle(const char* data, size_t n) { return Scanner(data, n).run(); }
}  // namespace rn
