// ARMv8.2 dot-product kernels (SDOT), over the NEON table: the int8 dot products of every
// block format, and two-by-two forms that decode each weight block once for two activation
// rows. The decoders are kernels/arm/quant_dot.h's, compiled here for +dotprod.
#if defined(__aarch64__)
#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/quant_dot.h"
#include "kernels/ggml_types.h"
#include "kernels/isa.h"

namespace pm {
namespace {

struct SdotDot {
  static int32x4_t acc(int32x4_t acc, int8x16_t w, int8x16_t a) { return vdotq_s32(acc, w, a); }
};

}  // namespace

void add_dotprod_kernels(Kernels& k) {
  auto at = [&](GgmlType t) -> TypeKernels& { return k.types[static_cast<uint32_t>(t)]; };
  using GT = GgmlType;
  using D = SdotDot;

  at(GT::kQ4_0).vec_dot = arm::vec_dot_32<D, arm::FmtQ4_0>;
  at(GT::kQ4_1).vec_dot = arm::vec_dot_32<D, arm::FmtQ4_1>;
  at(GT::kQ5_0).vec_dot = arm::vec_dot_32<D, arm::FmtQ5_0>;
  at(GT::kQ5_1).vec_dot = arm::vec_dot_32<D, arm::FmtQ5_1>;
  at(GT::kQ8_0).vec_dot = arm::vec_dot_32<D, arm::FmtQ8_0>;
  at(GT::kQ8_1).vec_dot = arm::vec_dot_32<D, arm::FmtQ8_1>;
  at(GT::kQ2_K).vec_dot = arm::vec_dot_k<D, arm::FmtQ2_K>;
  at(GT::kQ3_K).vec_dot = arm::vec_dot_k<D, arm::FmtQ3_K>;
  at(GT::kQ4_K).vec_dot = arm::vec_dot_k<D, arm::FmtQ4_K>;
  at(GT::kQ5_K).vec_dot = arm::vec_dot_k<D, arm::FmtQ5_K>;
  at(GT::kQ6_K).vec_dot = arm::vec_dot_k<D, arm::FmtQ6_K>;
  at(GT::kQ8_K).vec_dot = arm::vec_dot_q8_k<D>;

  at(GT::kQ4_0).vec_dot_2x2 = arm::vec_dot_2x2_32<arm::DotTile<D>, arm::FmtQ4_0>;
  at(GT::kQ4_1).vec_dot_2x2 = arm::vec_dot_2x2_32<arm::DotTile<D>, arm::FmtQ4_1>;
  at(GT::kQ5_0).vec_dot_2x2 = arm::vec_dot_2x2_32<arm::DotTile<D>, arm::FmtQ5_0>;
  at(GT::kQ5_1).vec_dot_2x2 = arm::vec_dot_2x2_32<arm::DotTile<D>, arm::FmtQ5_1>;
  at(GT::kQ8_0).vec_dot_2x2 = arm::vec_dot_2x2_32<arm::DotTile<D>, arm::FmtQ8_0>;
  at(GT::kQ2_K).vec_dot_2x2 = arm::vec_dot_2x2_k<arm::DotTile<D>, arm::FmtQ2_K>;
  at(GT::kQ3_K).vec_dot_2x2 = arm::vec_dot_2x2_k<arm::DotTile<D>, arm::FmtQ3_K>;
  at(GT::kQ4_K).vec_dot_2x2 = arm::vec_dot_2x2_k<arm::DotTile<D>, arm::FmtQ4_K>;
  at(GT::kQ5_K).vec_dot_2x2 = arm::vec_dot_2x2_k<arm::DotTile<D>, arm::FmtQ5_K>;
  at(GT::kQ6_K).vec_dot_2x2 = arm::vec_dot_2x2_k<arm::DotTile<D>, arm::FmtQ6_K>;
}

}  // namespace pm
#endif  // __aarch64__
