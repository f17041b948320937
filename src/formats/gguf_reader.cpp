// GGUF parsing. Every read goes through Cursor, which checks the bytes are there first, so a
// truncated or lying file produces a Status naming the file and the field, never a bad read.
#include <algorithm>
#include <cstring>
#include <limits>

#include "formats/gguf.h"

namespace pm {
namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kMaxStringBytes = 1ull << 30;
constexpr int kMaxDims = 4;
constexpr int kMaxArrayNesting = 8;

std::string u64s(uint64_t v) { return std::to_string(v); }

}  // namespace

// Reads a GGUF byte image. Friend of GgufFile.
class GgufParser {
 public:
  GgufParser(const uint8_t* data, size_t size, GgufFile& out) : p_(data), size_(size), out_(out) {}

  Status parse() {
    uint32_t magic = 0;
    PM_RETURN_IF_ERROR(read(&magic, "magic"));
    if (magic != kGgufMagic) {
      char m[5] = {};
      std::memcpy(m, &magic, 4);
      for (char& c : m) if (c != 0 && (c < 32 || c > 126)) c = '?';
      return Status::corrupt("not a GGUF file (magic \"" + std::string(m, strnlen(m, 4)) +
                             "\", expected \"GGUF\")");
    }
    PM_RETURN_IF_ERROR(read(&out_.version_, "version"));
    if (out_.version_ == 1) return Status::unsupported("GGUF version 1 is not supported (only 2 and 3)");
    if (out_.version_ < 2 || out_.version_ > 3)
      return Status::unsupported("GGUF version " + std::to_string(out_.version_) + " is not supported (only 2 and 3)");
    uint64_t n_tensors = 0, n_kv = 0;
    PM_RETURN_IF_ERROR(read(&n_tensors, "tensor count"));
    PM_RETURN_IF_ERROR(read(&n_kv, "metadata count"));
    // Each kv needs >= 12 bytes, each tensor info >= 24: reject absurd counts before allocating.
    if (n_kv > remaining() / 12)
      return Status::corrupt("metadata count " + u64s(n_kv) + " cannot fit in " + u64s(size_) + " bytes");
    if (n_tensors > remaining() / 24)
      return Status::corrupt("tensor count " + u64s(n_tensors) + " cannot fit in " + u64s(size_) + " bytes");

    out_.kv_.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; ++i) {
      std::string key;
      PM_RETURN_IF_ERROR(read_string(&key, "metadata key #" + u64s(i)));
      uint32_t type = 0;
      PM_RETURN_IF_ERROR(read(&type, "type of " + key));
      GgufValue value;
      PM_RETURN_IF_ERROR(read_value(static_cast<GgufType>(type), &value, key, 0));
      if (out_.kv_index_.count(key) != 0) return Status::corrupt("duplicate metadata key " + key);
      out_.kv_index_.emplace(key, out_.kv_.size());
      out_.kv_.emplace_back(std::move(key), std::move(value));
    }

    if (const GgufValue* a = out_.find("general.alignment")) {
      if (!a->is_integer() || a->u64 == 0 || (a->u64 & (a->u64 - 1)) != 0 || a->u64 > 65536)
        return Status::corrupt("general.alignment must be a power of two <= 65536, got " + a->to_string());
      out_.alignment_ = a->u64;
    }

