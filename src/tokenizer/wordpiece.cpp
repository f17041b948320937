#include "tokenizer/wordpiece.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>

#include "tokenizer/unicode.h"

namespace pm {
namespace {

// CJK Unified Ideographs and their extensions / compatibility blocks, as BERT defines them.
bool is_cjk_ideograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Whitespace: the Unicode White_Space property (tab, newline, vertical tab, form feed, CR,
// space, U+0085, the Zs spaces, line/paragraph separators).
bool is_whitespace(char32_t c) { return u_isUWhiteSpace(static_cast<UChar32>(c)); }

// Every other C* category character (control, format, private use, unassigned) is dropped.
bool is_dropped(char32_t c) {
  if (c == 0 || c == unicode::kReplacementChar) return true;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
    case U_UNASSIGNED:
      return true;
    default:
      return false;
  }
}

// BERT counts all non-alphanumeric ASCII as punctuation, plus the Unicode P* categories.
bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
    return true;
  }
  return c >= 128 && u_ispunct(static_cast<UChar32>(c));
}

// Lowercase (full case mapping), decompose (NFD) and drop combining marks (Mn).
void normalize_char(char32_t c, const icu::Normalizer2* nfd, std::u32string& out) {
  out.clear();
  if (c < 128) {
    out += (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return;
  }
  icu::UnicodeString s(static_cast<UChar32>(c));
  s.toLower(icu::Locale::getRoot());
  if (nfd != nullptr) {
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString decomposed = nfd->normalize(s, status);
    if (U_SUCCESS(status)) s = decomposed;
  }
  for (int32_t i = 0; i < s.length();) {
    const UChar32 cp = s.char32At(i);
    i += U16_LENGTH(cp);
    if (u_charType(cp) == U_NON_SPACING_MARK) continue;
    out += static_cast<char32_t>(cp);
  }
}

}  // namespace

std::vector<std::string> WordPieceTokenizer::basic_tokenize(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) nfd = nullptr;  // ICU data missing: lowercase only

  std::vector<std::string> words;
  std::string word;
  auto finish_word = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  std::u32string normalized;
  for (size_t pos = 0; pos < text.size();) {
    char32_t c = unicode::kReplacementChar;
    const size_t len = unicode::decode_utf8(text, pos, &c);
    pos += len == 0 ? 1 : len;
    if (is_whitespace(c)) {
      finish_word();
      continue;
    }
    if (is_dropped(c)) continue;
    if (is_cjk_ideograph(c)) {
      finish_word();
      unicode::append_utf8(c, word);
      finish_word();
      continue;
    }
    normalize_char(c, nfd, normalized);
    for (char32_t n : normalized) {
      if (is_punctuation(n)) {
        finish_word();
        unicode::append_utf8(n, word);
        finish_word();
      } else {
        unicode::append_utf8(n, word);
      }
    }
  }
  finish_word();
  return words;
}

void WordPieceTokenizer::init() {
  strip_leading_space_ = true;
  size_t n_hash = 0, n_marker = 0;
  for (const std::string& t : tokens_) {
    max_token_bytes_ = std::max(max_token_bytes_, t.size());
    if (t.size() > 2 && t.compare(0, 2, "##") == 0) ++n_hash;
    if (t.size() > 3 && std::string_view(t).substr(0, 3) == unicode::kSpmSpace) ++n_marker;
  }
  hf_style_ = n_hash > n_marker;
}

std::vector<TokenId> WordPieceTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<TokenId> out;
  const TokenId cls = special_.cls != kNoToken ? special_.cls : special_.bos;
  if (add_special && special_.add_bos && cls != kNoToken) out.push_back(cls);
  for (const Fragment& f : split_special(text, parse_special)) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
      continue;
    }
    for (const std::string& word : basic_tokenize(f.text)) encode_word(word, out);
  }
  if (add_special && special_.add_sep && special_.sep != kNoToken) out.push_back(special_.sep);
  return out;
}

void WordPieceTokenizer::encode_word(std::string_view word, std::vector<TokenId>& out) const {
  // The string matched against: "▁word" (GGUF style) or "word" (Hugging Face style).
  std::string w;
  if (!hf_style_) w = unicode::kSpmSpace;
  w += word;
  std::vector<size_t> bounds;  // character boundaries of w, including 0 and w.size()
  for (size_t pos = 0; pos < w.size();) {
    bounds.push_back(pos);
    pos += std::min(unicode::utf8_seq_len(static_cast<uint8_t>(w[pos])), w.size() - pos);
  }
  bounds.push_back(w.size());

  const size_t first_out = out.size();
  std::string candidate;
  size_t k = 0;  // index into bounds of the current start
  while (k + 1 < bounds.size()) {
    const size_t start = bounds[k];
    TokenId found = kNoToken;
    // Longest candidate first, never longer than the longest token.
    size_t end_k = static_cast<size_t>(
        std::upper_bound(bounds.begin() + long(k), bounds.end(), start + max_token_bytes_) - bounds.begin() - 1);
    for (; end_k > k; --end_k) {
      const size_t len = bounds[end_k] - start;
      std::string_view piece = std::string_view(w).substr(start, len);
      if (hf_style_ && start > 0) {
        candidate.assign("##");
        candidate.append(piece);
        piece = candidate;
      }
      found = lookup(piece);
      if (found != kNoToken) break;
    }
    if (found == kNoToken) {  // the whole word is unknown
      out.resize(first_out);
      if (special_.unk != kNoToken) out.push_back(special_.unk);
      return;
    }
    out.push_back(found);
    k = end_k;
  }
}

std::string WordPieceTokenizer::token_to_piece(TokenId id, bool render_special) const {
  if (id < 0 || id >= n_vocab()) return "";
  const std::string& text = tokens_[id];
  switch (token_type(id)) {
    case TokenType::kNormal:
    case TokenType::kUserDefined: {
      if (hf_style_) {
        if (text.size() > 2 && text.compare(0, 2, "##") == 0) return text.substr(2);
        return " " + text;
      }
      std::string out;
      for (size_t i = 0; i < text.size();) {
        if (std::string_view(text).substr(i, 3) == unicode::kSpmSpace) {
          out += ' ';
          i += 3;
        } else {
          out += text[i++];
        }
      }
      return out;
    }
    case TokenType::kControl:
    case TokenType::kUnknown:
      return render_special ? text : std::string();
    default:
      return "";
  }
}

}  // namespace pm
