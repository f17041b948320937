// Runs the GGUF fuzz target's entry point over a deterministic corpus of corrupted files:
// random bit flips, overwritten length/count fields, truncations and splices of real GGUF
// files. Every input must parse or fail with a Status; the sanitizer build turns any
// out-of-bounds read into a failure.
#include <cstring>
#include <random>

#include "formats/gguf.h"
#include "test_util.h"
// The fuzz target under a name of its own (the test program holds more than one).
#define LLVMFuzzerTestOneInput gguf_fuzz_one_input
#include "../../fuzz/gguf_fuzz.cpp"
#undef LLVMFuzzerTestOneInput

namespace pm {
namespace {

std::vector<uint8_t> small_model() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
  w.set_f32_array("tokenizer.ggml.scores", {0, 1, 2});
  std::vector<uint8_t> q(34 * 4, 1);
  EXPECT_TRUE(w.add_tensor("w", GgmlType::kQ8_0, {64, 2}, q.data(), q.size()).is_ok());
  return w.to_bytes();
}

void mutate_and_run(const std::vector<uint8_t>& seed_file, uint32_t seed, int rounds, size_t header_limit) {
  std::mt19937 rng(seed);
  const size_t limit = std::min(seed_file.size(), header_limit);
  for (int r = 0; r < rounds; ++r) {
    std::vector<uint8_t> b(seed_file.begin(), seed_file.begin() + long(limit));
    const int kind = int(rng() % 5);
    const size_t at = rng() % b.size();
    switch (kind) {
      case 0: b[at] ^= uint8_t(1u << (rng() % 8)); break;                       // bit flip
      case 1: for (int i = 0; i < 8 && at + size_t(i) < b.size(); ++i) b[at + size_t(i)] = 0xff; break;  // huge u64
      case 2: b.resize(at); break;                                              // truncation
      case 3: { const uint64_t v = rng() % 64; if (at + 8 <= b.size()) std::memcpy(&b[at], &v, 8); } break;  // small count
      case 4: { const size_t from = rng() % b.size(); b.insert(b.begin() + long(at), b.begin() + long(from), b.begin() + long(std::min(b.size(), from + 16))); } break;  // splice
    }
    std::vector<uint8_t> exact(b);  // exact-size allocation: overreads are caught by ASan
    gguf_fuzz_one_input(exact.data(), exact.size());
  }
}

TEST(GgufCorpus, MutatedSmallModels) {
  mutate_and_run(small_model(), 1234, 20000, SIZE_MAX);
}

TEST(GgufCorpus, MutatedRealVocabHeader) {
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-bert-bge.gguf");
  const std::string text = test::read_text(path);
  const std::vector<uint8_t> bytes(text.begin(), text.end());
  // Mutations concentrate on the first 4 KB (header, first keys), where the structure is.
  mutate_and_run(bytes, 99, 300, 4096);
  // And a few over the whole file.
  mutate_and_run(bytes, 7, 20, SIZE_MAX);
}

}  // namespace
}  // namespace pm