    out_.tensors_.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) {
      GgufTensorInfo t;
      PM_RETURN_IF_ERROR(read_tensor_info(&t, i));
      if (out_.tensor_index_.count(t.name) != 0) return Status::corrupt("duplicate tensor " + t.name);
      out_.tensor_index_.emplace(t.name, out_.tensors_.size());
      out_.tensors_.push_back(std::move(t));
    }

    // Data section starts at the next multiple of the alignment.
    const uint64_t data_start = (pos_ + out_.alignment_ - 1) / out_.alignment_ * out_.alignment_;
    if (n_tensors > 0 && data_start > size_)
      return Status::corrupt("data section starts at " + u64s(data_start) + ", past end of file (" + u64s(size_) + " bytes)");
    for (GgufTensorInfo& t : out_.tensors_) {
      const std::string where = "tensor " + t.name;
      if (t.offset % out_.alignment_ != 0)
        return Status::corrupt(where + ": offset " + u64s(t.offset) + " is not a multiple of the alignment " + u64s(out_.alignment_));
      const uint64_t avail = size_ - data_start;
      if (t.offset > avail || t.size_bytes > avail - t.offset)
        return Status::corrupt(where + ": offset " + u64s(data_start + t.offset) + " + size " + u64s(t.size_bytes) +
                               " runs past end of file (" + u64s(size_) + " bytes)");
      t.data = p_ + data_start + t.offset;
    }
    return Status::ok();
  }

 private:
  size_t remaining() const { return size_ - pos_; }

  template <typename T>
  Status read(T* v, const std::string& what) {
    if (remaining() < sizeof(T))
      return Status::corrupt("truncated: " + what + " at byte " + u64s(pos_) + " needs " +
                             u64s(sizeof(T)) + " bytes, file has " + u64s(size_));
    std::memcpy(v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::ok();
  }

  Status read_string(std::string* s, const std::string& what) {
    uint64_t n = 0;
    PM_RETURN_IF_ERROR(read(&n, "length of " + what));
    if (n > kMaxStringBytes || n > remaining())
      return Status::corrupt(what + ": string length " + u64s(n) + " at byte " + u64s(pos_) + " runs past end of file (" + u64s(size_) + " bytes)");
    s->assign(reinterpret_cast<const char*>(p_ + pos_), n);
    pos_ += n;
    return Status::ok();
  }

  static size_t scalar_size(GgufType t) {
    switch (t) {
      case GgufType::kUint8: case GgufType::kInt8: case GgufType::kBool: return 1;
      case GgufType::kUint16: case GgufType::kInt16: return 2;
      case GgufType::kUint32: case GgufType::kInt32: case GgufType::kFloat32: return 4;
      case GgufType::kUint64: case GgufType::kInt64: case GgufType::kFloat64: return 8;
      default: return 0;
    }
  }

  Status read_scalar(GgufType t, GgufValue* v, const std::string& key) {
    v->type = t;
    switch (t) {
      case GgufType::kUint8: { uint8_t x; PM_RETURN_IF_ERROR(read(&x, key)); v->u64 = x; v->i64 = x; return Status::ok(); }
      case GgufType::kInt8: { int8_t x; PM_RETURN_IF_ERROR(read(&x, key)); v->i64 = x; v->u64 = uint64_t(int64_t(x)); return Status::ok(); }
      case GgufType::kUint16: { uint16_t x; PM_RETURN_IF_ERROR(read(&x, key)); v->u64 = x; v->i64 = x; return Status::ok(); }
      case GgufType::kInt16: { int16_t x; PM_RETURN_IF_ERROR(read(&x, key)); v->i64 = x; v->u64 = uint64_t(int64_t(x)); return Status::ok(); }
      case GgufType::kUint32: { uint32_t x; PM_RETURN_IF_ERROR(read(&x, key)); v->u64 = x; v->i64 = x; return Status::ok(); }
      case GgufType::kInt32: { int32_t x; PM_RETURN_IF_ERROR(read(&x, key)); v->i64 = x; v->u64 = uint64_t(int64_t(x)); return Status::ok(); }
      case GgufType::kUint64: { uint64_t x; PM_RETURN_IF_ERROR(read(&x, key)); v->u64 = x; v->i64 = int64_t(x); return Status::ok(); }
      case GgufType::kInt64: { int64_t x; PM_RETURN_IF_ERROR(read(&x, key)); v->i64 = x; v->u64 = uint64_t(x); return Status::ok(); }
      case GgufType::kFloat32: { float x; PM_RETURN_IF_ERROR(read(&x, key)); v->f64 = x; return Status::ok(); }
      case GgufType::kFloat64: { double x; PM_RETURN_IF_ERROR(read(&x, key)); v->f64 = x; return Status::ok(); }
      case GgufType::kBool: {
        uint8_t x; PM_RETURN_IF_ERROR(read(&x, key));
        if (x > 1) return Status::corrupt(key + ": bool value " + std::to_string(x) + " is not 0 or 1");
        v->u64 = x; v->i64 = x; return Status::ok();
      }
      case GgufType::kString: return read_string(&v->str, key);
      default: return Status::corrupt(key + ": unknown value type " + std::to_string(uint32_t(t)));
    }
  }

  Status read_value(GgufType t, GgufValue* v, const std::string& key, int depth) {
    if (t != GgufType::kArray) return read_scalar(t, v, key);
    if (depth >= kMaxArrayNesting) return Status::corrupt(key + ": arrays nested deeper than " + std::to_string(kMaxArrayNesting));
    v->type = GgufType::kArray;
    uint32_t et = 0;
    uint64_t n = 0;
    PM_RETURN_IF_ERROR(read(&et, "element type of " + key));
    PM_RETURN_IF_ERROR(read(&n, "length of " + key));
    v->elem_type = static_cast<GgufType>(et);
    const size_t es = scalar_size(v->elem_type);
    // Minimum bytes per element: scalar size, 8 for a string length, 12 for an array header.
    const size_t min_bytes = es != 0 ? es : v->elem_type == GgufType::kString ? 8 : v->elem_type == GgufType::kArray ? 12 : 0;
    if (min_bytes == 0) return Status::corrupt(key + ": unknown array element type " + std::to_string(et));
    if (n > remaining() / min_bytes)
      return Status::corrupt(key + ": array of " + u64s(n) + " elements runs past end of file (" + u64s(size_) + " bytes)");
    if (v->elem_type == GgufType::kString) {
      v->strings.resize(n);
      for (uint64_t i = 0; i < n; ++i) PM_RETURN_IF_ERROR(read_string(&v->strings[i], key + "[" + u64s(i) + "]"));
    } else if (v->elem_type == GgufType::kArray) {
      v->arrays.resize(n);
      for (uint64_t i = 0; i < n; ++i)
        PM_RETURN_IF_ERROR(read_value(GgufType::kArray, &v->arrays[i], key + "[" + u64s(i) + "]", depth + 1));
    } else {
      const bool is_float = v->elem_type == GgufType::kFloat32 || v->elem_type == GgufType::kFloat64;
      if (is_float) v->numbers.resize(n); else v->ints.resize(n);
      GgufValue e;
      for (uint64_t i = 0; i < n; ++i) {
        PM_RETURN_IF_ERROR(read_scalar(v->elem_type, &e, key));
        if (is_float) v->numbers[i] = e.f64; else v->ints[i] = e.i64;
      }
    }
    return Status::ok();
  }

  Status read_tensor_info(GgufTensorInfo* t, uint64_t index) {
    PM_RETURN_IF_ERROR(read_string(&t->name, "name of tensor #" + u64s(index)));
    const std::string where = "tensor " + t->name;
    uint32_t n_dims = 0;
    PM_RETURN_IF_ERROR(read(&n_dims, where + " dimension count"));
    if (n_dims == 0 || n_dims > kMaxDims)
      return Status::corrupt(where + ": " + std::to_string(n_dims) + " dimensions (expected 1 to " + std::to_string(kMaxDims) + ")");
    t->ne.resize(n_dims);
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = 0;
      PM_RETURN_IF_ERROR(read(&ne, where + " dimension " + std::to_string(d)));
      if (ne == 0 || ne > (1ull << 40))
        return Status::corrupt(where + ": dimension " + std::to_string(d) + " is " + u64s(ne) + " (expected 1 to 2^40)");
      if (uint64_t(n_elements) > uint64_t(std::numeric_limits<int64_t>::max()) / ne)
        return Status::corrupt(where + ": element count overflows");
      n_elements *= int64_t(ne);
      t->ne[d] = int64_t(ne);
    }
    t->n_elements = n_elements;
    uint32_t type = 0;
    PM_RETURN_IF_ERROR(read(&type, where + " type"));
    const TypeInfo* info = type_info(type);
    if (info == nullptr) return Status::unsupported(where + ": unknown tensor type id " + std::to_string(type));
    t->type = static_cast<GgmlType>(type);
    if (t->ne[0] % info->block_size != 0)
      return Status::corrupt(where + ": row length " + std::to_string(t->ne[0]) + " is not a multiple of the " +
                             info->name + " block size " + std::to_string(info->block_size));
    const uint64_t blocks = uint64_t(n_elements / info->block_size);
    if (blocks > uint64_t(size_) / info->block_bytes + 1)
      return Status::corrupt(where + ": " + t->shape_string() + " of " + info->name + " is larger than the file (" + u64s(size_) + " bytes)");
    t->size_bytes = blocks * info->block_bytes;
    PM_RETURN_IF_ERROR(read(&t->offset, where + " offset"));
    return Status::ok();
  }

  const uint8_t* p_;
  size_t size_;
  size_t pos_ = 0;
  GgufFile& out_;
};

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::kUint8: return "u8";
    case GgufType::kInt8: return "i8";
    case GgufType::kUint16: return "u16";
    case GgufType::kInt16: return "i16";
    case GgufType::kUint32: return "u32";
    case GgufType::kInt32: return "i32";
    case GgufType::kFloat32: return "f32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "u64";
    case GgufType::kInt64: return "i64";
    case GgufType::kFloat64: return "f64";
  }
  return "unknown";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kUint16: case GgufType::kInt16:
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kUint64: case GgufType::kInt64:
      return true;
    default: return false;
  }
}

