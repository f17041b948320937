// The per-ISA kernel tables (kernels/x86/*.cpp, kernels/arm/*.cpp). Each overrides the entries
// its instruction set speeds up in a copy of the reference table, and leaves the others alone;
// kernels.cpp builds only the ones the CPU can run.
#pragma once

#include "kernels/kernels.h"

namespace pm {

#if defined(__x86_64__)
void add_avx2_kernels(Kernels& k);    // AVX2 + FMA + F16C
void add_avx512_kernels(Kernels& k);  // AVX-512 F/BW/VL + VNNI, over the AVX2 table
#endif
#if defined(__aarch64__)
void add_neon_kernels(Kernels& k);     // ARMv8.0 Advanced SIMD (every aarch64 CPU)
void add_dotprod_kernels(Kernels& k);  // ARMv8.2 SDOT/UDOT, over the NEON table
void add_i8mm_kernels(Kernels& k);     // ARMv8.6 SMMLA, over the dotprod table
#endif

}  // namespace pm
