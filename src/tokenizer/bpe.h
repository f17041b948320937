// Byte-level BPE (tokenizer.ggml.model == "gpt2"):
//   1. the text is cut into pre-tokens by the regex preset tokenizer.ggml.pre names;
//   2. each pre-token's bytes are mapped to GPT-2's printable byte alphabet;
//   3. within a pre-token, the adjacent pair ranked first in tokenizer.ggml.merges (its index)
//      is merged until no listed pair remains (leftmost first among equal ranks);
//   4. every final symbol is looked up in the vocab.
// With ignore_merges (llama3-style presets) a pre-token that is itself a token is emitted whole.
// Internal to the tokenizer layer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace pm {

class BpeTokenizer final : public Tokenizer {
 public:
  // merges: "left right" lines, rank = index. Errors name the first malformed line.
  static Result<std::unique_ptr<BpeTokenizer>> create(const std::vector<std::string>& merges,
                                                      const PreTokenizerPreset& preset);

  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const override;
  std::string token_to_piece(TokenId id, bool render_special) const override;

  // Tokenizes plain text (no special-token matching, nothing added).
  void encode_plain(std::string_view text, std::vector<TokenId>& out) const;
  size_t n_merges() const { return ranks_.size(); }

 private:
  BpeTokenizer() = default;
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Rank of merging `left` with `right`, or -1. `key` is scratch space.
  int32_t rank(std::string_view left, std::string_view right, std::string& key) const;
  void encode_word(std::string_view word, std::vector<TokenId>& out) const;

  // "left" 0xFF "right" -> rank (0xFF never occurs in UTF-8, so the key is unambiguous).
  std::unordered_map<std::string, int32_t, KeyHash, std::equal_to<>> ranks_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  bool ignore_merges_ = false;
};

}  // namespace pm
