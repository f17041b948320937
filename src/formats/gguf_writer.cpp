// GGUF v3 writer: metadata and tensors laid out exactly as the reader expects.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/mapped_file.h"
#include "formats/gguf.h"

namespace pm {
namespace {

class ByteSink {
 public:
  template <typename T>
  void put(const T& v) {
    const size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &v, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    out.insert(out.end(), s.begin(), s.end());
  }
  void pad_to(uint64_t alignment) {
    while (out.size() % alignment != 0) out.push_back(0);
  }
  std::vector<uint8_t> out;
};

void put_scalar(ByteSink& s, GgufType t, const GgufValue& v, size_t i = SIZE_MAX) {
  // i != SIZE_MAX: element i of v's numeric array.
  const bool elem = i != SIZE_MAX;
  const int64_t iv = elem ? (v.ints.empty() ? int64_t(v.numbers[i]) : v.ints[i]) : v.i64;
  const uint64_t uv = elem ? uint64_t(iv) : v.u64;
  const double fv = elem ? (v.numbers.empty() ? double(v.ints[i]) : v.numbers[i]) : v.f64;
  switch (t) {
    case GgufType::kUint8: s.put<uint8_t>(uint8_t(uv)); break;
    case GgufType::kInt8: s.put<int8_t>(int8_t(iv)); break;
    case GgufType::kUint16: s.put<uint16_t>(uint16_t(uv)); break;
    case GgufType::kInt16: s.put<int16_t>(int16_t(iv)); break;
    case GgufType::kUint32: s.put<uint32_t>(uint32_t(uv)); break;
    case GgufType::kInt32: s.put<int32_t>(int32_t(iv)); break;
    case GgufType::kUint64: s.put<uint64_t>(uv); break;
    case GgufType::kInt64: s.put<int64_t>(iv); break;
    case GgufType::kFloat32: s.put<float>(float(fv)); break;
    case GgufType::kFloat64: s.put<double>(fv); break;
    case GgufType::kBool: s.put<uint8_t>(uv ? 1 : 0); break;
    case GgufType::kString: s.put_string(v.str); break;
    case GgufType::kArray: break;
  }
}

void put_value(ByteSink& s, const GgufValue& v) {
  if (!v.is_array()) {
    put_scalar(s, v.type, v);
    return;
  }
  s.put<uint32_t>(static_cast<uint32_t>(v.elem_type));
  s.put<uint64_t>(v.array_size());
  if (v.elem_type == GgufType::kString) {
    for (const std::string& str : v.strings) s.put_string(str);
  } else if (v.elem_type == GgufType::kArray) {
    for (const GgufValue& a : v.arrays) put_value(s, a);
  } else {
    for (size_t i = 0; i < v.array_size(); ++i) put_scalar(s, v.elem_type, v, i);
  }
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::set_string(const std::string& key, std::string v) {
  GgufValue g; g.type = GgufType::kString; g.str = std::move(v); set(key, std::move(g));
}
void GgufWriter::set_u32(const std::string& key, uint32_t v) {
  GgufValue g; g.type = GgufType::kUint32; g.u64 = v; g.i64 = v; set(key, std::move(g));
}
void GgufWriter::set_i32(const std::string& key, int32_t v) {
  GgufValue g; g.type = GgufType::kInt32; g.i64 = v; g.u64 = uint64_t(int64_t(v)); set(key, std::move(g));
}
void GgufWriter::set_u64(const std::string& key, uint64_t v) {
  GgufValue g; g.type = GgufType::kUint64; g.u64 = v; g.i64 = int64_t(v); set(key, std::move(g));
}
void GgufWriter::set_f32(const std::string& key, float v) {
  GgufValue g; g.type = GgufType::kFloat32; g.f64 = v; set(key, std::move(g));
}
void GgufWriter::set_bool(const std::string& key, bool v) {
  GgufValue g; g.type = GgufType::kBool; g.u64 = v; g.i64 = v; set(key, std::move(g));
}
void GgufWriter::set_string_array(const std::string& key, std::vector<std::string> v) {
  GgufValue g; g.type = GgufType::kArray; g.elem_type = GgufType::kString; g.strings = std::move(v); set(key, std::move(g));
}
void GgufWriter::set_f32_array(const std::string& key, const std::vector<float>& v) {
  GgufValue g; g.type = GgufType::kArray; g.elem_type = GgufType::kFloat32; g.numbers.assign(v.begin(), v.end()); set(key, std::move(g));
}
void GgufWriter::set_i32_array(const std::string& key, const std::vector<int32_t>& v) {
  GgufValue g; g.type = GgufType::kArray; g.elem_type = GgufType::kInt32; g.ints.assign(v.begin(), v.end()); set(key, std::move(g));
}

Status GgufWriter::add_tensor(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                              const void* data, size_t size_bytes) {
  const TypeInfo* info = type_info(type);
  if (info == nullptr) return Status::invalid_argument("tensor " + name + ": unknown type");
  if (ne.empty() || ne.size() > 4) return Status::invalid_argument("tensor " + name + ": needs 1 to 4 dimensions");
  int64_t n = 1;
  for (int64_t d : ne) {
    if (d <= 0) return Status::invalid_argument("tensor " + name + ": non-positive dimension");
    n *= d;
  }
  if (ne[0] % info->block_size != 0)
    return Status::invalid_argument("tensor " + name + ": row length " + std::to_string(ne[0]) +
                                    " is not a multiple of the " + info->name + " block size");
  const size_t expected = size_t(n / info->block_size) * info->block_bytes;
  if (size_bytes != expected)
    return Status::invalid_argument("tensor " + name + ": " + std::to_string(size_bytes) + " bytes given, " +
                                    std::to_string(expected) + " expected");
  for (const Tensor& t : tensors_)
    if (t.name == name) return Status::invalid_argument("tensor " + name + " added twice");
  Tensor t{name, type, std::move(ne), {}};
  t.data.assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + size_bytes);
  tensors_.push_back(std::move(t));
  return Status::ok();
}

// Everything before the tensor data: header, metadata, tensor infos, padding.
static std::vector<uint8_t> header_bytes(const std::vector<std::pair<std::string, GgufValue>>& kv,
                                         const std::vector<GgufWriter::TensorHeader>& tensors,
                                         uint64_t alignment) {
  ByteSink s;
  s.put<uint32_t>(0x46554747);
  s.put<uint32_t>(3);
  s.put<uint64_t>(tensors.size());
  s.put<uint64_t>(kv.size());
  for (const auto& [key, value] : kv) {
    s.put_string(key);
    s.put<uint32_t>(static_cast<uint32_t>(value.type));
    put_value(s, value);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    s.put_string(t.name);
    s.put<uint32_t>(uint32_t(t.ne.size()));
    for (int64_t d : t.ne) s.put<uint64_t>(uint64_t(d));
    s.put<uint32_t>(static_cast<uint32_t>(t.type));
    s.put<uint64_t>(offset);
    offset += (t.size_bytes + alignment - 1) / alignment * alignment;
  }
  s.pad_to(alignment);
  return std::move(s.out);
}

std::vector<GgufWriter::TensorHeader> GgufWriter::tensor_headers() const {
  std::vector<TensorHeader> h;
  for (const Tensor& t : tensors_) h.push_back({t.name, t.type, t.ne, t.data.size()});
  return h;
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> out = header_bytes(kv_, tensor_headers(), alignment_);
  for (const Tensor& t : tensors_) {
    out.insert(out.end(), t.data.begin(), t.data.end());
    while (out.size() % alignment_ != 0) out.push_back(0);
  }
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  // Streams tensor data to the file instead of building one buffer (models are large).
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Status::io_error(tmp + ": cannot create: " + std::strerror(errno));
  const std::vector<uint8_t> header = header_bytes(kv_, tensor_headers(), alignment_);
  bool ok = std::fwrite(header.data(), 1, header.size(), f) == header.size();
  static const uint8_t kZeros[64] = {};
  for (const Tensor& t : tensors_) {
    if (!ok) break;
    ok = std::fwrite(t.data.data(), 1, t.data.size(), f) == t.data.size();
    const size_t pad = (alignment_ - t.data.size() % alignment_) % alignment_;
    for (size_t left = pad; ok && left > 0;) {
      const size_t n = left < sizeof(kZeros) ? left : sizeof(kZeros);
      ok = std::fwrite(kZeros, 1, n, f) == n;
      left -= n;
    }
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::io_error(path + ": write failed");
  }
  return Status::ok();
}

}  // namespace pm
