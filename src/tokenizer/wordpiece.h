// WordPiece (tokenizer.ggml.model == "bert"):
//   1. BERT basic tokenization: control characters dropped, text lowercased, accents stripped
//      (NFD, then combining marks removed), split on whitespace, every punctuation character and
//      every CJK ideograph made a word of its own;
//   2. each word greedily matched longest-piece-first from its start; a word with any
//      unmatchable rest becomes the unknown token as a whole.
// Vocab conventions: llama.cpp's GGUF files mark word-initial pieces with a U+2581 prefix and
// store continuations bare ("▁hello", "ing"); Hugging Face vocabularies store word-initial
// pieces bare and continuations with "##". Both are recognised (by which kind the vocab holds).
// Internal to the tokenizer layer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace pm {

class WordPieceTokenizer final : public Tokenizer {
 public:
  WordPieceTokenizer() = default;
  void init();  // once the base fields are filled

  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const override;
  std::string token_to_piece(TokenId id, bool render_special) const override;

  // BERT basic tokenization (step 1): the normalized words, in order.
  static std::vector<std::string> basic_tokenize(std::string_view text);

 private:
  void encode_word(std::string_view word, std::vector<TokenId>& out) const;

  bool hf_style_ = false;  // "##" continuations instead of U+2581 word starts
  size_t max_token_bytes_ = 0;
};

}  // namespace pm
