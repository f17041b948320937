// The kernel table: every hot operation as a function pointer, one table per instruction set.
//
// kernels/generic/ holds the plain scalar reference of every op; per-ISA tables
// (kernels/x86/, kernels/arm/) override entries and are tested against the reference.
// `active_kernels()` picks a table once, from the CPU features detected at start-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/ggml_types.h"

namespace pm {

// Decodes n elements (a multiple of the block size) from blocks to floats.
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
// Encodes n floats (a multiple of the block size) into blocks (round-to-nearest reference).
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of one weight row (n elements of the weight type) with one activation row
// already converted to the type's vec_dot_type.
using VecDotFn = float (*)(int64_t n, const void* weights, const void* activations);

// Two weight rows by two activation rows at once (prompt processing, where every weight row
// meets many activation rows): out[2 * c + r] = vec_dot(n, w + r * w_stride, a + c * a_stride).
// Decoding each weight block once for two activations (or one SMMLA on ARM i8mm) is what
// makes it faster. Results equal vec_dot's bit for bit, so that a prompt evaluated as a batch
// gives what its tokens one at a time give.
using VecDot2x2Fn = void (*)(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride,
                             float out[4]);

// Eight weight rows by n_tok activation rows (prompt processing):
// out[t * out_stride + r] = vec_dot(n, w + r * w_stride, a + t * a_stride), r < 8, t < n_tok.
// With eight rows side by side a SIMD register holds one partial sum per row, so a block's
// scale is applied to eight outputs at once and each weight block is decoded once for several
// activation rows. Equals vec_dot bit for bit, as the two-by-two form does.
using Gemm8Fn = void (*)(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, int64_t n_tok,
                         float* out, size_t out_stride);

// Weights repacked at load time (optional, per table): `pack` rewrites pack_rows consecutive rows
// of n elements (row_stride bytes apart) into one group, in a layout private to the table that
// puts the rows side by side (one SIMD lane per row), so a block of every row is read with a few
// wide loads and nothing is transposed per call. A group takes exactly the bytes of the rows it
// replaces: pack_rows * row_size_bytes(type, n).
using PackFn = void (*)(int64_t n, const void* rows, size_t row_stride, void* group);

// What the packed kernels read of a 32-element activation block (Q8_0) besides its quants: the
// sum of the quants and the scale as a float (see block_sums() in matmul.h).
struct ActBlock {
  int32_t sum;
  float d;
};

// One packed group by n_tok activation rows: out[t * out_stride + r] = vec_dot(n, row r,
// a + t * a_stride) for r < pack_rows, bit for bit (so packing changes no result).
// blocks[t * (n / 32) + b] describes activation row t's block b (32-element activation types),
// nullptr for the others.
using GemmPackedFn = void (*)(int64_t n, const void* group, const void* a, size_t a_stride, const ActBlock* blocks,
                              int64_t n_tok, float* out, size_t out_stride);

struct TypeKernels {
  ToFloatFn to_float = nullptr;
  FromFloatFn from_float = nullptr;
  VecDotFn vec_dot = nullptr;
  VecDot2x2Fn vec_dot_2x2 = nullptr;  // optional: matmul falls back to vec_dot
  Gemm8Fn gemm8 = nullptr;            // optional: matmul falls back to vec_dot_2x2 / vec_dot
  int pack_rows = 0;                  // optional with pack and gemm_packed: rows per packed group
  PackFn pack = nullptr;
  GemmPackedFn gemm_packed = nullptr;
};

// Causal attention of the `group` query heads that share one key/value head (grouped-query
// attention; a group of 1 is one head) over float keys and values. Query head g of token i
// (i < n_q, at position p0 + i; its query at q + i * q_stride + g * head_dim) sees keys
// j <= p0 + i, and
//   out[i][g] = sum_j softmax_j(scale * dot(q[i][g], k[j])) * v[j]
// written at out + i * o_stride + g * head_dim. The keys come transposed: kt[c * kt_stride + j]
// is key j's element c (j < p0 + n_q), with kt_stride a multiple of 16 and every float of kt's
// head_dim rows readable (what lies past the last key is never used); v rows are v_stride floats
// apart. Every output depends only on its query, its position and the keys and values it sees,
// never on n_q, p0 or the group alone: a prompt evaluated as a batch gives what its tokens give
// one at a time, and a head what it gives alone, bit for bit.
using AttentionFn = void (*)(int64_t head_dim, int64_t group, int64_t n_q, int64_t p0, const float* q,
                             size_t q_stride, const float* kt, size_t kt_stride, const float* v, size_t v_stride,
                             float scale, float* out, size_t o_stride);
// dst[c * dst_stride + r] = src[r * src_stride + c] for the 16 rows r < 16 and c < n_cols: 16
// rows turned into columns (attention's keys, decoded as rows, laid out as kt). Moves bits only.
using Transpose16Fn = void (*)(const float* src, size_t src_stride, int64_t n_cols, float* dst, size_t dst_stride);
// x[i] = silu(gate[i]) * x[i] (SwiGLU's gating). Each element's result depends only on its own
// gate and x, not on n or its index.
using SwigluFn = void (*)(const float* gate, float* x, int64_t n);

struct Kernels {
  const char* isa = "generic";
  TypeKernels types[kGgmlTypeCount];
  AttentionFn attention = nullptr;  // set in every table (the reference: kernels/generic/ops.cpp)
  SwigluFn swiglu = nullptr;
  Transpose16Fn transpose16 = nullptr;  // set in every table

  const TypeKernels& of(GgmlType t) const { return types[static_cast<uint32_t>(t)]; }
};

// The scalar reference table (always complete for every supported type).
const Kernels& generic_kernels();
// Every table this CPU can run, the reference first and the fastest last.
const std::vector<const Kernels*>& available_kernels();
// The table named `isa` ("generic", "avx2", "avx512", "neon", "dotprod", "i8mm") when this CPU
// can run it, else nullptr.
const Kernels* find_kernels(std::string_view isa);
// The table in use, chosen once: the fastest available, or the one the environment variable
// PM_KERNELS names (e.g. PM_KERNELS=generic to rule out a SIMD kernel when chasing a bug; a
// name this CPU cannot run is reported on stderr and ignored).
const Kernels& active_kernels();

}  // namespace pm
