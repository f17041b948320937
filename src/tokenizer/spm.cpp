#include "tokenizer/spm.h"

#include <cstdio>
#include <queue>

#include "tokenizer/merge_symbols.h"
#include "tokenizer/unicode.h"

namespace pm {
namespace {

std::string escape_spaces(std::string_view text, bool prefix) {
  std::string out;
  out.reserve(text.size() + 8);
  if (prefix) out += unicode::kSpmSpace;
  for (char c : text) {
    if (c == ' ') {
      out += unicode::kSpmSpace;
    } else {
      out += c;
    }
  }
  return out;
}

// Parses "<0xXX>"; -1 when the text is not a byte token.
int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int v = 0;
  for (char c : text.substr(3, 2)) {
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else
      return -1;
  }
  return v;
}

}  // namespace

void SpmTokenizer::init() {
  strip_leading_space_ = add_space_prefix_;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byte_tokens_[b] = lookup(name);
  }
}

std::vector<TokenId> SpmTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<TokenId> out;
  if (add_special && special_.add_bos && special_.bos != kNoToken) out.push_back(special_.bos);
  bool after_special = true;  // the start of the text counts as "after a special token"
  for (const Fragment& f : split_special(text, parse_special)) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
      after_special = true;
      continue;
    }
    encode_escaped(escape_spaces(f.text, add_space_prefix_ && after_special), out);
    after_special = false;
  }
  if (add_special && special_.add_eos && special_.eos != kNoToken) out.push_back(special_.eos);
  return out;
}

void SpmTokenizer::encode_escaped(std::string_view text, std::vector<TokenId>& out) const {
  if (text.empty()) return;
  // Highest score first; leftmost first among equal scores.
  struct Candidate {
    float score;
    int left;
    int right;
    size_t size_bytes;
    bool operator<(const Candidate& o) const { return score < o.score || (score == o.score && left > o.left); }
  };
  MergeSymbols symbols(text);
  std::priority_queue<Candidate> queue;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const std::string_view joined = symbols.joined(left, right);
    const TokenId id = lookup(joined);
    if (id == kNoToken) return;
    queue.push({score(id), left, right, joined.size()});
  };
  for (int i = 1; i < symbols.count(); ++i) consider(i - 1, i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    if (!symbols.still_adjacent(c.left, c.right, c.size_bytes)) continue;  // stale
    symbols.merge(c.left, c.right);
    consider(symbols.prev(c.left), c.left);
    consider(c.left, symbols.next(c.left));
  }
  for (int i = 0; i != -1; i = symbols.next(i)) {
    const std::string_view piece = symbols.text(i);
    const TokenId id = lookup(piece);
    if (id != kNoToken) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {  // byte fallback
      const TokenId b = byte_tokens_[static_cast<uint8_t>(c)];
      if (b != kNoToken) {
        out.push_back(b);
      } else if (special_.unk != kNoToken) {
        out.push_back(special_.unk);
        break;  // one unknown token for the whole piece
      }
    }
  }
}

std::string SpmTokenizer::token_to_piece(TokenId id, bool render_special) const {
  if (id < 0 || id >= n_vocab()) return "";
  const std::string& text = tokens_[id];
  switch (token_type(id)) {
    case TokenType::kNormal:
    case TokenType::kUserDefined: {
      std::string out;
      out.reserve(text.size());
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
    case TokenType::kByte: {
      const int b = parse_byte_token(text);
      return b < 0 ? std::string() : std::string(1, char(b));
    }
    case TokenType::kUnknown:
      return render_special ? text : std::string("\xE2\x96\x85");  // U+2585, as llama.cpp
    case TokenType::kControl:
      return render_special ? text : std::string();
    default:
      return "";  // unused / undefined: suppressed
  }
}

}  // namespace pm
