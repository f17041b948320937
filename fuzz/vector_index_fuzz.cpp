// libFuzzer target for the vector index file (DIR/vectors.pmvi): any byte string must load or
// fail with a Status, and an index that loads must answer searches. The input is the file
// without its trailing checksum, which is appended here: otherwise nearly every mutation would
// stop at the checksum and the structure checks behind it would never be reached.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/hash.h"
#include "store/vector_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> file(data, data + size);
  const uint64_t sum = pm::fnv1a64(file.data(), file.size());
  const uint8_t* s = reinterpret_cast<const uint8_t*>(&sum);
  file.insert(file.end(), s, s + 8);
  auto idx = pm::store::VectorIndex::parse(file.data(), file.size(), "fuzz.pmvi");
  if (!idx.is_ok()) return 0;
  pm::store::VectorIndex& v = **idx;
  std::vector<float> q(v.dim(), 0.0f);
  if (!q.empty()) q[0] = 1.0f;
  (void)v.search(q.data(), 10);
  (void)v.search_exact(q.data(), 10);
  (void)v.search_codes(q.data(), 10);
  return 0;
}
