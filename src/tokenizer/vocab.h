// What a tokenizer is built from: the tokenizer.ggml.* metadata of a GGUF file, read into plain
// fields so that the building (and all its validation) can also run on vocabularies made in
// code (tests, converters). Internal to the tokenizer layer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace pm {

struct VocabSpec {
  std::string source;               // file name, put before every error message ("model.gguf: ...")
  std::string name;                 // general.name (a few per-model token attributes depend on it)
  std::string model;                // tokenizer.ggml.model: "llama" | "gpt2" | "bert" | "rwkv"
  std::string pre;                  // tokenizer.ggml.pre ("" when absent)
  std::vector<std::string> tokens;  // tokenizer.ggml.tokens [n_vocab]
  std::vector<double> scores;       // tokenizer.ggml.scores: empty or [n_vocab]
  std::vector<int64_t> types;       // tokenizer.ggml.token_type: empty or [n_vocab], TokenType
  std::vector<std::string> merges;  // tokenizer.ggml.merges: "left right", rank = index
  bool has_merges = false;          // the merges key was present (required for gpt2)
  // rwkv: tokens already hold their bytes (World vocab file) rather than llama.cpp's escaped
  // text (GGUF), which building unescapes.
  bool tokens_are_bytes = false;

  // Special token ids as stored (nullopt when the key is absent). A stored -1 or 0xFFFFFFFF
  // means "none".
  std::optional<int64_t> bos, eos, eot, eom, unk, sep, pad, cls, mask;
  std::optional<bool> add_bos, add_eos, add_sep, add_space_prefix;
};

// Reads every tokenizer.ggml.* key the tokenizers use. Errors name the file and the key.
Result<VocabSpec> read_vocab_spec(const GgufFile& gguf);

// Validates the spec and builds the tokenizer for spec.model. Errors: no tokens, scores or
// types of the wrong length, unknown token type values, unknown model, special ids out of
// range, gpt2 without merges or with a malformed merge line.
Result<std::unique_ptr<Tokenizer>> build_tokenizer(VocabSpec spec);

}  // namespace pm
