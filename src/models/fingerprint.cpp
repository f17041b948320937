#include "models/fingerprint.h"

#include <algorithm>

namespace pm {

void ModelFingerprint::add_tensor(std::string_view name, GgmlType type, const std::vector<int64_t>& ne,
                                  const uint8_t* data, uint64_t size_bytes) {
  constexpr uint64_t kSample = 256;
  h_.update(name);
  h_.update_u64(static_cast<uint32_t>(type));
  h_.update_u64(ne.size());
  for (int64_t d : ne) h_.update_u64(uint64_t(d));
  h_.update_u64(size_bytes);
  if (data == nullptr || size_bytes == 0) return;
  const uint64_t n = std::min(kSample, size_bytes);
  h_.update(data, n);
  h_.update(data + (size_bytes - n) / 2, n);
  h_.update(data + size_bytes - n, n);
}

}  // namespace pm
