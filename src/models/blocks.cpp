#include "models/blocks.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace pm {
namespace {

std::string shape_of(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace

Result<Weight> TensorBinder::weight(const std::string& name, int64_t n_in, int64_t n_out, bool required) {
  const GgufTensorInfo* t = f_.find_tensor(name);
  if (t == nullptr) {
    if (!required) return Weight{};
    return Status::not_found(f_.path() + ": tensor " + name + " is missing");
  }
  const TypeInfo* info = type_info(t->type);
  if (info == nullptr || !info->supported)
    return Status::unsupported(f_.path() + ": tensor " + name + " has type " + type_name(t->type) +
                               ", which pocketmind cannot compute with yet");
  const bool shape_ok = (t->ne.size() == 2 && t->ne[0] == n_in && t->ne[1] == n_out) ||
                        (t->ne.size() == 1 && n_out == 1 && t->ne[0] == n_in);
  if (!shape_ok)
    return Status::corrupt(f_.path() + ": tensor " + name + " has shape " + shape_of(t->ne) + ", expected [" +
                           std::to_string(n_in) + ", " + std::to_string(n_out) + "]");
  return Weight{t->type, t->data, n_in, n_out};
}

void PackedWeights::pack(const Kernels& k, const std::vector<Weight*>& weights, const MappedFile* file,
                         const std::function<void(Weight&)>& packed_one) {
  const char* env = std::getenv("PM_PACK");
  if (env != nullptr && std::string(env) == "0") return;
  size_t total = 0;
  for (const Weight* w : weights) total += packed_size_bytes(k, w->type, w->n_in, w->n_out);
  if (total == 0) return;
  buf_.resize(total);
  buf_.advise_huge_pages();  // read end to end on every token
  ThreadPool pool(int(std::min(4u, std::max(1u, std::thread::hardware_concurrency()))));
  size_t at = 0;
  for (Weight* w : weights) {
    const size_t bytes = packed_size_bytes(k, w->type, w->n_in, w->n_out);
    if (bytes == 0) continue;
    // In slices of about 8 MiB, each slice's file pages released once it is packed, so that a
    // large matrix (an output head of 150k rows) is never resident twice, in the file's pages and
    // in its packed copy, at the same time.
    const int64_t rows = k.of(w->type).pack_rows;
    const size_t group_bytes = size_t(rows) * row_size_bytes(w->type, w->n_in);
    const int64_t groups = int64_t(bytes / group_bytes);
    const int64_t slice = std::max<int64_t>(1, int64_t((size_t(8) << 20) / group_bytes));
    for (int64_t g = 0; g < groups; g += slice) {
      const int64_t n_groups = std::min(slice, groups - g);
      const uint8_t* src = w->data + size_t(g) * group_bytes;
      pack_weights(k, w->type, src, w->n_in, n_groups * rows, buf_.data() + at + size_t(g) * group_bytes, &pool);
      if (file != nullptr) file->release(src, size_t(n_groups) * group_bytes);
    }
    w->packed = buf_.data() + at;
    if (packed_one) packed_one(*w);
    at += bytes;
  }
}

Result<FloatVec> TensorBinder::vec(const std::string& name, int64_t n, bool required) {
  const GgufTensorInfo* t = f_.find_tensor(name);
  FloatVec v;
  if (t == nullptr) {
    if (!required) return v;
    return Status::not_found(f_.path() + ": tensor " + name + " is missing");
  }
  if (t->n_elements != n || t->ne[0] != n)
    return Status::corrupt(f_.path() + ": tensor " + name + " has shape " + shape_of(t->ne) + ", expected [" +
                           std::to_string(n) + "]");
  const TypeInfo* info = type_info(t->type);
  if (info == nullptr || !info->supported)
    return Status::unsupported(f_.path() + ": tensor " + name + " has unsupported type " + type_name(t->type));
  v.n = n;
  if (t->type == GgmlType::kF32 && reinterpret_cast<uintptr_t>(t->data) % alignof(float) == 0) {
    v.data = reinterpret_cast<const float*>(t->data);
  } else {
    v.storage.resize(size_t(n));
    active_kernels().of(t->type).to_float(t->data, v.storage.data(), n);
    v.data = v.storage.data();
  }
  return v;
}

Result<int64_t> Hparams::get_int(const std::string& suffix) const { return f_.get_int(key(suffix)); }
Result<int64_t> Hparams::get_int_or(const std::string& suffix, int64_t fallback) const {
  return f_.get_int_or(key(suffix), fallback);
}
Result<double> Hparams::get_float_or(const std::string& suffix, double fallback) const {
  return f_.get_float_or(key(suffix), fallback);
}
Result<std::string> Hparams::get_string_or(const std::string& suffix, std::string fallback) const {
  return f_.get_string_or(key(suffix), std::move(fallback));
}
Status Hparams::check_range(const std::string& suffix, int64_t v, int64_t lo, int64_t hi) const {
  if (v < lo || v > hi)
    return Status::corrupt(f_.path() + ": metadata " + key(suffix) + " = " + std::to_string(v) + " is out of range [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return Status::ok();
}

}  // namespace pm
