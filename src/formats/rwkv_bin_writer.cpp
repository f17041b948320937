#include "formats/rwkv_bin_writer.h"

#include <cerrno>
#include <cstring>

#include "formats/rwkv_bin.h"

namespace pm {

int rwkv_code_for_type(GgmlType type) {
  for (uint32_t code = 0; code < 32; ++code) {
    const std::optional<GgmlType> t = ggml_type_from_rwkv_code(code);
    if (t && *t == type) return int(code);
  }
  return -1;
}

RwkvBinWriter::RwkvBinWriter(const std::string& path, int64_t n_vocab, int64_t n_embd, int64_t n_layer,
                             GgmlType data_type)
    : path_(path), tmp_(path + ".tmp") {
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (f_ == nullptr) {
    status_ = Status::io_error(tmp_ + ": cannot create: " + std::strerror(errno));
    return;
  }
  const int code = rwkv_code_for_type(data_type);
  if (code < 0) {
    status_ = Status::invalid_argument(std::string("rwkv.cpp files cannot hold ") + type_name(data_type));
    return;
  }
  const uint32_t header[6] = {kRwkvBinMagic, 101, uint32_t(n_vocab), uint32_t(n_embd), uint32_t(n_layer), uint32_t(code)};
  write(header, sizeof header);
}

RwkvBinWriter::~RwkvBinWriter() {
  if (f_ != nullptr) {
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
}

void RwkvBinWriter::write(const void* p, size_t n) {
  if (ok_ && std::fwrite(p, 1, n, f_) != n) ok_ = false;
  bytes_ += n;
}

Status RwkvBinWriter::add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& ne,
                                 const void* data, size_t size_bytes) {
  PM_RETURN_IF_ERROR(status_);
  const int code = rwkv_code_for_type(type);
  if (code < 0) return Status::invalid_argument("tensor " + name + ": rwkv.cpp files cannot hold " + type_name(type));
  if (ne.empty() || ne.size() > 3) return Status::invalid_argument("tensor " + name + ": needs 1 to 3 dimensions");
  int64_t rows = 1;
  for (size_t i = 1; i < ne.size(); ++i) rows *= ne[i];
  if (ne[0] % type_info(type)->block_size != 0 || row_size_bytes(type, ne[0]) * size_t(rows) != size_bytes)
    return Status::invalid_argument("tensor " + name + ": size does not match its shape and type");
  const uint32_t head[3] = {uint32_t(ne.size()), uint32_t(name.size()), uint32_t(code)};
  write(head, sizeof head);
  for (int64_t d : ne) {
    const uint32_t v = uint32_t(d);
    write(&v, 4);
  }
  write(name.data(), name.size());
  write(data, size_bytes);
  return ok_ ? Status::ok() : Status::io_error(tmp_ + ": write failed");
}

Status RwkvBinWriter::commit() {
  PM_RETURN_IF_ERROR(status_);
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  if (!ok_ || !closed || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    std::remove(tmp_.c_str());
    return Status::io_error(path_ + ": write failed");
  }
  return Status::ok();
}

}  // namespace pm
