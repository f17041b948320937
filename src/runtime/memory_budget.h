// Choosing a context size that fits a memory budget, before anything is allocated, so that a
// phone app is refused with a clear message instead of being killed by the OS later.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "models/model.h"

namespace pm {

struct MemoryPlan {
  int64_t n_ctx = 0;
  uint64_t weights_bytes = 0;
  uint64_t state_bytes = 0;    // KV cache at n_ctx, or the recurrent state
  uint64_t scratch_bytes = 0;  // activations, logits (estimate for batches of up to n_batch)
  uint64_t total_bytes() const { return weights_bytes + state_bytes + scratch_bytes; }
};

// requested_ctx 0: the largest context up to min(training context, 4096) that fits.
// budget_bytes 0: no budget (returns the requested / default context).
// Fails with resource_exhausted, naming the sizes, when even a minimal context cannot fit or
// the requested one does not.
Result<MemoryPlan> plan_memory(const ModelInfo& info, int64_t requested_ctx, uint64_t budget_bytes, int64_t n_batch = 512);

// Parses "4G", "512M", "1.5GiB", "2000000000" into bytes.
Result<uint64_t> parse_byte_size(const std::string& text);

}  // namespace pm
