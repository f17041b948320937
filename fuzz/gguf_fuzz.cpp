// libFuzzer target for the GGUF parser: any byte string must parse or fail with a Status.
// The same entry point runs over the corrupted-file corpus in the normal test suite
// (tests/conformance/gguf_corpus_test.cpp) so regressions show up without clang.
#include <cstddef>
#include <cstdint>

#include "formats/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = pm::GgufFile::parse(data, size, "fuzz.gguf");
  if (f.is_ok()) {
    // Touch everything the parser validated, as a consumer would.
    for (const auto& t : (*f)->tensors()) {
      volatile uint8_t sink = 0;
      if (t.size_bytes > 0) sink = sink + t.data[0] + t.data[t.size_bytes - 1];
      (void)sink;
    }
    for (const auto& kv : (*f)->metadata()) (void)kv.second.to_string();
  }
  return 0;
}
