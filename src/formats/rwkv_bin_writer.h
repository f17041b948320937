// Writes rwkv.cpp .bin files (layout in formats/rwkv_bin.h), streaming tensors to disk.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "core/status.h"
#include "kernels/ggml_types.h"

namespace pm {

class RwkvBinWriter {
 public:
  // Writes to path.tmp; commit() renames it into place. data_type: the header's type (of most weights).
  RwkvBinWriter(const std::string& path, int64_t n_vocab, int64_t n_embd, int64_t n_layer, GgmlType data_type);
  ~RwkvBinWriter();
  RwkvBinWriter(const RwkvBinWriter&) = delete;
  RwkvBinWriter& operator=(const RwkvBinWriter&) = delete;

  // ne in ggml order (1..3 dims); data holds row_size_bytes(type, ne[0]) * rows bytes.
  Status add_tensor(const std::string& name, GgmlType type, const std::vector<int64_t>& ne, const void* data,
                    size_t size_bytes);
  Status commit();
  uint64_t bytes_written() const { return bytes_; }

 private:
  void write(const void* p, size_t n);
  std::string path_, tmp_;
  FILE* f_ = nullptr;
  bool ok_ = true;
  Status status_;
  uint64_t bytes_ = 0;
};

// rwkv.cpp's data-type code for a ggml type, or -1 when its files cannot hold the type.
int rwkv_code_for_type(GgmlType type);

}  // namespace pm
