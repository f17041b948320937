#include "kernels/kernels.h"

#include <cstdio>
#include <deque>
#include <cstdlib>
#include <string>

#include "core/cpu_features.h"
#include "kernels/generic/generic.h"
#include "kernels/isa.h"
#include "kernels/ops.h"

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
  k.attention = generic::attention;
  k.transpose16 = generic::transpose16;
  k.swiglu = swiglu;
  return k;
}

// Each table extends the one before it (the reference first); only what the CPU runs is built.
std::vector<const Kernels*> make_available() {
  static std::deque<Kernels> owned;  // the tables live as long as the process (stable addresses)
  std::vector<const Kernels*> out{&generic_kernels()};
  auto extend = [&](const char* isa, void (*add)(Kernels&)) {
    Kernels& k = owned.emplace_back(*out.back());
    k.isa = isa;
    add(k);
    out.push_back(&k);
  };
  const CpuFeatures& f = cpu_features();
  (void)f;
  (void)extend;
#if defined(__x86_64__)
  if (f.avx2 && f.fma && f.f16c) {
    extend("avx2", add_avx2_kernels);
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni) extend("avx512", add_avx512_kernels);
  }
#endif
#if defined(__aarch64__)
  extend("neon", add_neon_kernels);
  if (f.dotprod) {
    extend("dotprod", add_dotprod_kernels);
    if (f.i8mm) extend("i8mm", add_i8mm_kernels);
  }
#endif
  return out;
}

const Kernels& choose_active() {
  const std::vector<const Kernels*>& all = available_kernels();
  if (const char* want = std::getenv("PM_KERNELS"); want != nullptr && *want != '\0') {
    if (const Kernels* k = find_kernels(want)) return *k;
    std::string names;
    for (const Kernels* k : all) names += std::string(names.empty() ? "" : ", ") + k->isa;
    std::fprintf(stderr, "pocketmind: PM_KERNELS=%s is not available on this CPU (available: %s); using %s\n", want,
                 names.c_str(), all.back()->isa);
  }
  return *all.back();
}

}  // namespace

const Kernels& generic_kernels() {
  static const Kernels k = make_generic();
  return k;
}

const std::vector<const Kernels*>& available_kernels() {
  static const std::vector<const Kernels*> all = make_available();
  return all;
}

const Kernels* find_kernels(std::string_view isa) {
  for (const Kernels* k : available_kernels()) {
    if (isa == k->isa) return k;
  }
  return nullptr;
}

const Kernels& active_kernels() {
  static const Kernels& k = choose_active();
  return k;
}

}  // namespace pm