size_t GgufValue::array_size() const {
  if (!is_array()) return 0;
  return strings.size() + numbers.size() + ints.size() + arrays.size();
}

std::string GgufValue::to_string(size_t max_items) const {
  auto scalar = [](const GgufValue& v) -> std::string {
    if (v.type == GgufType::kString) return "\"" + v.str + "\"";
    if (v.type == GgufType::kBool) return v.u64 ? "true" : "false";
    if (v.is_float()) { char b[32]; std::snprintf(b, sizeof b, "%g", v.f64); return b; }
    if (v.type == GgufType::kUint64) return std::to_string(v.u64);
    return std::to_string(v.i64);
  };
  if (!is_array()) return scalar(*this);
  std::string s = "[";
  const size_t n = array_size();
  for (size_t i = 0; i < n && i < max_items; ++i) {
    if (i) s += ", ";
    if (!strings.empty()) s += "\"" + strings[i] + "\"";
    else if (!numbers.empty()) { char b[32]; std::snprintf(b, sizeof b, "%g", numbers[i]); s += b; }
    else if (!ints.empty()) s += std::to_string(ints[i]);
    else s += arrays[i].to_string(max_items);
  }
  if (n > max_items) s += ", ... (" + std::to_string(n) + " items)";
  return s + "]";
}

