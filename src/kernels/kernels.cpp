#include "kernels/kernels.h"

#include "kernels/generic/generic.h"

namespace pm {
namespace {

Kernels make_generic() {
  Kernels k;
  k.isa = "generic";
  auto set = [&](GgmlType t, ToFloatFn to, FromFloatFn from, VecDotFn dot) {
    k.types[static_cast<uint32_t>(t)] = TypeKernels{to, from, dot};
  };
#define PM_SET(T, t) set(GgmlType::T, generic::t##_to_float, generic::t##_from_float, generic::t##_vec_dot)
  PM_SET(kF32, f32);
  PM_SET(kF16, f16);
  PM_SET(kBF16, bf16);
  PM_SET(kQ4_0, q4_0);
  PM_SET(kQ4_1, q4_1);
  PM_SET(kQ5_0, q5_0);
  PM_SET(kQ5_1, q5_1);
  PM_SET(kQ8_0, q8_0);
  PM_SET(kQ8_1, q8_1);
  PM_SET(kQ2_K, q2_k);
  PM_SET(kQ3_K, q3_k);
  PM_SET(kQ4_K, q4_k);
  PM_SET(kQ5_K, q5_k);
  PM_SET(kQ6_K, q6_k);
  PM_SET(kQ8_K, q8_k);
#undef PM_SET
  return k;
}

}  // namespace

const Kernels& generic_kernels() {
  static const Kernels k = make_generic();
  return k;
}

const Kernels& active_kernels() {
  // Per-ISA tables (x86 AVX2 / AVX-512, ARM NEON dotprod / i8mm) will be chosen here from the
  // CPU features detected once at start-up; until they exist every CPU runs the reference.
  return generic_kernels();
}

}  // namespace pm
