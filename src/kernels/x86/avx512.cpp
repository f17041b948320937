// AVX-512 VNNI kernels: the AVX2 code with 8-bit products summed by vpdpbusd / vpdpwssd
// (256-bit forms, AVX-512 VL) instead of maddubs + madd. The code is in quants_x86.inc.
#if defined(__x86_64__)
#include <type_traits>

#define PM_X86_NS avx512
#define PM_X86_VNNI 1
#include "kernels/x86/quants_x86.inc"

namespace pm {
void add_avx512_kernels(Kernels& k) { avx512::fill(k); }
}  // namespace pm
#endif