std::string GgufTensorInfo::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapped, MappedFile::open(path));
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->name_ = path;
  f->size_ = mapped->size_bytes();
  GgufParser parser(mapped->data(), mapped->size_bytes(), *f);
  Status s = parser.parse();
  if (!s.is_ok()) return s.with_context(path);
  f->file_ = std::move(mapped);
  return f;
}

Result<std::unique_ptr<GgufFile>> GgufFile::parse(const uint8_t* data, size_t size_bytes, const std::string& name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->name_ = name;
  f->size_ = size_bytes;
  GgufParser parser(data, size_bytes, *f);
  Status s = parser.parse();
  if (!s.is_ok()) return s.with_context(name);
  return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
Status wrong_type(const std::string& file, std::string_view key, const GgufValue& v, const char* expected) {
  std::string got = gguf_type_name(v.type);
  if (v.is_array()) got += std::string(" of ") + gguf_type_name(v.elem_type);
  return Status::corrupt(file + ": metadata " + std::string(key) + " is " + got + ", expected " + expected);
}
Status missing(const std::string& file, std::string_view key) {
  return Status::not_found(file + ": metadata key " + std::string(key) + " is missing");
}
}  // namespace

Result<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return missing(name_, key);
  if (v->type != GgufType::kString) return wrong_type(name_, key, *v, "string");
  return v->str;
}

Result<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return missing(name_, key);
  if (!v->is_integer()) return wrong_type(name_, key, *v, "integer");
  if (v->type == GgufType::kUint64 && v->u64 > uint64_t(std::numeric_limits<int64_t>::max()))
    return Status::corrupt(name_ + ": metadata " + std::string(key) + " value " + std::to_string(v->u64) + " is too large");
  return v->i64;
}

Result<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return missing(name_, key);
  if (v->is_float()) return v->f64;
  if (v->is_integer()) return double(v->i64);
  return wrong_type(name_, key, *v, "number");
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return missing(name_, key);
  if (v->type != GgufType::kBool) return wrong_type(name_, key, *v, "bool");
  return v->u64 != 0;
}

Result<std::string> GgufFile::get_string_or(std::string_view key, std::string fallback) const {
  return find(key) == nullptr ? Result<std::string>(std::move(fallback)) : get_string(key);
}
Result<int64_t> GgufFile::get_int_or(std::string_view key, int64_t fallback) const {
  return find(key) == nullptr ? Result<int64_t>(fallback) : get_int(key);
}
Result<double> GgufFile::get_float_or(std::string_view key, double fallback) const {
  return find(key) == nullptr ? Result<double>(fallback) : get_float(key);
}
Result<bool> GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  return find(key) == nullptr ? Result<bool>(fallback) : get_bool(key);
}

Result<const std::vector<std::string>*> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return missing(name_, key);
  if (!v->is_array() || v->elem_type != GgufType::kString) return wrong_type(name_, key, *v, "array of string");
  return &v->strings;
}

Result<std::vector<double>> GgufFile::get_float_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return missing(name_, key);
  if (!v->is_array()) return wrong_type(name_, key, *v, "array of numbers");
  if (!v->numbers.empty() || v->array_size() == 0) return v->numbers;
  if (!v->ints.empty()) return std::vector<double>(v->ints.begin(), v->ints.end());
  return wrong_type(name_, key, *v, "array of numbers");
}

Result<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return missing(name_, key);
  if (!v->is_array() || (!v->ints.empty() ? false : v->array_size() != 0)) return wrong_type(name_, key, *v, "array of integers");
  return v->ints;
}

}  // namespace pm
