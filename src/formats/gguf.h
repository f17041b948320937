// GGUF: the model file format of llama.cpp and friends (versions 2 and 3).
//
// Layout (little-endian):
//   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv x  { string key | u32 value_type | value }
//   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
//   padding to `general.alignment` (default 32) | tensor data (each offset relative to here,
//   each aligned)
// A string is u64 length + bytes (no terminator). An array is u32 elem_type + u64 count + elems.
//
// GgufFile maps the file read-only; tensor data pointers point into the mapping (no copy).
// Every count, size and offset is checked against the file size before use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "kernels/ggml_types.h"

namespace pm {

enum class GgufType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};
const char* gguf_type_name(GgufType t);

// One metadata value. Scalars keep their declared type; integers are readable as any
// integer type they fit, floats as double. Arrays hold elements of one type (possibly arrays).
class GgufValue {
 public:
  GgufType type = GgufType::kUint8;

  // Scalars.
  uint64_t u64 = 0;  // unsigned ints and bool
  int64_t i64 = 0;   // signed ints
  double f64 = 0;    // floats
  std::string str;   // strings

  // Arrays: elem_type and exactly one of the vectors below filled:
  //   strings for string arrays, numbers for numeric/bool arrays (as double; int64 kept in ints
  //   for exactness), arrays for nested arrays.
  GgufType elem_type = GgufType::kUint8;
  std::vector<std::string> strings;
  std::vector<double> numbers;
  std::vector<int64_t> ints;  // integer/bool arrays also here, exact
  std::vector<GgufValue> arrays;

  bool is_array() const { return type == GgufType::kArray; }
  bool is_integer() const;
  bool is_float() const { return type == GgufType::kFloat32 || type == GgufType::kFloat64; }
  size_t array_size() const;
  // Human-readable rendering (arrays abbreviated), for `pocketmind info`.
  std::string to_string(size_t max_items = 8) const;
};

struct GgufTensorInfo {
  std::string name;
  GgmlType type = GgmlType::kF32;
  std::vector<int64_t> ne;     // ggml order: ne[0] is the row length (contiguous)
  uint64_t offset = 0;         // relative to the start of the data section
  uint64_t size_bytes = 0;
  int64_t n_elements = 0;
  const uint8_t* data = nullptr;  // points into the mapping (validated to lie inside it)

  int64_t rows() const { return ne.empty() ? 1 : n_elements / ne[0]; }
  std::string shape_string() const;  // "[896, 151936]"
};

class GgufFile {
 public:
  // Maps and validates the file. Errors name the path and what was wrong.
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
  // Parses from a caller-owned buffer (fuzzing, tests). `name` is used in messages.
  static Result<std::unique_ptr<GgufFile>> parse(const uint8_t* data, size_t size_bytes,
                                                 const std::string& name);

  uint32_t version() const { return version_; }
  const std::string& path() const { return name_; }
  // The mapping the tensor data lies in (null when parsed from a caller buffer).
  const MappedFile* mapped_file() const { return file_.get(); }
  size_t file_size_bytes() const { return size_; }
  uint64_t alignment() const { return alignment_; }

  // Metadata, in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;

  // Typed getters: not_found when absent, invalid/corrupt with the key named when the type is
  // wrong. The *_or variants return the fallback when absent (still an error on wrong type).
  Result<std::string> get_string(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key) const;     // any integer type
  Result<double> get_float(std::string_view key) const;   // float or integer
  Result<bool> get_bool(std::string_view key) const;
  Result<std::string> get_string_or(std::string_view key, std::string fallback) const;
  Result<int64_t> get_int_or(std::string_view key, int64_t fallback) const;
  Result<double> get_float_or(std::string_view key, double fallback) const;
  Result<bool> get_bool_or(std::string_view key, bool fallback) const;
  // Array accessors (not_found when absent, error when the element type does not fit).
  Result<const std::vector<std::string>*> get_string_array(std::string_view key) const;
  Result<std::vector<double>> get_float_array(std::string_view key) const;
  Result<std::vector<int64_t>> get_int_array(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

 private:
  GgufFile() = default;
  std::unique_ptr<MappedFile> file_;  // null when parsed from a caller buffer
  std::string name_;
  size_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;

  friend class GgufParser;
};

// Writes GGUF v3 files: metadata and tensors are added, then `write` lays them out with
// alignment. Used by tests (corrupted files, tiny models), `synth` and the quantizer.
class GgufWriter {
 public:
  // Power of two; recorded as general.alignment when not the default 32.
  void set_alignment(uint64_t alignment) {
    alignment_ = alignment;
    if (alignment != 32) set_u32("general.alignment", uint32_t(alignment));
  }
  void set(const std::string& key, GgufValue value);
  void set_string(const std::string& key, std::string v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_string_array(const std::string& key, std::vector<std::string> v);
  void set_f32_array(const std::string& key, const std::vector<float>& v);
  void set_i32_array(const std::string& key, const std::vector<int32_t>& v);
  // Copies `data` (row_size_bytes(type, ne[0]) * rows bytes) into the writer.
  Status add_tensor(const std::string& name, GgmlType type, std::vector<int64_t> ne,
                    const void* data, size_t size_bytes);
  // Serializes to bytes (for tests) or to a file (written to path.tmp then renamed).
  std::vector<uint8_t> to_bytes() const;
  Status write(const std::string& path) const;

  struct TensorHeader {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    size_t size_bytes;
  };

 private:
  std::vector<TensorHeader> tensor_headers() const;
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> data;
  };
  uint64_t alignment_ = 32;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace pm
