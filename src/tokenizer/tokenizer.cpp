// The vocab-independent half of the tokenizer layer: reading tokenizer.ggml.* metadata,
// validating it, building the right tokenizer, special-token matching, decoding, streaming.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "formats/gguf.h"
#include "tokenizer/bpe.h"
#include "tokenizer/rwkv_world.h"
#include "tokenizer/spm.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece.h"

namespace pm {
namespace {

// Texts of tokens that end a turn in the chat formats of common model families. Present in a
// vocab, they end generation; all but "</s>" are also treated as control tokens (never plain
// text), as llama.cpp does.
constexpr std::array<std::string_view, 12> kEndOfTurnTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>",         "<end_of_turn>",      "<|endoftext|>", "<|eom_id|>",
    "<EOT>",      "_<EOT>",     "<|end_of_text|>", "<end_of_utterance>", "<|return|>",    "<|call|>"};
// Preference order when picking tokenizer.ggml.eot_token_id for a vocab that does not set it.
constexpr std::array<std::string_view, 10> kEotCandidates = {
    "<|eot_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>",         "<|endoftext|>",
    "<|end_of_text|>", "<EOT>",      "_<EOT>",  "<｜end▁of▁sentence｜>", "<end_of_utterance>"};

constexpr uint8_t kStripLeft = 1, kStripRight = 2;

bool is_c_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

TokenId find_text(const std::vector<std::string>& tokens, std::string_view text) {
  for (size_t i = tokens.size(); i-- > 0;) {
    if (tokens[i] == text) return static_cast<TokenId>(i);
  }
  return kNoToken;
}

std::string lowercase_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reading and building

Result<VocabSpec> read_vocab_spec(const GgufFile& gguf) {
  VocabSpec spec;
  spec.source = gguf.path();
  PM_ASSIGN_OR_RETURN(spec.model, gguf.get_string("tokenizer.ggml.model"));
  PM_ASSIGN_OR_RETURN(spec.pre, gguf.get_string_or("tokenizer.ggml.pre", ""));
  PM_ASSIGN_OR_RETURN(spec.name, gguf.get_string_or("general.name", ""));
  {
    PM_ASSIGN_OR_RETURN(const std::vector<std::string>* tokens, gguf.get_string_array("tokenizer.ggml.tokens"));
    spec.tokens = *tokens;
  }
  if (gguf.find("tokenizer.ggml.scores") != nullptr) {
    PM_ASSIGN_OR_RETURN(spec.scores, gguf.get_float_array("tokenizer.ggml.scores"));
  }
  if (gguf.find("tokenizer.ggml.token_type") != nullptr) {
    PM_ASSIGN_OR_RETURN(spec.types, gguf.get_int_array("tokenizer.ggml.token_type"));
  }
  if (gguf.find("tokenizer.ggml.merges") != nullptr) {
    PM_ASSIGN_OR_RETURN(const std::vector<std::string>* merges, gguf.get_string_array("tokenizer.ggml.merges"));
    spec.merges = *merges;
    spec.has_merges = true;
  }
  struct IdKey {
    const char* key;
    std::optional<int64_t>* field;
  };
  const IdKey id_keys[] = {
      {"tokenizer.ggml.bos_token_id", &spec.bos},
      {"tokenizer.ggml.eos_token_id", &spec.eos},
      {"tokenizer.ggml.eot_token_id", &spec.eot},
      {"tokenizer.ggml.eom_token_id", &spec.eom},
      {"tokenizer.ggml.unknown_token_id", &spec.unk},
      {"tokenizer.ggml.seperator_token_id", &spec.sep},  // sic: the key as llama.cpp writes it
      {"tokenizer.ggml.separator_token_id", &spec.sep},
      {"tokenizer.ggml.padding_token_id", &spec.pad},
      {"tokenizer.ggml.cls_token_id", &spec.cls},
      {"tokenizer.ggml.mask_token_id", &spec.mask},
  };
  for (const IdKey& k : id_keys) {
    if (gguf.find(k.key) == nullptr || k.field->has_value()) continue;
    PM_ASSIGN_OR_RETURN(*k.field, gguf.get_int(k.key));
  }
  struct FlagKey {
    const char* key;
    std::optional<bool>* field;
  };
  const FlagKey flag_keys[] = {
      {"tokenizer.ggml.add_bos_token", &spec.add_bos},
      {"tokenizer.ggml.add_eos_token", &spec.add_eos},
      {"tokenizer.ggml.add_sep_token", &spec.add_sep},
      {"tokenizer.ggml.add_space_prefix", &spec.add_space_prefix},
  };
  for (const FlagKey& k : flag_keys) {
    if (gguf.find(k.key) == nullptr) continue;
    PM_ASSIGN_OR_RETURN(*k.field, gguf.get_bool(k.key));
  }
  return spec;
}

Result<std::unique_ptr<Tokenizer>> build_tokenizer(VocabSpec spec) {
  const std::string where = spec.source.empty() ? std::string("vocab") : spec.source;
  auto fail = [&](Status s) { return s.with_context(where); };
  const size_t n = spec.tokens.size();
  if (n == 0) return fail(Status::corrupt("tokenizer.ggml.tokens is empty"));
  if (n > size_t(INT32_MAX)) return fail(Status::corrupt("tokenizer.ggml.tokens has too many entries"));
  if (!spec.scores.empty() && spec.scores.size() != n) {
    return fail(Status::corrupt("tokenizer.ggml.scores has " + std::to_string(spec.scores.size()) +
                                " entries, expected one per token (" + std::to_string(n) + ")"));
  }
  if (!spec.types.empty() && spec.types.size() != n) {
    return fail(Status::corrupt("tokenizer.ggml.token_type has " + std::to_string(spec.types.size()) +
                                " entries, expected one per token (" + std::to_string(n) + ")"));
  }
  std::vector<TokenType> types(n, TokenType::kNormal);
  for (size_t i = 0; i < spec.types.size(); ++i) {
    const int64_t t = spec.types[i];
    if (t < 0 || t > int64_t(TokenType::kByte)) {
      return fail(Status::corrupt("tokenizer.ggml.token_type[" + std::to_string(i) + "] = " + std::to_string(t) +
                                  " is not a token type (0..6)"));
    }
    types[i] = static_cast<TokenType>(t);
  }
  // llama.cpp replaces empty token texts so that every token stays addressable by text.
  for (size_t i = 0; i < n; ++i) {
    if (spec.tokens[i].empty()) spec.tokens[i] = "[EMPTY_" + std::to_string(i) + "]";
  }

  // Special ids: stored ones must name a token; -1 (or its u32 form) means none.
  SpecialTokens special;
  struct IdField {
    const char* key;
    const std::optional<int64_t>& value;
    TokenId& out;
  };
  const IdField id_fields[] = {
      {"tokenizer.ggml.bos_token_id", spec.bos, special.bos},
      {"tokenizer.ggml.eos_token_id", spec.eos, special.eos},
      {"tokenizer.ggml.eot_token_id", spec.eot, special.eot},
      {"tokenizer.ggml.eom_token_id", spec.eom, special.eom},
      {"tokenizer.ggml.unknown_token_id", spec.unk, special.unk},
      {"tokenizer.ggml.seperator_token_id", spec.sep, special.sep},
      {"tokenizer.ggml.padding_token_id", spec.pad, special.pad},
      {"tokenizer.ggml.cls_token_id", spec.cls, special.cls},
      {"tokenizer.ggml.mask_token_id", spec.mask, special.mask},
  };
  for (const IdField& f : id_fields) {
    if (!f.value.has_value()) continue;
    const int64_t v = *f.value;
    if (v == -1 || v == int64_t(UINT32_MAX)) continue;
    if (v < 0 || uint64_t(v) >= n) {
      return fail(Status::out_of_range(std::string(f.key) + " = " + std::to_string(v) +
                                       " is out of range (the vocab has " + std::to_string(n) + " tokens)"));
    }
    f.out = static_cast<TokenId>(v);
  }
  // Ids a vocab leaves unset are found by their conventional text.
  auto default_id = [&](const std::optional<int64_t>& stored, TokenId& out, std::string_view text) {
    if (!stored.has_value() && out == kNoToken) out = find_text(spec.tokens, text);
  };

  std::unique_ptr<Tokenizer> tok;
  VocabKind kind;
  std::string note;
  if (spec.model == "llama") {
    kind = VocabKind::kSentencePiece;
    default_id(spec.bos, special.bos, "<s>");
    default_id(spec.eos, special.eos, "</s>");
    default_id(spec.unk, special.unk, "<unk>");
    special.add_bos = spec.add_bos.value_or(true);
    std::vector<float> scores(spec.scores.begin(), spec.scores.end());
    tok = std::make_unique<SpmTokenizer>(std::move(scores), spec.add_space_prefix.value_or(true));
  } else if (spec.model == "gpt2") {
    kind = VocabKind::kBpe;
    if (!spec.has_merges) {
      return fail(Status::not_found("tokenizer.ggml.merges is missing (a gpt2 / BPE vocab needs it)"));
    }
    const PreTokenizerPreset preset = pre_tokenizer_preset(spec.pre);
    if (!preset.known) {
      note = spec.pre.empty() ? std::string("tokenizer.ggml.pre is missing")
                              : "tokenizer.ggml.pre \"" + spec.pre + "\" is not a known pre-tokenizer";
      note += "; using gpt-2's pre-tokenizer expression";
    }
    special.add_bos = spec.add_bos.value_or(preset.add_bos);
    special.add_sep = spec.add_sep.value_or(preset.add_sep);
    auto bpe = BpeTokenizer::create(spec.merges, preset);
    if (!bpe.is_ok()) return fail(bpe.status());
    tok = std::move(bpe).value();
  } else if (spec.model == "bert") {
    kind = VocabKind::kWordPiece;
    default_id(spec.cls, special.cls, "[CLS]");
    default_id(spec.sep, special.sep, "[SEP]");
    default_id(spec.unk, special.unk, "[UNK]");
    default_id(spec.pad, special.pad, "[PAD]");
    default_id(spec.mask, special.mask, "[MASK]");
    special.add_bos = spec.add_bos.value_or(true);
    special.add_sep = spec.add_sep.value_or(true);
    tok = std::make_unique<WordPieceTokenizer>();
  } else if (spec.model == "rwkv") {
    kind = VocabKind::kRwkvWorld;
    if (!spec.tokens_are_bytes) {  // llama.cpp's escaped text -> bytes
      for (size_t i = 0; i < n; ++i) {
        Result<std::string> bytes = unescape_rwkv_token(spec.tokens[i]);
        if (!bytes.is_ok())
          return fail(bytes.status().with_context("tokenizer.ggml.tokens[" + std::to_string(i) + "]"));
        spec.tokens[i] = std::move(bytes).value();
      }
    }
    // Token 0 ("<s>" in llama.cpp's conversions, <|endoftext|> in the vocab file) separates
    // documents: it ends generation unless the metadata names another eos.
    if (!spec.eos.has_value() && types[0] == TokenType::kControl) special.eos = 0;
    special.add_bos = spec.add_bos.value_or(false);
    tok = std::make_unique<RwkvWorldTokenizer>();
  } else {
    return fail(Status::unsupported("tokenizer.ggml.model \"" + spec.model +
                                    "\" is not supported (expected llama, gpt2, bert or rwkv)"));
  }
  special.add_eos = spec.add_eos.value_or(false);

  // End-of-turn texts: an unset eot is taken from them, and they become control tokens.
  if (special.eot == kNoToken && !spec.eot.has_value()) {
    for (std::string_view text : kEotCandidates) {
      special.eot = find_text(spec.tokens, text);
      if (special.eot != kNoToken) break;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    for (std::string_view text : kEndOfTurnTexts) {
      if (spec.tokens[i] == text) types[i] = TokenType::kControl;
    }
  }
  // An RWKV eot is ordinary text: llama.cpp's converter names "\n\n" (261) so that chats stop
  // after a reply; it must still be matched and decoded as text.
  if (special.eot != kNoToken && kind != VocabKind::kRwkvWorld) types[special.eot] = TokenType::kControl;

  Tokenizer& base = *tok;
  base.kind_ = kind;
  base.pre_ = kind == VocabKind::kBpe ? spec.pre : std::string();
  base.tokens_ = std::move(spec.tokens);
  base.types_ = std::move(types);
  base.special_ = special;
  base.note_ = std::move(note);
  base.index_vocab();

  // Phi-3 eats the whitespace after its special tokens (per-token rstrip in its tokenizer).
  const std::string name = lowercase_ascii(spec.name);
  if (kind == VocabKind::kSentencePiece &&
      (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos)) {
    base.strip_.assign(n, 0);
    for (TokenId id : base.special_by_length_) base.strip_[id] |= kStripRight;
    for (std::string_view t : {"</s>"}) {
      if (auto id = base.find(t)) base.strip_[*id] |= kStripRight;
    }
    for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) {
      if (auto id = base.find(t)) base.strip_[*id] &= uint8_t(~kStripRight);
    }
  }

  switch (kind) {
    case VocabKind::kSentencePiece:
      static_cast<SpmTokenizer&>(base).init();
      break;
    case VocabKind::kWordPiece:
      static_cast<WordPieceTokenizer&>(base).init();
      break;
    case VocabKind::kRwkvWorld:
      static_cast<RwkvWorldTokenizer&>(base).init();
      break;
    default:
      break;
  }
  return tok;
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile& gguf) {
  PM_ASSIGN_OR_RETURN(VocabSpec spec, read_vocab_spec(gguf));
  return build_tokenizer(std::move(spec));
}

// ---------------------------------------------------------------------------------------------
// Vocab queries

void Tokenizer::index_vocab() {
  const auto n = static_cast<TokenId>(tokens_.size());
  by_text_.clear();
  by_text_.reserve(n);
  text_to_id_.clear();
  text_to_id_.reserve(n);
  for (TokenId id = 0; id < n; ++id) {
    by_text_.emplace_back(tokens_[id], id);
    text_to_id_[tokens_[id]] = id;  // a later duplicate wins
  }
  std::sort(by_text_.begin(), by_text_.end());

  eog_.clear();
  // An RWKV World eot is "\n\n" (llama.cpp's converter): ending every generation at a blank line
  // would cut answers short, so RWKV chats end on the chat format's stop strings instead.
  const TokenId eot = kind_ == VocabKind::kRwkvWorld ? kNoToken : special_.eot;
  for (TokenId id : {special_.eos, eot, special_.eom}) {
    if (id != kNoToken) eog_.push_back(id);
  }
  for (std::string_view text : kEndOfTurnTexts) {
    if (TokenId id = lookup(text); id != kNoToken) eog_.push_back(id);
  }
  if (TokenId id = lookup("</s>"); id != kNoToken) eog_.push_back(id);
  std::sort(eog_.begin(), eog_.end());
  eog_.erase(std::unique(eog_.begin(), eog_.end()), eog_.end());

  special_by_length_.clear();
  for (TokenId id = 0; id < n; ++id) {
    const TokenType t = token_type(id);
    if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown) {
      special_by_length_.push_back(id);
    }
  }
  std::stable_sort(special_by_length_.begin(), special_by_length_.end(),
                   [&](TokenId a, TokenId b) { return tokens_[a].size() > tokens_[b].size(); });
}

