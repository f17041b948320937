// A realistic Qwen2.5-sized vocabulary (151,665 ids) for benchmarking and testing token masks,
// built deterministically from the real byte-level BPE vocabularies in the shared fixtures.
//
// No 150k-token vocabulary ships with the fixtures, and `pocketmind synth` writes filler pieces
// ("▁synth123"), which a trie prunes trivially. Real Qwen2.5 vocabularies are GPT-2 byte-level
// BPE: English and code pieces, many multi-byte UTF-8 Chinese tokens, whitespace runs. This one:
//   1. every regular token piece of ggml-vocab-{gpt-2,deepseek-coder,falcon,starcoder,refact}.gguf
//      (decoded to bytes, duplicates removed; about 110k distinct pieces);
//   2. the 256 single bytes (byte-level BPE can produce any byte);
//   3. every CJK unified ideograph U+4E00..U+9FA5 (20,902), with a leading space for the first
//      3,500, CJK punctuation U+3000..U+303F and full-width forms U+FF01..U+FF5E;
//   4. whitespace runs: 1..80 spaces, 1..16 newlines, newline + 1..32 spaces or 1..8 tabs, tabs;
//   5. Chinese words of 2..4 ideographs drawn from the first 3,500 (mt19937_64, seed 150) until
//      there are 25,000 of them (a leading space on every fifth);
//   6. merges of two pieces from step 1 that start with a letter or a space (same generator)
//      until there are 151,643 regular tokens.
// Ids: regular tokens in the order above, then 22 control tokens with empty pieces; ids 151,643
// ("<|endoftext|>") and 151,645 ("<|im_end|>") end generation, as in Qwen2.5.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "generate/grammar/matcher.h"

namespace pm {

struct SyntheticVocab {
  std::vector<std::string> pieces;  // [151,665]; "" for control tokens
  std::vector<TokenId> eog;
};

inline constexpr int32_t kSyntheticVocabRegular = 151643;
inline constexpr int32_t kSyntheticVocabSize = 151665;

// fixture_tokenizer_dir: the directory holding ggml-vocab-*.gguf (shared/fixtures/tokenizer).
Result<SyntheticVocab> build_qwen_like_vocab(const std::string& fixture_tokenizer_dir);

}  // namespace pm
