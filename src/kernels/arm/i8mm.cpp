// ARMv8.6 int8 matrix-multiply kernels (SMMLA), over the dotprod table: the two-by-two dot
// products of prompt processing. One SMMLA multiplies a 2x8 block of activations (two rows)
// by a 2x8 block of weights (two rows) into a 2x2 int32 tile, so 16 elements of all four
// (weight row, activation row) pairs take two instructions. The block decoders are
// kernels/arm/quant_dot.h's, compiled here for +i8mm; the float steps are the reference's, so
// every output equals vec_dot's (and the reference's) to the bit.
#if defined(__aarch64__)
#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/quant_dot.h"
#include "kernels/ggml_types.h"
#include "kernels/isa.h"

namespace pm {
namespace {

// The 2x2 tile of arm::vec_dot_2x2_*: SMMLA multiplies the 2x8 activation block [a0 | a1] by
// the 2x8 weight block [w0 | w1] transposed, giving [c0r0, c0r1, c1r0, c1r1] directly.
struct MmlaTile {
  int32x4_t p = vdupq_n_s32(0);
  void add(int8x16_t w0, int8x16_t w1, int8x16_t a0, int8x16_t a1) {
    p = vmmlaq_s32(p, arm::zip_lo64(a0, a1), arm::zip_lo64(w0, w1));
    p = vmmlaq_s32(p, arm::zip_hi64(a0, a1), arm::zip_hi64(w0, w1));
  }
  int32x4_t sums() const { return p; }
};

}  // namespace

void add_i8mm_kernels(Kernels& k) {
  auto at = [&](GgmlType t) -> TypeKernels& { return k.types[static_cast<uint32_t>(t)]; };
  using GT = GgmlType;

  at(GT::kQ4_0).vec_dot_2x2 = arm::vec_dot_2x2_32<MmlaTile, arm::FmtQ4_0>;
  at(GT::kQ4_1).vec_dot_2x2 = arm::vec_dot_2x2_32<MmlaTile, arm::FmtQ4_1>;
  at(GT::kQ5_0).vec_dot_2x2 = arm::vec_dot_2x2_32<MmlaTile, arm::FmtQ5_0>;
  at(GT::kQ5_1).vec_dot_2x2 = arm::vec_dot_2x2_32<MmlaTile, arm::FmtQ5_1>;
  at(GT::kQ8_0).vec_dot_2x2 = arm::vec_dot_2x2_32<MmlaTile, arm::FmtQ8_0>;
  at(GT::kQ2_K).vec_dot_2x2 = arm::vec_dot_2x2_k<MmlaTile, arm::FmtQ2_K>;
  at(GT::kQ3_K).vec_dot_2x2 = arm::vec_dot_2x2_k<MmlaTile, arm::FmtQ3_K>;
  at(GT::kQ4_K).vec_dot_2x2 = arm::vec_dot_2x2_k<MmlaTile, arm::FmtQ4_K>;
  at(GT::kQ5_K).vec_dot_2x2 = arm::vec_dot_2x2_k<MmlaTile, arm::FmtQ5_K>;
  at(GT::kQ6_K).vec_dot_2x2 = arm::vec_dot_2x2_k<MmlaTile, arm::FmtQ6_K>;
}

}  // namespace pm
#endif  // __aarch64__