TokenType Tokenizer::token_type(TokenId id) const {
  if (id < 0 || size_t(id) >= types_.size())
    return types_.empty() && id >= 0 && id < n_vocab() ? TokenType::kNormal : TokenType::kUndefined;
  return types_[id];
}

bool Tokenizer::is_eog(TokenId id) const { return id != kNoToken && std::binary_search(eog_.begin(), eog_.end(), id); }

bool Tokenizer::is_control(TokenId id) const { return token_type(id) == TokenType::kControl; }

std::optional<TokenId> Tokenizer::find(std::string_view token_text) const {
  const TokenId id = lookup(token_text);
  if (id == kNoToken) return std::nullopt;
  return id;
}

// ---------------------------------------------------------------------------------------------
// Special-token matching

std::vector<Tokenizer::Fragment> Tokenizer::split_special(std::string_view text, bool parse_special) const {
  struct Piece {
    size_t offset;
    size_t length;
    TokenId token;  // kNoToken: raw text
  };
  std::vector<Piece> pieces, next;
  if (!text.empty()) pieces.push_back({0, text.size(), kNoToken});
  for (TokenId id : special_by_length_) {
    const TokenType type = token_type(id);
    if (!parse_special && (type == TokenType::kControl || type == TokenType::kUnknown)) continue;
    const std::string& needle = tokens_[id];
    if (text.find(needle) == std::string_view::npos) continue;  // cheap filter
    const uint8_t strip = strip_.empty() ? 0 : strip_[id];
    next.clear();
    for (const Piece& p : pieces) {
      if (p.token != kNoToken) {
        next.push_back(p);
        continue;
      }
      size_t offset = p.offset, length = p.length;
      while (length > 0) {
        const size_t found = text.substr(offset, length).find(needle);
        if (found == std::string_view::npos) break;
        size_t left_length = found;
        if (strip & kStripLeft) {
          while (left_length > 0 && is_c_space(text[offset + left_length - 1])) --left_length;
        }
        if (left_length > 0) next.push_back({offset, left_length, kNoToken});
        next.push_back({0, 0, id});
        const size_t end = offset + found + needle.size();
        length = offset + length - end;
        offset = end;
        if (strip & kStripRight) {
          while (length > 0 && is_c_space(text[offset])) {
            ++offset;
            --length;
          }
        }
      }
      if (length > 0) next.push_back({offset, length, kNoToken});
    }
    pieces.swap(next);
  }
  std::vector<Fragment> out;
  out.reserve(pieces.size());
  for (const Piece& p : pieces) {
    if (p.token != kNoToken) {
      out.push_back({tokens_[p.token], p.token});
    } else {
      out.push_back({text.substr(p.offset, p.length), kNoToken});
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

std::string Tokenizer::decode(const std::vector<TokenId>& ids, bool render_special) const {
  std::string out;
  bool strip_space = strip_leading_space_;
  for (size_t i = 0; i < ids.size(); ++i) {
    const TokenId id = ids[i];
    std::string piece = token_to_piece(id, render_special);
    // A leading BOS / [CLS] does not count as the first token.
    const bool is_start_token =
        i == 0 && id != kNoToken && (id == special_.bos || id == special_.cls) && is_control(id);
    if (strip_space && !is_start_token) {
      if (!piece.empty() && piece[0] == ' ') piece.erase(0, 1);
      strip_space = false;
    }
    out += piece;
  }
  return out;
}

std::string StreamingDetokenizer::push(TokenId id) {
  pending_ += tok_.token_to_piece(id, render_special_);
  std::string out;
  size_t pos = 0;
  while (pos < pending_.size()) {
    const size_t len = unicode::check_utf8_at(pending_, pos);
    if (len == unicode::kIncomplete) break;  // wait for the rest of this character
    if (len == 0) {
      unicode::append_utf8(unicode::kReplacementChar, out);
      ++pos;
      continue;
    }
    out.append(pending_, pos, len);
    pos += len;
  }
  pending_.erase(0, pos);
  return out;
}

std::string StreamingDetokenizer::flush() {
  std::string out;
  if (!pending_.empty()) unicode::append_utf8(unicode::kReplacementChar, out);  // cut-off character
  pending_.clear();
  return out;
}

}  // namespace pm
