// Model identity for saved states: a hash of the architecture and of every tensor's name,
// type, shape and a sample of its bytes (head, middle and tail, so that fine-tunes of the same
// shape differ, while a multi-GB model is not read in full).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "kernels/ggml_types.h"

namespace pm {

class ModelFingerprint {
 public:
  explicit ModelFingerprint(std::string_view arch) { h_.update(arch); }
  void add_tensor(std::string_view name, GgmlType type, const std::vector<int64_t>& ne, const uint8_t* data,
                  uint64_t size_bytes);
  uint64_t digest() const { return h_.digest(); }

 private:
  Fnv1a64 h_;
};

}  // namespace pm
