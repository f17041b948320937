// Building blocks shared by the architectures: weights bound to GGUF tensors with their shapes
// checked, and the hyperparameter reader.
#pragma once

#include <cassert>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "formats/gguf.h"
#include "core/aligned_buffer.h"
#include "core/mapped_file.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"

namespace pm {

// A 2-D weight used by matmul: n_out rows of n_in elements, straight from the mapping, and
// its packed copy for the active kernel table when PackedWeights made one.
struct Weight {
  GgmlType type = GgmlType::kF32;
  const uint8_t* data = nullptr;
  int64_t n_in = 0;
  int64_t n_out = 0;
  const uint8_t* packed = nullptr;
  bool present() const { return data != nullptr; }
};

// y[t][o] = sum_i w[o][i] * x[t][i] for n_tok activation rows (see kernels/matmul.h).
inline void matmul(const Kernels& k, const Weight& w, const float* x, int64_t n_tok, float* y,
                   std::vector<uint8_t>& scratch, ThreadPool* pool) {
  matmul(k, w.type, w.data, w.n_in, w.n_out, x, n_tok, y, scratch, pool, w.packed);
}

// y_j[t][o] = sum_i w_j[o][i] * x[t][i] for matrices of the same input (see kernels/matmul.h
// matmul_many: one activation conversion and one parallel region for all of them).
struct WeightOut {
  const Weight& w;
  float* y;
};
inline void matmul_many(const Kernels& k, std::initializer_list<WeightOut> outs, const float* x, int64_t n_tok,
                        std::vector<uint8_t>& scratch, ThreadPool* pool) {
  const int64_t n_in = outs.begin()->w.n_in;
  MatmulJob jobs[4];
  int n = 0;
  for (const WeightOut& o : outs) {
    assert(o.w.n_in == n_in);
    jobs[n++] = MatmulJob{o.w.type, o.w.data, o.w.n_out, o.w.packed, o.y};
    if (n == 4) matmul_many(k, jobs, std::exchange(n, 0), n_in, x, n_tok, scratch, pool);
  }
  if (n > 0) matmul_many(k, jobs, n, n_in, x, n_tok, scratch, pool);
}

// The packed copies of a model's weight matrices (kernels/matmul.h pack_weights), made once at
// load for the active kernel table: prompt processing and generation then read each block of 16
// rows with a few wide loads instead of decoding and transposing it on every call. The file's
// pages of a packed matrix are released, so resident memory stays about the file's size. The
// environment variable PM_PACK=0 turns packing off (the results are the same bits either way).
class PackedWeights {
 public:
  // Packs those of `weights` the table has a packed form for and sets their `packed`;
  // `packed_one`, when given, is called with each right after it is packed.
  void pack(const Kernels& k, const std::vector<Weight*>& weights, const MappedFile* file,
            const std::function<void(Weight&)>& packed_one = nullptr);
  size_t size_bytes() const { return buf_.size(); }

 private:
  AlignedBuffer<uint8_t> buf_;
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
