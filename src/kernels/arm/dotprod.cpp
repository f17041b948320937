// ARM dotprod kernels (placeholder until written): the table stays the one it extends.
#if defined(__aarch64__)
#include "kernels/isa.h"

namespace pm {
void add_dotprod_kernels(Kernels&) {}
}  // namespace pm
#endif
