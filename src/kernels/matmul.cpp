#include "kernels/matmul.h"

#include <cassert>

namespace pm {

void matmul(const Kernels& k, GgmlType wtype, const void* w, int64_t n_in, int64_t n_out,
            const float* x, int64_t n_tok, float* y, std::vector<uint8_t>& scratch, ThreadPool* pool) {
  const TypeInfo* wi = type_info(wtype);
  assert(wi != nullptr && wi->supported && n_in % wi->block_size == 0);
  const GgmlType at = wi->vec_dot_type;
  const size_t w_row_bytes = row_size_bytes(wtype, n_in);
  const size_t a_row_bytes = row_size_bytes(at, n_in);

  const uint8_t* act = nullptr;
  if (at == GgmlType::kF32) {
    act = reinterpret_cast<const uint8_t*>(x);
  } else {
    scratch.resize(a_row_bytes * size_t(n_tok));
    const FromFloatFn convert = k.of(at).from_float;
    for (int64_t t = 0; t < n_tok; ++t) convert(x + t * n_in, scratch.data() + t * a_row_bytes, n_in);
    act = scratch.data();
  }

  const VecDotFn dot = k.of(wtype).vec_dot;
  const uint8_t* wbase = static_cast<const uint8_t*>(w);
  auto rows = [&](int64_t begin, int64_t end) {
    const uint8_t* wrow = wbase + size_t(begin) * w_row_bytes;
    for (int64_t o = begin; o < end; ++o, wrow += w_row_bytes)
      for (int64_t t = 0; t < n_tok; ++t) y[t * n_out + o] = dot(n_in, wrow, act + t * a_row_bytes);
  };
  // Waking the pool costs microseconds: only worth it for at least ~256K multiply-adds.
  constexpr int64_t kMinParallelWork = 1 << 18;
  if (pool != nullptr && n_out >= 32 && n_in * n_out * n_tok >= kMinParallelWork) {
    pool->parallel_for(n_out, 16, rows);
  } else {
    rows(0, n_out);
  }
}

}  // namespace pm
