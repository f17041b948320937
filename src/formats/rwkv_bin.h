// rwkv.cpp's `.bin` model files (RWKV v4, v5.1, v5.2, v6, v7).
//
// Layout (little-endian, no padding anywhere):
//   header: u32 magic 0x67676d66 ("fmgg" on disk, 'ggmf' as a number) | u32 version (100 or 101)
//           | u32 n_vocab | u32 n_embed | u32 n_layer | u32 data_type (of most weights)
//   then tensors until end of file, each:
//           u32 dim_count (1..3) | u32 key_length | u32 data_type | u32 ne[dim_count]
//           | key bytes (UTF-8, no terminator) | data (row_size(type, ne[0]) * ne[1] * ne[2] bytes)
//   ne is in ggml order: ne[0] is the contiguous row length (PyTorch's shape reversed).
//
// Data-type codes are rwkv.cpp's own, not ggml's:
//   0 FP32, 1 FP16, 2 Q4_0, 3 Q4_1, 4-6 removed (Q4_1_O, Q4_2, Q4_3), 7 Q5_0, 8 Q5_1, 9 Q8_0,
//   10 Q8_1, 11 Q2_K, 12 Q3_K, 13 Q4_K, 14 Q5_K, 15 Q6_K, 16 Q8_K.
// Version 100 files hold quantized blocks in a layout ggml dropped in 2023; only FP32 / FP16
// tensors of version 100 files are readable. Version 101 is current.
//
// The converter stores some tensors transformed (these are the values in the file):
//   v4:   att.time_decay = -exp(decay)
//   v5.1: att.time_decay = exp(-exp(decay)) per head, att.time_first = exp(first) per head
//   v5.2: att.time_decay = exp(-exp(decay)) per channel, att.time_faaaa as trained
//   v6:   as trained; att.time_maa_w1, att.time_decay_w1/w2 transposed to [n_in -> n_out],
//         att.time_maa_w2 [5][n_embed][lora] (five [lora -> n_embed] matrices)
//   v7:   att.x_r, x_w, x_k, x_v, x_a, x_g concatenated into att.x_rwkvag [6][n_embed];
//         LoRA matrices w1/w2, a1/a2, v1/v2, g1/g2 transposed to [n_in -> n_out]
//
// RwkvBinFile maps the file read-only; tensor data pointers point into the mapping (no copy).
// Every count, size and offset is checked against the file size before use. rwkv.cpp pads
// nothing, so tensor data is generally NOT aligned: consumers must copy (or read bytewise)
// before treating it as float / uint16_t arrays.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"
#include "kernels/ggml_types.h"

namespace pm {

inline constexpr uint32_t kRwkvBinMagic = 0x67676d66;  // 'ggmf'
inline constexpr size_t kRwkvBinHeaderBytes = 24;

// RWKV architecture versions, inferred from tensor names as rwkv.cpp does.
enum class RwkvVersion { kV4, kV5_1, kV5_2, kV6, kV7 };
const char* rwkv_version_name(RwkvVersion v);  // "v4", "v5.1", "v5.2", "v6", "v7"

// rwkv.cpp data-type code -> ggml type; nullopt for removed / unknown codes.
std::optional<GgmlType> ggml_type_from_rwkv_code(uint32_t code);
const char* rwkv_type_code_name(uint32_t code);  // "FP32", "Q5_1", ..., "unknown"

struct RwkvTensorInfo {
  std::string name;
  uint32_t type_code = 0;  // rwkv.cpp's code, as stored
  GgmlType type = GgmlType::kF32;
  std::vector<int64_t> ne;  // ggml order, 1..3 dims, each >= 1
  int64_t n_elements = 0;
  uint64_t offset = 0;  // of the data, from the start of the file
  uint64_t size_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping / caller buffer (validated in bounds)

  std::string shape_string() const;  // "[64, 256]"
};

class RwkvBinFile {
 public:
  // Maps and validates the file. Errors name the path, the tensor and what was wrong.
  static Result<std::unique_ptr<RwkvBinFile>> open(const std::string& path);
  // Parses from a caller-owned buffer (fuzzing, tests); the buffer must outlive the result.
  // `name` stands for the file in messages.
  static Result<std::unique_ptr<RwkvBinFile>> parse(const uint8_t* data, size_t size_bytes, const std::string& name);
  // True when the bytes start with the rwkv.cpp magic (enough to route a file to this reader).
  static bool has_magic(const uint8_t* data, size_t size_bytes);

  const std::string& path() const { return name_; }
  // The mapping the tensor data lies in (null when parsed from a caller buffer).
  const MappedFile* mapped_file() const { return file_.get(); }
  size_t file_size_bytes() const { return size_; }
  uint32_t version() const { return version_; }  // file format version: 100 or 101
  int64_t n_vocab() const { return n_vocab_; }
  int64_t n_embd() const { return n_embd_; }
  int64_t n_layer() const { return n_layer_; }
  uint32_t data_type_code() const { return data_type_code_; }
  GgmlType data_type() const { return data_type_; }
  // Architecture version, from which tensors are present (blocks.0.att.*).
  RwkvVersion arch() const { return arch_; }

  const std::vector<RwkvTensorInfo>& tensors() const { return tensors_; }
  const RwkvTensorInfo* find_tensor(std::string_view name) const;

 private:
  RwkvBinFile() = default;
  Status parse_bytes();

  std::unique_ptr<MappedFile> file_;  // null when parsed from a caller buffer
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string name_;
  uint32_t version_ = 0;
  int64_t n_vocab_ = 0, n_embd_ = 0, n_layer_ = 0;
  uint32_t data_type_code_ = 0;
  GgmlType data_type_ = GgmlType::kF32;
  RwkvVersion arch_ = RwkvVersion::kV4;
  std::vector<RwkvTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace pm
