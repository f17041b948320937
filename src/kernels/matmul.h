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
void matmul(const Kernels& k, GgmlType wtype, const void* w, int64_t n_in, int64_t n_out,
            const float* x, int64_t n_tok, float* y, std::vector<uint8_t>& scratch,
            ThreadPool* pool = nullptr);

}  // namespace pm
