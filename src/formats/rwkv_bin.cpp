// rwkv.cpp .bin parsing. Every read is preceded by a check that the bytes are there, so a
// truncated or lying file yields a Status naming the file, the tensor and the field.
#include "formats/rwkv_bin.h"

#include <cstring>

namespace pm {
namespace {

constexpr uint32_t kVersionOldQuant = 100;  // quantized blocks in a removed layout
constexpr uint32_t kVersionCurrent = 101;
constexpr int64_t kMaxVocab = int64_t(1) << 24;
constexpr int64_t kMaxEmbd = int64_t(1) << 16;
constexpr int64_t kMaxLayer = 1024;
constexpr uint32_t kMaxKeyBytes = 1024;
constexpr int64_t kMaxElements = int64_t(1) << 40;  // far above any real tensor, far below overflow

struct CodeEntry {
  const char* name;
  std::optional<GgmlType> type;
  const char* why_not = nullptr;  // when type is empty
};

constexpr const char* kRemoved = "was removed from rwkv.cpp; requantize the model";
constexpr const char* kActivation = "is an activation format, never a weight type";

// Indexed by rwkv.cpp's data-type code.
const CodeEntry kCodes[] = {
    /*  0 */ {"FP32", GgmlType::kF32},
    /*  1 */ {"FP16", GgmlType::kF16},
    /*  2 */ {"Q4_0", GgmlType::kQ4_0},
    /*  3 */ {"Q4_1", GgmlType::kQ4_1},
    /*  4 */ {"Q4_1_O", std::nullopt, kRemoved},
    /*  5 */ {"Q4_2", std::nullopt, kRemoved},
    /*  6 */ {"Q4_3", std::nullopt, kRemoved},
    /*  7 */ {"Q5_0", GgmlType::kQ5_0},
    /*  8 */ {"Q5_1", GgmlType::kQ5_1},
    /*  9 */ {"Q8_0", GgmlType::kQ8_0},
    /* 10 */ {"Q8_1", std::nullopt, kActivation},
    /* 11 */ {"Q2_K", GgmlType::kQ2_K},
    /* 12 */ {"Q3_K", GgmlType::kQ3_K},
    /* 13 */ {"Q4_K", GgmlType::kQ4_K},
    /* 14 */ {"Q5_K", GgmlType::kQ5_K},
    /* 15 */ {"Q6_K", GgmlType::kQ6_K},
    /* 16 */ {"Q8_K", std::nullopt, kActivation},
};
constexpr uint32_t kCodeCount = sizeof(kCodes) / sizeof(kCodes[0]);

std::string u64s(uint64_t v) { return std::to_string(v); }

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Checks a data-type code: known, still supported by ggml, computable here, and not an old
// (version 100) quantized layout. `what` names the field in messages.
Status check_type_code(uint32_t code, uint32_t file_version, const std::string& what) {
  if (code >= kCodeCount)
    return Status::corrupt(what + " " + u64s(code) + " is not an rwkv.cpp data type (0.." + u64s(kCodeCount - 1) + ")");
  const CodeEntry& e = kCodes[code];
  if (!e.type.has_value()) return Status::unsupported(what + " " + e.name + " (" + u64s(code) + ") " + e.why_not);
  const TypeInfo* info = type_info(*e.type);
  if (info == nullptr || !info->supported)
    return Status::unsupported(what + " " + e.name + " cannot be computed with yet");
  if (info->quantized && file_version != kVersionCurrent)
    return Status::unsupported(what + " " + e.name + " in a version " + u64s(file_version) +
                               " file uses a quantization layout ggml dropped in 2023; requantize the model");
  return Status::ok();
}

}  // namespace

const char* rwkv_version_name(RwkvVersion v) {
  switch (v) {
    case RwkvVersion::kV4:
      return "v4";
    case RwkvVersion::kV5_1:
      return "v5.1";
    case RwkvVersion::kV5_2:
      return "v5.2";
    case RwkvVersion::kV6:
      return "v6";
    case RwkvVersion::kV7:
      return "v7";
  }
  return "unknown";
}

std::optional<GgmlType> ggml_type_from_rwkv_code(uint32_t code) {
  return code < kCodeCount ? kCodes[code].type : std::nullopt;
}

const char* rwkv_type_code_name(uint32_t code) { return code < kCodeCount ? kCodes[code].name : "unknown"; }

std::string RwkvTensorInfo::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

bool RwkvBinFile::has_magic(const uint8_t* data, size_t size_bytes) {
  return size_bytes >= 4 && load_u32(data) == kRwkvBinMagic;
}

Result<std::unique_ptr<RwkvBinFile>> RwkvBinFile::open(const std::string& path) {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mf, MappedFile::open(path));
  std::unique_ptr<RwkvBinFile> f(new RwkvBinFile());
  f->data_ = mf->data();
  f->size_ = mf->size_bytes();
  f->name_ = path;
  f->file_ = std::move(mf);
  PM_RETURN_IF_ERROR(f->parse_bytes());
  return f;
}

Result<std::unique_ptr<RwkvBinFile>> RwkvBinFile::parse(const uint8_t* data, size_t size_bytes,
                                                        const std::string& name) {
  std::unique_ptr<RwkvBinFile> f(new RwkvBinFile());
  f->data_ = data;
  f->size_ = data == nullptr ? 0 : size_bytes;
  f->name_ = name;
  PM_RETURN_IF_ERROR(f->parse_bytes());
  return f;
}

