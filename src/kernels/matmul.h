// Matrix multiplication of a weight tensor (any supported type) by float activations.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/ggml_types.h"
#include "kernels/kernels.h"

namespace pm {

// y[t * n_out + o] = sum_i W[o][i] * x[t * n_in + i]
//   W: n_out rows of n_in elements of `wtype`, row-major (GGUF ne = [n_in, n_out])
//   x: [n_tok][n_in] float32; y: [n_tok][n_out] float32
// Activations are first converted to the weight type's vec_dot_type (into `scratch`), as the
// dot products consume them, then each weight row meets every activation row while it is hot.
// Output rows are split across `pool`'s threads when given.
// `packed`, when given, is pack_weights()'s copy of W for this table: its groups are used for the
// rows they cover (the results are the same bits either way; only the speed differs).
void matmul(const Kernels& k, GgmlType wtype, const void* w, int64_t n_in, int64_t n_out,
            const float* x, int64_t n_tok, float* y, std::vector<uint8_t>& scratch,
            ThreadPool* pool = nullptr, const uint8_t* packed = nullptr);

// One matrix of matmul_many: y = W x with W n_out rows of the call's n_in elements of `wtype`
// (and its pack_weights() copy, when given), y [n_tok][n_out].
struct MatmulJob {
  GgmlType wtype = GgmlType::kF32;
  const void* w = nullptr;
  int64_t n_out = 0;
  const uint8_t* packed = nullptr;
  float* y = nullptr;
};

// matmul() for several matrices of one input x (a layer's Q, K and V; gate and up): when their
// types take the same activation format, x is converted once and the rows of all of them are
// handed out to the pool in one parallel region (one wake-up and one barrier instead of one per
// matrix). Each y gets the bits matmul() gives it alone.
void matmul_many(const Kernels& k, const MatmulJob* jobs, int n_jobs, int64_t n_in, const float* x, int64_t n_tok,
                 std::vector<uint8_t>& scratch, ThreadPool* pool = nullptr);

// Bytes of the packed copy of an n_out x n_in `wtype` matrix for table k: the rows that fill
// whole groups of k.of(wtype).pack_rows. 0 when the table has no packed form for the type.
size_t packed_size_bytes(const Kernels& k, GgmlType wtype, int64_t n_in, int64_t n_out);

// Writes that copy to `dst` (packed_size_bytes(...) bytes), group after group; rows left over
// (n_out % pack_rows) are read from W itself.
void pack_weights(const Kernels& k, GgmlType wtype, const void* w, int64_t n_in, int64_t n_out, uint8_t* dst,
                  ThreadPool* pool = nullptr);

// blocks[t * (n / 32) + b] = the sum of the 32 quants of block b of activation row t (Q8_0 rows,
// `stride` bytes apart; what the packed kernels take off for their unsigned weights) and its
// scale as a float.
void block_sums(const void* a, size_t stride, int64_t n, int64_t n_tok, ActBlock* blocks);

}  // namespace pm
