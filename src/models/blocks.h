// Building blocks shared by the architectures: weights bound to GGUF tensors with their shapes
// checked, and the hyperparameter reader.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "formats/gguf.h"
#include "kernels/kernels.h"

namespace pm {

// A 2-D weight used by matmul: n_out rows of n_in elements, straight from the mapping.
struct Weight {
  GgmlType type = GgmlType::kF32;
  const uint8_t* data = nullptr;
  int64_t n_in = 0;
  int64_t n_out = 0;
  bool present() const { return data != nullptr; }
};

// A 1-D float vector (norm weights, biases): borrowed when the file stores F32, else decoded.
struct FloatVec {
  const float* data = nullptr;
  int64_t n = 0;
  std::vector<float> storage;
  bool present() const { return data != nullptr; }
  FloatVec() = default;
  FloatVec(FloatVec&& o) noexcept { *this = std::move(o); }
  FloatVec& operator=(FloatVec&& o) noexcept {
    const bool owned = o.data == o.storage.data() && !o.storage.empty();
    storage = std::move(o.storage);
    data = owned ? storage.data() : o.data;
    n = o.n;
    return *this;
  }
};

// Binds tensors by name, checking type support and shape; errors name the tensor.
class TensorBinder {
 public:
  explicit TensorBinder(const GgufFile& f) : f_(f) {}
  // ne = {n_in, n_out}. Missing and !required: returns an empty Weight.
  Result<Weight> weight(const std::string& name, int64_t n_in, int64_t n_out, bool required = true);
  Result<FloatVec> vec(const std::string& name, int64_t n, bool required = true);
  const GgufFile& file() const { return f_; }

 private:
  const GgufFile& f_;
};

// Reads "{arch}.{suffix}" metadata with the architecture prefix filled in.
class Hparams {
 public:
  Hparams(const GgufFile& f, std::string arch) : f_(f), arch_(std::move(arch)) {}
  Result<int64_t> get_int(const std::string& suffix) const;
  Result<int64_t> get_int_or(const std::string& suffix, int64_t fallback) const;
  Result<double> get_float_or(const std::string& suffix, double fallback) const;
  Result<std::string> get_string_or(const std::string& suffix, std::string fallback) const;
  // Checks lo <= v <= hi, naming the key on failure.
  Status check_range(const std::string& suffix, int64_t v, int64_t lo, int64_t hi) const;
  const std::string& arch() const { return arch_; }

 private:
  std::string key(const std::string& suffix) const { return arch_ + "." + suffix; }
  const GgufFile& f_;
  std::string arch_;
};

}  // namespace pm
