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

namespace {

// The activations in the format the weights' dot products take, and (for packed kernels of Q8_0
// activations) each block's sum and scale.
struct Activations {
  const uint8_t* rows = nullptr;  // n_tok rows, row_bytes apart
  size_t row_bytes = 0;
  const ActBlock* blocks = nullptr;  // [n_tok][n_in / 32], or null
};

// Converts x to `at` in `scratch` (F32: x itself), token by token, split across the pool for a
// batch: every row is converted alone, so the split changes no bit.
Activations convert_activations(const Kernels& k, GgmlType at, bool sums, const float* x, int64_t n_in,
                                int64_t n_tok, std::vector<uint8_t>& scratch, ThreadPool* pool) {
  Activations a;
  a.row_bytes = row_size_bytes(at, n_in);
  if (at == GgmlType::kF32) {
    a.rows = reinterpret_cast<const uint8_t*>(x);
    return a;
  }
  // The rows, then their block sums (4-byte aligned: row_bytes * n_tok rounded up).
  const size_t act_bytes = a.row_bytes * size_t(n_tok);
  const size_t sums_at = (act_bytes + 63) / 64 * 64;
  const int64_t nb = n_in / 32;
  scratch.resize(sums ? sums_at + sizeof(ActBlock) * size_t(n_tok * nb) : act_bytes);
  const FromFloatFn convert = k.of(at).from_float;
  uint8_t* rows = scratch.data();
  ActBlock* blocks = sums ? reinterpret_cast<ActBlock*>(scratch.data() + sums_at) : nullptr;
  auto convert_rows = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) convert(x + t * n_in, rows + size_t(t) * a.row_bytes, n_in);
    if (blocks != nullptr) block_sums(rows + size_t(t0) * a.row_bytes, a.row_bytes, n_in, t1 - t0, blocks + t0 * nb);
  };
  if (pool != nullptr && n_tok >= 4) pool->parallel_for(n_tok, 2, convert_rows);
  else convert_rows(0, n_tok);
  a.rows = rows;
  a.blocks = blocks;
  return a;
}

// Rows per packed group when the job's packed copy is used, else 0.
int64_t packed_rows(const Kernels& k, const MatmulJob& j, int64_t n_in) {
  return j.packed != nullptr && packed_size_bytes(k, j.wtype, n_in, j.n_out) != 0 ? k.of(j.wtype).pack_rows : 0;
}

// Rows [begin, end) of a job from its unpacked weights: eight at a time through gemm8, else in
// pairs through vec_dot_2x2; each group of weight rows meets every activation row while it is in
// cache. What is left over goes through vec_dot.
void unpacked_rows(const Kernels& k, const MatmulJob& j, int64_t n_in, const Activations& a, int64_t n_tok,
                   int64_t begin, int64_t end) {
  const TypeKernels& tk = k.of(j.wtype);
  const VecDotFn dot = tk.vec_dot;
  const VecDot2x2Fn dot2 = n_tok >= 2 ? tk.vec_dot_2x2 : nullptr;
  const Gemm8Fn gemm8 = n_tok >= 2 ? tk.gemm8 : nullptr;
  const size_t w_row_bytes = row_size_bytes(j.wtype, n_in), as = a.row_bytes;
  const uint8_t* wbase = static_cast<const uint8_t*>(j.w);
  const int64_t n_out = j.n_out;
  float* y = j.y;
  int64_t o = begin;
  if (gemm8 != nullptr) {
    for (; o + 8 <= end; o += 8) gemm8(n_in, wbase + size_t(o) * w_row_bytes, w_row_bytes, a.rows, as, n_tok, y + o, size_t(n_out));
  }
  if (dot2 != nullptr) {
    for (; o + 2 <= end; o += 2) {
      const uint8_t* wrow = wbase + size_t(o) * w_row_bytes;
      int64_t t = 0;
      for (; t + 2 <= n_tok; t += 2) {
        float out[4];
        dot2(n_in, wrow, w_row_bytes, a.rows + size_t(t) * as, as, out);
        y[t * n_out + o] = out[0];
        y[t * n_out + o + 1] = out[1];
        y[(t + 1) * n_out + o] = out[2];
        y[(t + 1) * n_out + o + 1] = out[3];
      }
      for (; t < n_tok; ++t) {
        y[t * n_out + o] = dot(n_in, wrow, a.rows + size_t(t) * as);
        y[t * n_out + o + 1] = dot(n_in, wrow + w_row_bytes, a.rows + size_t(t) * as);
      }
    }
  }
  for (; o < end; ++o) {
    const uint8_t* wrow = wbase + size_t(o) * w_row_bytes;
    for (int64_t t = 0; t < n_tok; ++t) y[t * n_out + o] = dot(n_in, wrow, a.rows + size_t(t) * as);
  }
}

