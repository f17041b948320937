// Tokenizers built from GGUF metadata (tokenizer.ggml.*): SentencePiece ("llama"), byte-level
// BPE ("gpt2") with the pre-tokenizer presets real models use, WordPiece ("bert") and the RWKV
// World greedy longest-match tokenizer ("rwkv", also read from its vocab text file).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace pm {

class GgufFile;
struct VocabSpec;  // tokenizer/vocab.h

using TokenId = int32_t;
inline constexpr TokenId kNoToken = -1;

enum class VocabKind { kSentencePiece, kBpe, kWordPiece, kRwkvWorld };

// tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6,
};

struct SpecialTokens {
  TokenId bos = kNoToken, eos = kNoToken, eot = kNoToken, unk = kNoToken, pad = kNoToken;
  TokenId sep = kNoToken, cls = kNoToken, mask = kNoToken;
  TokenId eom = kNoToken;  // end of message (<|eom_id|>): also ends generation
  bool add_bos = false;  // tokenizer.ggml.add_bos_token (defaults per vocab kind)
  bool add_eos = false;  // tokenizer.ggml.add_eos_token
  bool add_sep = false;  // tokenizer.ggml.add_sep_token ([SEP] after the text: WordPiece, roberta)
};

class Tokenizer {
 public:
  // Builds the tokenizer a GGUF file describes; errors name the missing or malformed key.
  static Result<std::unique_ptr<Tokenizer>> from_gguf(const GgufFile& gguf);
  // The RWKV World vocab text file (rwkv_vocab_v20230424.txt: "ID LITERAL LENGTH" per line,
  // ids 1..N; id 0 is <|endoftext|>). Errors name the file and the line.
  static Result<std::unique_ptr<Tokenizer>> from_rwkv_vocab_file(const std::string& path);
  // 256 tokens, id = byte value, no special tokens: for models that carry no vocabulary (the
  // tiny byte-level rwkv.cpp test models).
  static std::unique_ptr<Tokenizer> byte_level();
  Tokenizer() = default;
  virtual ~Tokenizer() = default;
  Tokenizer(const Tokenizer&) = delete;  // the lookup tables hold views into tokens_
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_special: add BOS/EOS (or [CLS]/[SEP]) as the model's metadata asks.
  // parse_special: text like "<|im_start|>" becomes that control token instead of plain text.
  // User-defined tokens (token_type 4) are matched in the text either way, as llama.cpp and
  // Hugging Face tokenizers do; the text between matches is tokenized normally.
  virtual std::vector<TokenId> encode(std::string_view text, bool add_special,
                                      bool parse_special) const = 0;

  // The bytes a token stands for (may be part of a UTF-8 character). Control tokens render as
  // their text only when render_special is true, otherwise as "".
  virtual std::string token_to_piece(TokenId id, bool render_special) const = 0;
  std::string decode(const std::vector<TokenId>& ids, bool render_special = false) const;

  VocabKind kind() const { return kind_; }
  int32_t n_vocab() const { return static_cast<int32_t>(tokens_.size()); }
  const SpecialTokens& special() const { return special_; }
  const std::string& token_text(TokenId id) const { return tokens_[id]; }
  TokenType token_type(TokenId id) const;
  // End of generation: eos, eot, and tokens such as <|im_end|>, <|eot_id|>, <|endoftext|>.
  bool is_eog(TokenId id) const;
  bool is_control(TokenId id) const;
  std::optional<TokenId> find(std::string_view token_text) const;
  std::string pre_tokenizer() const { return pre_; }  // tokenizer.ggml.pre ("" for SPM/WPM)
  // Non-fatal remarks from loading (e.g. an unknown tokenizer.ggml.pre replaced by gpt-2's
  // expression); "" when there are none. Callers decide whether to show them.
  const std::string& load_note() const { return note_; }

 protected:
  VocabKind kind_ = VocabKind::kSentencePiece;
  std::string pre_;
  std::vector<std::string> tokens_;
  std::vector<TokenType> types_;  // empty or one per token
  SpecialTokens special_;
  std::vector<TokenId> eog_;      // sorted
  std::vector<std::pair<std::string_view, TokenId>> by_text_;  // sorted, views into tokens_
  // Fills by_text_ and eog_ after tokens_/types_/special_ are set.
  void index_vocab();

  // Exact text -> id for the encoders' inner loops (kNoToken when absent). When two tokens share
  // a text the higher id wins, as in llama.cpp.
  TokenId lookup(std::string_view text) const {
    auto it = text_to_id_.find(text);
    return it == text_to_id_.end() ? kNoToken : it->second;
  }

  // The input cut at special-token texts: raw text (token == kNoToken) and matched tokens, in
  // order. User-defined tokens are always matched; control and unknown-type tokens only with
  // parse_special. Longer texts are matched first.
  struct Fragment {
    std::string_view text;
    TokenId token = kNoToken;
  };
  std::vector<Fragment> split_special(std::string_view text, bool parse_special) const;

  // decode(): drop one leading space from the first token after an optional BOS (the space the
  // encoder prefixed: SentencePiece's add_space_prefix, WordPiece's word marker).
  bool strip_leading_space_ = false;
  std::string note_;
  std::unordered_map<std::string_view, TokenId> text_to_id_;  // views into tokens_
  std::vector<TokenId> special_by_length_;  // control/user-defined/unknown ids, longest text first
  std::vector<uint8_t> strip_;  // empty, or per token: bit 0 = eat spaces before, bit 1 = after

  friend Result<std::unique_ptr<Tokenizer>> build_tokenizer(VocabSpec spec);
};

// Turns a stream of tokens into text without ever splitting a UTF-8 character: bytes of an
// incomplete character are held back until the rest arrives (or flush()).
class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tok, bool render_special = false)
      : tok_(tok), render_special_(render_special) {}
  // Returns the complete UTF-8 text that this token finishes (possibly "").
  std::string push(TokenId id);
  // Returns whatever is held back (invalid sequences as U+FFFD).
  std::string flush();

 private:
  const Tokenizer& tok_;
  bool render_special_;
  std::string pending_;
};

}  // namespace pm
