// libFuzzer target for the rwkv.cpp .bin reader: any byte string must parse or fail with a
// Status. A file that parses is also built into a model (binding every tensor by name and
// shape) and, when that succeeds, run for one token, as `pocketmind` would.
// The same entry point runs over a corpus of corrupted files in the normal test suite
// (tests/conformance/rwkv_test.cpp) so regressions show up without clang.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "formats/rwkv_bin.h"
#include "models/rwkv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = pm::RwkvBinFile::parse(data, size, "fuzz.bin");
  if (!f.is_ok()) return 0;
  // Touch everything the parser validated, as a consumer would.
  for (const auto& t : (*f)->tensors()) {
    volatile uint8_t sink = 0;
    if (t.size_bytes > 0) sink = sink + t.data[0] + t.data[t.size_bytes - 1];
    (void)sink;
  }
  auto model = pm::load_rwkv_model(std::shared_ptr<const pm::RwkvBinFile>(std::move(f).value()));
  if (!model.is_ok()) return 0;
  auto state = (*model)->new_state(0);
  if (!state.is_ok()) return 0;
  std::vector<float> logits(size_t((*model)->info().n_vocab));
  const pm::TokenId token = 0;
  (void)(*model)->eval(**state, &token, 1, logits.data(), false);
  return 0;
}