// A job's rows are cut into units handed to the threads: its packed groups, one unit each, and
// the rows left over (n_out % pack_rows) as one more; unpacked, eight rows a unit (a gemm8's).
int64_t units_of(const MatmulJob& j, int64_t pack_rows) {
  if (pack_rows > 0) return j.n_out / pack_rows + (j.n_out % pack_rows != 0 ? 1 : 0);
  return (j.n_out + 7) / 8;
}

void run_units(const Kernels& k, const MatmulJob& j, int64_t pack_rows, int64_t n_in, const Activations& a,
               int64_t n_tok, int64_t u0, int64_t u1) {
  if (pack_rows == 0) {
    unpacked_rows(k, j, n_in, a, n_tok, u0 * 8, std::min(j.n_out, u1 * 8));
    return;
  }
  const TypeKernels& tk = k.of(j.wtype);
  const int64_t groups = j.n_out / pack_rows;
  const size_t group_bytes = size_t(pack_rows) * row_size_bytes(j.wtype, n_in);
  for (int64_t g = u0; g < std::min(u1, groups); ++g)
    tk.gemm_packed(n_in, j.packed + size_t(g) * group_bytes, a.rows, a.row_bytes, a.blocks, n_tok, j.y + g * pack_rows,
                   size_t(j.n_out));
  if (u1 > groups) unpacked_rows(k, j, n_in, a, n_tok, groups * pack_rows, j.n_out);
}

constexpr int kMaxJobs = 4;

}  // namespace

void matmul_many(const Kernels& k, const MatmulJob* jobs, int n_jobs, int64_t n_in, const float* x, int64_t n_tok,
                 std::vector<uint8_t>& scratch, ThreadPool* pool) {
  if (n_jobs <= 0) return;
  // Matrices whose activations differ in format (Q4_K beside Q8_0 weights, say) or more than
  // kMaxJobs of them: the first run, then the rest.
  const GgmlType at = type_info(jobs[0].wtype)->vec_dot_type;
  int n = 1;
  while (n < std::min(n_jobs, kMaxJobs) && type_info(jobs[n].wtype)->vec_dot_type == at) ++n;
  if (n < n_jobs) {
    matmul_many(k, jobs, n, n_in, x, n_tok, scratch, pool);
    matmul_many(k, jobs + n, n_jobs - n, n_in, x, n_tok, scratch, pool);
    return;
  }

  int64_t pack_rows[kMaxJobs], first[kMaxJobs + 1] = {0};
  bool sums = false;
  int64_t rows = 0;
  for (int j = 0; j < n; ++j) {
    const TypeInfo* wi = type_info(jobs[j].wtype);
    assert(wi != nullptr && wi->supported && n_in % wi->block_size == 0);
    (void)wi;
    pack_rows[j] = packed_rows(k, jobs[j], n_in);
    sums = sums || (pack_rows[j] > 0 && at == GgmlType::kQ8_0);
    first[j + 1] = first[j] + units_of(jobs[j], pack_rows[j]);
    rows += jobs[j].n_out;
  }
  const Activations a = convert_activations(k, at, sums, x, n_in, n_tok, scratch, pool);

  // Units [u0, u1) of all the jobs, in job order.
  auto run = [&](int64_t u0, int64_t u1) {
    for (int j = 0; j < n && u0 < u1; ++j) {
      if (u0 >= first[j + 1]) continue;
      const int64_t end = std::min(u1, first[j + 1]);
      run_units(k, jobs[j], pack_rows[j], n_in, a, n_tok, u0 - first[j], end - first[j]);
      u0 = end;
    }
  };
  // Waking the pool costs microseconds: only worth it for at least ~256K multiply-adds. Units are
  // handed out a few at a time (about 8 chunks per thread), so that a thread slowed by another
  // program on its core does not hold the others up at the end.
  constexpr int64_t kMinParallelWork = 1 << 18;
  const int64_t units = first[n];
  if (pool != nullptr && rows >= 32 && n_in * rows * n_tok >= kMinParallelWork)
    pool->parallel_for_dynamic(units, std::max<int64_t>(1, units / (8 * pool->n_threads())), run);
  else
    run(0, units);
}

void matmul(const Kernels& k, GgmlType wtype, const void* w, int64_t n_in, int64_t n_out, const float* x,
            int64_t n_tok, float* y, std::vector<uint8_t>& scratch, ThreadPool* pool, const uint8_t* packed) {
  const MatmulJob job{wtype, w, n_out, packed, y};
  matmul_many(k, &job, 1, n_in, x, n_tok, scratch, pool);
}

}  // namespace pm
