// The kernel table: every hot operation as a function pointer, one table per instruction set.
//
// kernels/generic/ holds the plain scalar reference of every op; per-ISA tables
// (kernels/x86/, kernels/arm/) override entries and are tested against the reference.
// `active_kernels()` picks a table once, from the CPU features detected at start-up.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ggml_types.h"

namespace pm {

// Decodes n elements (a multiple of the block size) from blocks to floats.
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
// Encodes n floats (a multiple of the block size) into blocks (round-to-nearest reference).
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of one weight row (n elements of the weight type) with one activation row
// already converted to the type's vec_dot_type.
using VecDotFn = float (*)(int64_t n, const void* weights, const void* activations);

struct TypeKernels {
  ToFloatFn to_float = nullptr;
  FromFloatFn from_float = nullptr;
  VecDotFn vec_dot = nullptr;
};

struct Kernels {
  const char* isa = "generic";
  TypeKernels types[kGgmlTypeCount];

  const TypeKernels& of(GgmlType t) const { return types[static_cast<uint32_t>(t)]; }
};

// The scalar reference table (always complete for every supported type).
const Kernels& generic_kernels();
// The table in use: best for this CPU, chosen once.
const Kernels& active_kernels();

}  // namespace pm
