// Declarations of the scalar reference kernels (kernels/generic/*.cpp), one set per type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ggml_types.h"

namespace pm::generic {

#define PM_DECLARE_TYPE_KERNELS(t)                              \
  void t##_to_float(const void* src, float* dst, int64_t n);    \
  void t##_from_float(const float* src, void* dst, int64_t n);  \
  float t##_vec_dot(int64_t n, const void* w, const void* a);

PM_DECLARE_TYPE_KERNELS(f32)
PM_DECLARE_TYPE_KERNELS(f16)
PM_DECLARE_TYPE_KERNELS(bf16)
PM_DECLARE_TYPE_KERNELS(q4_0)
PM_DECLARE_TYPE_KERNELS(q4_1)
PM_DECLARE_TYPE_KERNELS(q5_0)
PM_DECLARE_TYPE_KERNELS(q5_1)
PM_DECLARE_TYPE_KERNELS(q8_0)
PM_DECLARE_TYPE_KERNELS(q8_1)
PM_DECLARE_TYPE_KERNELS(q2_k)
PM_DECLARE_TYPE_KERNELS(q3_k)
PM_DECLARE_TYPE_KERNELS(q4_k)
PM_DECLARE_TYPE_KERNELS(q5_k)
PM_DECLARE_TYPE_KERNELS(q6_k)
PM_DECLARE_TYPE_KERNELS(q8_k)

#undef PM_DECLARE_TYPE_KERNELS

// The reference of Kernels::transpose16 (kernels.h).
void transpose16(const float* src, size_t src_stride, int64_t n_cols, float* dst, size_t dst_stride);

// The reference of Kernels::attention (kernels.h).
void attention(int64_t head_dim, int64_t group, int64_t n_q, int64_t p0, const float* q, size_t q_stride,
               const float* kt, size_t kt_stride, const float* v, size_t v_stride, float scale, float* out,
               size_t o_stride);

}  // namespace pm::generic
