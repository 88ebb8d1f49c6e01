// Generic op calls through the ATen dispatcher by schema name. The caller looks an operator up
// once (rn_op_find) and keeps the handle; each call converts tagged arguments into IValues
// guided by the schema, fills omitted trailing arguments from the schema's defaults, and runs
// the boxed kernel (autograd included).
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/jit_type.h>
#include "rn_common.h"

namespace {
struct OpEntry {
  c10::OperatorHandle handle;
  std::string name;    // "aten::add.Tensor"
  std::string schema;  // full schema text, for messages
};

thread_local std::vector<c10::IValue> g_pending;  // results that did not fit the caller's buffer

std::string kind_name(const c10::TypePtr& t) { return t->str(); }

[[noreturn]] void bad_arg(const OpEntry& op, const c10::Argument& a, const char* got) {
  throw std::invalid_argument(op.name + ": argument '" + a.name() + "' expects " + kind_name(a.type()) +
                              " but got " + got);
}

const char* tag_name(int32_t tag) {
  switch (tag) {
    case RN_NONE: return "None";
    case RN_TENSOR: return "Tensor";
    case RN_INT: return "int";
    case RN_DOUBLE: return "float";
    case RN_BOOL: return "bool";
    case RN_INT_LIST: return "int[]";
    case RN_DOUBLE_LIST: return "float[]";
    case RN_TENSOR_LIST: return "Tensor[]";
    case RN_OPT_TENSOR_LIST: return "Tensor?[]";
    case RN_STRING: return "str";
    case RN_DEVICE: return "Device";
    case RN_GENERATOR: return "Generator";
    case RN_BOOL_LIST: return "bool[]";
    default: return "unknown tag";
  }
}

c10::IValue to_list(const OpEntry& op, const c10::Argument& a, const c10::TypePtr& elem, const rn_value& v) {
  auto ek = elem->kind();
  if (ek == c10::TypeKind::OptionalType) {
    auto inner = elem->expectRef<c10::OptionalType>().getElementType();
    if (inner->kind() != c10::TypeKind::TensorType) bad_arg(op, a, tag_name(v.tag));
    if (v.tag != RN_OPT_TENSOR_LIST && v.tag != RN_TENSOR_LIST) bad_arg(op, a, tag_name(v.tag));
    c10::List<c10::optional<at::Tensor>> list;
    auto** hs = static_cast<void**>(v.p);
    for (int64_t k = 0; k < v.n; ++k)
      list.push_back(hs[k] ? c10::optional<at::Tensor>(rn::T(hs[k])) : c10::nullopt);
    return list;
  }
  switch (ek) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      if (v.tag == RN_INT) {  // a single int broadcast to a fixed-size list, as PyTorch does
        auto n = a.N() ? *a.N() : 1;
        return std::vector<int64_t>(static_cast<size_t>(n), v.i);
      }
      if (v.tag != RN_INT_LIST) bad_arg(op, a, tag_name(v.tag));
      auto* p = static_cast<const int64_t*>(v.p);
      return std::vector<int64_t>(p, p + v.n);
    }
    case c10::TypeKind::FloatType: {
      if (v.tag == RN_DOUBLE) return std::vector<double>(a.N() ? *a.N() : 1, v.d);
      if (v.tag != RN_DOUBLE_LIST) bad_arg(op, a, tag_name(v.tag));
      auto* p = static_cast<const double*>(v.p);
      return std::vector<double>(p, p + v.n);
    }
    case c10::TypeKind::BoolType: {
      if (v.tag != RN_BOOL_LIST) bad_arg(op, a, tag_name(v.tag));
      auto* p = static_cast<const uint8_t*>(v.p);
      c10::List<bool> list;
      for (int64_t k = 0; k < v.n; ++k) list.push_back(p[k] != 0);
      return list;
    }
    case c10::TypeKind::TensorType: {
      if (v.tag != RN_TENSOR_LIST) bad_arg(op, a, tag_name(v.tag));
      c10::List<at::Tensor> list;
      auto** hs = static_cast<void**>(v.p);
      for (int64_t k = 0; k < v.n; ++k) list.push_back(rn::T(hs[k]));
      return list;
    }
    default:
      bad_arg(op, a, tag_name(v.tag));
  }
}

c10::IValue to_ivalue(const OpEntry& op, const c10::Argument& a, const rn_value& v) {
  c10::TypePtr type = a.type();
  if (type->kind() == c10::TypeKind::OptionalType) {
    if (v.tag == RN_NONE) return c10::IValue();
    type = type->expectRef<c10::OptionalType>().getElementType();
  }
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      if (v.tag != RN_TENSOR) bad_arg(op, a, tag_name(v.tag));
      return rn::T(v.p);
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
    case c10::TypeKind::ScalarTypeType:
    case c10::TypeKind::LayoutType:
    case c10::TypeKind::MemoryFormatType:
      if (v.tag != RN_INT) bad_arg(op, a, tag_name(v.tag));
      return v.i;
    case c10::TypeKind::FloatType:
      if (v.tag == RN_DOUBLE) return v.d;
      if (v.tag == RN_INT) return static_cast<double>(v.i);
      bad_arg(op, a, tag_name(v.tag));
    case c10::TypeKind::BoolType:
      if (v.tag != RN_BOOL && v.tag != RN_INT) bad_arg(op, a, tag_name(v.tag));
      return v.i != 0;
    case c10::TypeKind::NumberType:  // Scalar
      if (v.tag == RN_INT) return c10::Scalar(v.i);
      if (v.tag == RN_DOUBLE) return c10::Scalar(v.d);
      if (v.tag == RN_BOOL) return c10::Scalar(v.i != 0);
      bad_arg(op, a, tag_name(v.tag));
    case c10::TypeKind::StringType:
      if (v.tag != RN_STRING) bad_arg(op, a, tag_name(v.tag));
      return std::string(static_cast<const char*>(v.p));
    case c10::TypeKind::DeviceObjType:
      if (v.tag != RN_DEVICE) bad_arg(op, a, tag_name(v.tag));
      return c10::Device(static_cast<c10::DeviceType>(v.i), static_cast<c10::DeviceIndex>(v.n));
    case c10::TypeKind::GeneratorType:
      if (v.tag != RN_GENERATOR) bad_arg(op, a, tag_name(v.tag));
      return *static_cast<at::Generator*>(v.p);
    case c10::TypeKind::ListType:
      return to_list(op, a, type->expectRef<c10::ListType>().getElementType(), v);
    default:
      throw std::invalid_argument(op.name + ": argument '" + a.name() + "' has unsupported type " +
                                  kind_name(a.type()));
  }
}