const RwkvTensorInfo* RwkvBinFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Status RwkvBinFile::parse_bytes() {
  const std::string& n = name_;
  if (size_ < kRwkvBinHeaderBytes)
    return Status::corrupt(n + ": file is " + u64s(size_) + " bytes, shorter than the " + u64s(kRwkvBinHeaderBytes) +
                           "-byte rwkv.cpp header");
  const uint32_t magic = load_u32(data_);
  if (magic != kRwkvBinMagic) {
    char m[5] = {};
    std::memcpy(m, data_, 4);
    for (int i = 0; i < 4; ++i)
      if (m[i] < 32 || m[i] > 126) m[i] = '?';
    return Status::corrupt(n + ": not an rwkv.cpp model file (magic \"" + std::string(m, 4) + "\", expected \"fmgg\")");
  }
  version_ = load_u32(data_ + 4);
  if (version_ != kVersionOldQuant && version_ != kVersionCurrent)
    return Status::unsupported(n + ": file version " + u64s(version_) +
                               " is not supported (rwkv.cpp files are 100 or 101)");

  struct Field {
    const char* name;
    int64_t* out;
    int64_t max;
  };
  const Field fields[] = {
      {"n_vocab", &n_vocab_, kMaxVocab}, {"n_embed", &n_embd_, kMaxEmbd}, {"n_layer", &n_layer_, kMaxLayer}};
  for (int i = 0; i < 3; ++i) {
    const uint32_t v = load_u32(data_ + 8 + 4 * i);
    if (v < 1 || int64_t(v) > fields[i].max)
      return Status::corrupt(n + ": header " + fields[i].name + " = " + u64s(v) + " is out of range [1, " +
                             std::to_string(fields[i].max) + "]");
    *fields[i].out = int64_t(v);
  }
  data_type_code_ = load_u32(data_ + 20);
  PM_RETURN_IF_ERROR(check_type_code(data_type_code_, version_, "header data_type").with_context(n));
  data_type_ = *ggml_type_from_rwkv_code(data_type_code_);

  size_t pos = kRwkvBinHeaderBytes;
  while (pos < size_) {
    const size_t index = tensors_.size();
    const std::string where = n + ": tensor #" + u64s(index) + " at offset " + u64s(pos);
    if (size_ - pos < 12)
      return Status::corrupt(where + ": header truncated (" + u64s(size_ - pos) + " bytes left, needs at least 12)");
    RwkvTensorInfo t;
    const uint32_t dim_count = load_u32(data_ + pos);
    const uint32_t key_length = load_u32(data_ + pos + 4);
    t.type_code = load_u32(data_ + pos + 8);
    pos += 12;
    if (dim_count < 1 || dim_count > 3)
      return Status::corrupt(where + ": dim_count " + u64s(dim_count) + " is not 1, 2 or 3");
    if (key_length < 1 || key_length > kMaxKeyBytes)
      return Status::corrupt(where + ": name length " + u64s(key_length) + " is out of range [1, " +
                             u64s(kMaxKeyBytes) + "]");
    if (size_ - pos < 4 * size_t(dim_count) + key_length)
      return Status::corrupt(where + ": shape and name (" + u64s(4 * size_t(dim_count) + key_length) +
                             " bytes) run past end of file (" + u64s(size_) + " bytes)");
    t.ne.resize(dim_count);
    for (uint32_t d = 0; d < dim_count; ++d) t.ne[d] = int64_t(load_u32(data_ + pos + 4 * d));
    pos += 4 * size_t(dim_count);
    t.name.assign(reinterpret_cast<const char*>(data_ + pos), key_length);
    pos += key_length;
    if (t.name.find('\0') != std::string::npos) return Status::corrupt(where + ": name contains a NUL byte");
    const std::string tw = n + ": tensor " + t.name;

    PM_RETURN_IF_ERROR(check_type_code(t.type_code, version_, "data type").with_context(tw));
    t.type = *ggml_type_from_rwkv_code(t.type_code);
    const TypeInfo* info = type_info(t.type);

    t.n_elements = 1;
    for (uint32_t d = 0; d < dim_count; ++d) {
      if (t.ne[d] == 0) return Status::corrupt(tw + ": shape " + t.shape_string() + " has a zero dimension");
      if (t.ne[d] > kMaxElements / t.n_elements)
        return Status::corrupt(tw + ": shape " + t.shape_string() + " has absurdly many elements");
      t.n_elements *= t.ne[d];
    }
    if (t.ne[0] % info->block_size != 0)
      return Status::corrupt(tw + ": row length " + std::to_string(t.ne[0]) + " is not a multiple of the " +
                             rwkv_type_code_name(t.type_code) + " block size " + std::to_string(info->block_size));
    t.size_bytes = uint64_t(t.n_elements / info->block_size) * info->block_bytes;
    t.offset = pos;
    if (t.size_bytes > size_ - pos)
      return Status::corrupt(tw + ": data at offset " + u64s(pos) + " + size " + u64s(t.size_bytes) +
                             " runs past end of file (" + u64s(size_) + " bytes)");
    t.data = data_ + pos;
    pos += size_t(t.size_bytes);
    if (tensor_index_.count(t.name) != 0) return Status::corrupt(tw + ": appears twice");
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }
  if (tensors_.empty()) return Status::corrupt(n + ": holds no tensors (file ends after the header)");

  // The architecture version, as rwkv.cpp infers it: each version adds a tensor the older lack.
  arch_ = RwkvVersion::kV4;
  if (find_tensor("blocks.0.att.ln_x.weight") != nullptr)
    arch_ = find_tensor("blocks.0.att.gate.weight") != nullptr ? RwkvVersion::kV5_2 : RwkvVersion::kV5_1;
  if (find_tensor("blocks.0.att.time_maa_x") != nullptr) arch_ = RwkvVersion::kV6;
  if (find_tensor("blocks.0.att.r_k") != nullptr) arch_ = RwkvVersion::kV7;
  return Status::ok();
}

}  // namespace pm
