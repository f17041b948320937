// Regex pre-tokenization for byte-level BPE (tokenizer.ggml.pre presets).
//
// A preset is a list of regular expressions applied in sequence: the first splits the text,
// each later one splits every piece the previous produced. A regex splits a piece into its
// matches AND the gaps between them (text no alternative matched stays a piece of its own), and
// sees only that piece (lookarounds stop at the piece's ends). Expressions are PCRE2 in UTF +
// UCP mode, so \p{L}, \p{N}, \s follow Unicode properties.
//
// Text that is not valid UTF-8 is cut into its valid runs, each split as above, and every
// invalid byte becomes a piece of its own (so no byte is ever dropped).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pm {

// What a tokenizer.ggml.pre name selects, besides its regexes.
struct PreTokenizerPreset {
  std::vector<std::string> patterns;
  bool ignore_merges = false;  // a whole pre-token that is in the vocab is emitted as is (llama3)
  bool add_bos = false;        // default of tokenizer.ggml.add_bos_token
  bool add_sep = false;        // default of tokenizer.ggml.add_sep_token (roberta-style)
  bool known = true;           // false: name not recognised, gpt-2's expression used instead
};

// Looks up a preset by its tokenizer.ggml.pre name ("gpt-2", "llama-bpe", "qwen2", ...).
// Unknown and empty names give gpt-2's expression with known == false.
PreTokenizerPreset pre_tokenizer_preset(std::string_view name);

class PreTokenizer {
 public:
  // Compiles the expressions; an invalid one is an error naming it and PCRE2's message.
  static Result<std::unique_ptr<PreTokenizer>> create(const std::vector<std::string>& patterns);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Pieces of `text` in order; they are views into text and together cover all of it.
  // Thread-safe (match state is per call).
  std::vector<std::string_view> split(std::string_view text) const;

 private:
  PreTokenizer() = default;
  struct Regex;
  void split_one(const Regex& re, std::string_view piece, std::vector<std::string_view>& out) const;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace pm