// Flattened size of one result (a tensor list is a header plus its elements).
int64_t result_width(const c10::IValue& v) {
  if (v.isTensorList()) return 1 + static_cast<int64_t>(v.toTensorList().size());
  if (v.isTuple()) {
    int64_t w = 0;
    for (const auto& e : v.toTupleRef().elements()) w += result_width(e);
    return w;
  }
  return 1;
}

void write_result(const c10::IValue& v, rn_value*& out) {
  *out = rn_value{};
  if (v.isTensor()) {
    const auto& t = v.toTensor();
    if (t.defined()) {
      out->tag = RN_TENSOR;
      out->p = rn::new_handle(t);
    } else {
      out->tag = RN_NONE;
    }
    ++out;
  } else if (v.isTensorList()) {
    auto list = v.toTensorList();
    out->tag = RN_TENSOR_LIST;
    out->i = static_cast<int64_t>(list.size());
    ++out;
    for (size_t k = 0; k < list.size(); ++k) write_result(c10::IValue(list.get(k)), out);
  } else if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) write_result(e, out);
  } else if (v.isInt()) {
    out->tag = RN_INT;
    out->i = v.toInt();
    ++out;
  } else if (v.isDouble()) {
    out->tag = RN_DOUBLE;
    out->d = v.toDouble();
    ++out;
  } else if (v.isBool()) {
    out->tag = RN_BOOL;
    out->i = v.toBool() ? 1 : 0;
    ++out;
  } else if (v.isNone()) {
    out->tag = RN_NONE;
    ++out;
  } else {
    throw std::runtime_error(std::string("unsupported result type ") + v.tagKind());
  }
}

// Writes results into `outs` when they fit; otherwise keeps them for rn_op_take_results.
int32_t emit(std::vector<c10::IValue>& stack, rn_value* outs, int32_t cap, int32_t* nouts) {
  int64_t width = 0;
  for (const auto& v : stack) width += result_width(v);
  *nouts = static_cast<int32_t>(width);
  if (width > cap) {
    g_pending = std::move(stack);
    return RN_RESULTS_PENDING;
  }
  rn_value* p = outs;
  for (const auto& v : stack) write_result(v, p);
  return RN_OK;
}
}  // namespace

// Looks an operator up by name ("aten::add") and overload ("Tensor", or "" for the default).
// Returns a handle the caller caches for the life of the process, or null when it does not exist.
RN_API int32_t rn_op_find(const char* name, const char* overload, void** out) {
  RN_GUARD({
    auto h = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!h.has_value()) {
      *out = nullptr;
      return RN_OK;
    }
    auto* e = new OpEntry{*h, std::string(name) + (overload[0] ? std::string(".") + overload : ""),
                          c10::toString(h->schema())};
    *out = e;
  })
}

RN_API const char* rn_op_schema(void* op) { return static_cast<OpEntry*>(op)->schema.c_str(); }

RN_API int32_t rn_op_call(void* op, const rn_value* args, int32_t nargs, rn_value* outs, int32_t cap,
                          int32_t* nouts) {
  try {
    auto& e = *static_cast<OpEntry*>(op);
    const auto& schema = e.handle.schema();
    const auto& formals = schema.arguments();
    if (static_cast<size_t>(nargs) > formals.size())
      throw std::invalid_argument(e.name + ": takes " + std::to_string(formals.size()) + " arguments but " +
                                  std::to_string(nargs) + " were given; schema: " + e.schema);
    std::vector<c10::IValue> stack;
    stack.reserve(formals.size());
    for (size_t k = 0; k < formals.size(); ++k) {
      const auto& a = formals[k];
      if (k < static_cast<size_t>(nargs) && args[k].tag != RN_DEFAULT) {
        stack.push_back(to_ivalue(e, a, args[k]));
      } else if (a.default_value().has_value()) {
        stack.push_back(*a.default_value());
      } else {
        throw std::invalid_argument(e.name + ": missing required argument '" + a.name() + "'; schema: " + e.schema);
      }
    }
    e.handle.callBoxed(&stack);
    return emit(stack, outs, cap, nouts);
  } catch (const c10::Error& ex) {
    rn::set_error(ex.what_without_backtrace());
  } catch (const std::exception& ex) {
    rn::set_error(ex.what());
  } catch (...) {
    rn::set_error("unknown native exception");
  }
  return RN_ERROR;
}

// Fetches results kept by the last rn_op_call on this thread that returned RN_RESULTS_PENDING.
RN_API int32_t rn_op_take_results(rn_value* outs, int32_t cap, int32_t* nouts) {
  RN_GUARD({
    auto stack = std::move(g_pending);
    g_pending.clear();
    if (emit(stack, outs, cap, nouts) != RN_OK) {
      g_pending.clear();
      throw std::invalid_argument("result buffer still too small");
    }
  })
}
