// AVX2 + FMA + F16C kernels (x86-64 CPUs since 2013-2015). The code is in quants_x86.inc.
#if defined(__x86_64__)
#include <type_traits>

#define PM_X86_NS avx2
#define PM_X86_VNNI 0
#include "kernels/x86/quants_x86.inc"

namespace pm {
void add_avx2_kernels(Kernels& k) { avx2::fill(k); }
}  // namespace pm
#endif
