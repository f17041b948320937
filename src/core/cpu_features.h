// The instruction-set extensions of the CPU we run on, detected once.
#pragma once

#include <string>

namespace pm {

struct CpuFeatures {
  // x86-64
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false;
  // aarch64 (NEON itself is part of the base architecture)
  bool neon = false, dotprod = false, i8mm = false;

  std::string to_string() const;  // "avx2 fma f16c avx512f ..." (what is present)
};

const CpuFeatures& cpu_features();

}  // namespace pm
