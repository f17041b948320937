// SentencePiece (tokenizer.ggml.model == "llama") as llama.cpp runs it on GGUF vocabularies:
//   1. a space is put before the text (add_space_prefix, also after every special token) and
//      every ' ' becomes U+2581;
//   2. the text starts as one symbol per UTF-8 character; repeatedly the adjacent pair whose
//      concatenation is a vocab token with the highest score is merged (leftmost on ties);
//   3. a final symbol that is not a token is emitted as its bytes, <0xXX> each (byte fallback),
//      or as the unknown token where the vocab has no byte tokens.
// Internal to the tokenizer layer.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace pm {

class SpmTokenizer final : public Tokenizer {
 public:
  // scores: [n_vocab] (or empty: all equal); call init() once the base fields are filled.
  SpmTokenizer(std::vector<float> scores, bool add_space_prefix)
      : scores_(std::move(scores)), add_space_prefix_(add_space_prefix) {}
  void init();

  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const override;
  std::string token_to_piece(TokenId id, bool render_special) const override;

  // Tokenizes one stretch of text whose spaces are already U+2581 (no prefix added).
  void encode_escaped(std::string_view text, std::vector<TokenId>& out) const;

 private:
  float score(TokenId id) const { return scores_.empty() ? 0.0f : scores_[id]; }

  std::vector<float> scores_;  // [n_vocab] or empty
  bool add_space_prefix_ = true;
  std::array<TokenId, 256> byte_tokens_{};  // <0xXX> ids, kNoToken where missing
};

}  // namespace pm
