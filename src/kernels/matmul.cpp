#include "kernels/matmul.h"

#include <algorithm>
#include <cassert>

#include "core/fp16.h"

namespace pm {

size_t packed_size_bytes(const Kernels& k, GgmlType wtype, int64_t n_in, int64_t n_out) {
  const TypeKernels& tk = k.of(wtype);
  if (tk.pack_rows <= 0 || tk.pack == nullptr || tk.gemm_packed == nullptr) return 0;
  return size_t(n_out / tk.pack_rows) * size_t(tk.pack_rows) * row_size_bytes(wtype, n_in);
}

void pack_weights(const Kernels& k, GgmlType wtype, const void* w, int64_t n_in, int64_t n_out, uint8_t* dst,
                  ThreadPool* pool) {
  const TypeKernels& tk = k.of(wtype);
  const int64_t groups = packed_size_bytes(k, wtype, n_in, n_out) == 0 ? 0 : n_out / tk.pack_rows;
  const size_t row_bytes = row_size_bytes(wtype, n_in), group_bytes = size_t(tk.pack_rows) * row_bytes;
  const uint8_t* src = static_cast<const uint8_t*>(w);
  auto run = [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) tk.pack(n_in, src + size_t(g) * group_bytes, row_bytes, dst + size_t(g) * group_bytes);
  };
  if (pool != nullptr && groups > 1) pool->parallel_for(groups, 1, run);
  else run(0, groups);
}

void block_sums(const void* a, size_t stride, int64_t n, int64_t n_tok, ActBlock* blocks) {
  const int64_t nb = n / 32;
  for (int64_t t = 0; t < n_tok; ++t) {
    const BlockQ8_0* y = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + size_t(t) * stride);
    for (int64_t b = 0; b < nb; ++b) {
      int32_t s = 0;
      for (int j = 0; j < 32; ++j) s += y[b].qs[j];
      blocks[t * nb + b] = ActBlock{s, fp16_to_fp32(y[b].d)};
    }
  }
}

void matmul(const Kernels& k, GgmlType wtype, const void* w, int64_t n_in, int64_t n_out,
            const float* x, int64_t n_tok, float* y, std::vector<uint8_t>& scratch, ThreadPool* pool,
            const uint8_t* packed) {
  const TypeInfo* wi = type_info(wtype);
  assert(wi != nullptr && wi->supported && n_in % wi->block_size == 0);
  const GgmlType at = wi->vec_dot_type;
  const size_t w_row_bytes = row_size_bytes(wtype, n_in);
  const size_t a_row_bytes = row_size_bytes(at, n_in);

  const TypeKernels& tk = k.of(wtype);
  const int64_t pack_rows = packed != nullptr && packed_size_bytes(k, wtype, n_in, n_out) != 0 ? tk.pack_rows : 0;
  const bool sums = pack_rows > 0 && at == GgmlType::kQ8_0;
  const size_t act_bytes = at == GgmlType::kF32 ? 0 : a_row_bytes * size_t(n_tok);
  const size_t sums_bytes = sums ? sizeof(ActBlock) * size_t(n_tok) * size_t(n_in / 32) : 0;
  // Activations, then their block sums (4-byte aligned: a_row_bytes * n_tok rounded up).
  const size_t sums_at = (act_bytes + 63) / 64 * 64;
  if (act_bytes + sums_bytes > 0) scratch.resize(sums_at + sums_bytes);

  // Activations converted (and their block sums taken) token by token, split across the pool
  // for a batch: every row is converted alone, so the split changes no bit.
  const uint8_t* act = nullptr;
  const ActBlock* a_blocks = nullptr;
  if (at == GgmlType::kF32) {
    act = reinterpret_cast<const uint8_t*>(x);
  } else {
    const FromFloatFn convert = k.of(at).from_float;
    uint8_t* a = scratch.data();
    ActBlock* b = sums ? reinterpret_cast<ActBlock*>(scratch.data() + sums_at) : nullptr;
    const int64_t nb = n_in / 32;
    auto convert_rows = [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) convert(x + t * n_in, a + size_t(t) * a_row_bytes, n_in);
      if (b != nullptr) block_sums(a + size_t(t0) * a_row_bytes, a_row_bytes, n_in, t1 - t0, b + t0 * nb);
    };
    if (pool != nullptr && n_tok >= 4) pool->parallel_for(n_tok, 2, convert_rows);
    else convert_rows(0, n_tok);
    act = a;
    a_blocks = b;
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
  const bool parallel = pool != nullptr && n_out >= 32 && n_in * n_out * n_tok >= kMinParallelWork;
  if (pack_rows > 0) {
    // Whole groups from the packed copy, the rows left over (n_out % pack_rows) as above.
    const int64_t groups = n_out / pack_rows;
    const size_t group_bytes = size_t(pack_rows) * w_row_bytes;
    auto run = [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g)
        tk.gemm_packed(n_in, packed + size_t(g) * group_bytes, act, a_row_bytes, a_blocks, n_tok, y + g * pack_rows,
                       size_t(n_out));
    };
    // Handed out a few groups at a time (about 8 chunks per thread), so that a thread slowed by
    // another program on its core does not hold the others up at the end.
    if (parallel) pool->parallel_for_dynamic(groups, std::max<int64_t>(1, groups / (8 * pool->n_threads())), run);
    else run(0, groups);
    rows(groups * pack_rows, n_out);
    return;
  }
  if (pool != nullptr && n_out >= 32 && n_in * n_out * n_tok >= kMinParallelWork) {
    // Split in groups of eight rows, so that every thread's share starts on a gemm8 boundary.
    const int64_t groups = (n_out + 7) / 8;
    pool->parallel_for(groups, 2, [&](int64_t g0, int64_t g1) { rows(g0 * 8, std::min(n_out, g1 * 8)); });
  } else {
    rows(0, n_out);
  }
}

}  // namespace pm
