#include "kernels/matmul.h"

#include <algorithm>
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
  const VecDot2x2Fn dot2 = n_tok >= 2 ? k.of(wtype).vec_dot_2x2 : nullptr;
  const Gemm8Fn gemm8 = n_tok >= 2 ? k.of(wtype).gemm8 : nullptr;
  const uint8_t* wbase = static_cast<const uint8_t*>(w);
  // Rows [begin, end): eight at a time through gemm8, else in pairs through vec_dot_2x2; each
  // group of weight rows meets every activation row while it is in cache. What is left over
  // goes through vec_dot.
  auto rows = [&](int64_t begin, int64_t end) {
    int64_t o = begin;
    if (gemm8 != nullptr) {
      for (; o + 8 <= end; o += 8) gemm8(n_in, wbase + size_t(o) * w_row_bytes, w_row_bytes, act, a_row_bytes, n_tok, y + o, size_t(n_out));
    }
    if (dot2 != nullptr) {
      for (; o + 2 <= end; o += 2) {
        const uint8_t* wrow = wbase + size_t(o) * w_row_bytes;
        int64_t t = 0;
        for (; t + 2 <= n_tok; t += 2) {
          float out[4];
          dot2(n_in, wrow, w_row_bytes, act + size_t(t) * a_row_bytes, a_row_bytes, out);
          y[t * n_out + o] = out[0];
          y[t * n_out + o + 1] = out[1];
          y[(t + 1) * n_out + o] = out[2];
          y[(t + 1) * n_out + o + 1] = out[3];
        }
        for (; t < n_tok; ++t) {
          y[t * n_out + o] = dot(n_in, wrow, act + size_t(t) * a_row_bytes);
          y[t * n_out + o + 1] = dot(n_in, wrow + w_row_bytes, act + size_t(t) * a_row_bytes);
        }
      }
    }
    for (; o < end; ++o) {
      const uint8_t* wrow = wbase + size_t(o) * w_row_bytes;
      for (int64_t t = 0; t < n_tok; ++t) y[t * n_out + o] = dot(n_in, wrow, act + size_t(t) * a_row_bytes);
    }
  };
  // Waking the pool costs microseconds: only worth it for at least ~256K multiply-adds.
  constexpr int64_t kMinParallelWork = 1 << 18;
  if (pool != nullptr && n_out >= 32 && n_in * n_out * n_tok >= kMinParallelWork) {
    // Split in groups of eight rows, so that every thread's share starts on a gemm8 boundary.
    const int64_t groups = (n_out + 7) / 8;
    pool->parallel_for(groups, 2, [&](int64_t g0, int64_t g1) { rows(g0 * 8, std::min(n_out, g1 * 8)); });
  } else {
    rows(0, n_out);
  }
}

}  // namespace pm
