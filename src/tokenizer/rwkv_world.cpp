#include "tokenizer/rwkv_world.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "core/mapped_file.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace pm {
namespace {

// Token 0 of the World vocab text file (the file lists ids 1..N).
constexpr std::string_view kWorldEndOfText = "<|endoftext|>";

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_octal(char c) { return c >= '0' && c <= '7'; }

// Python's one-character escapes: "\n" -> newline etc. (kEscapeValues[i] for kEscapeLetters[i]).
constexpr std::string_view kEscapeLetters = "\\'\"abfnrtv";
constexpr std::string_view kEscapeValues = "\\'\"\a\b\f\n\r\t\v";
static_assert(kEscapeLetters.size() == kEscapeValues.size());

// Tokens the trie holds: everything except control, unknown and unused tokens (those are
// reached through split_special or not at all).
bool matched_as_text(TokenType t) {
  return t != TokenType::kControl && t != TokenType::kUnknown && t != TokenType::kUnused;
}

// One "ID LITERAL LENGTH" line split at its first and last space.
struct VocabLine {
  std::string_view id, literal, length;
};

bool split_vocab_line(std::string_view line, VocabLine& out) {
  const size_t first = line.find(' ');
  const size_t last = line.rfind(' ');
  if (first == std::string_view::npos || last <= first + 1) return false;
  out.id = line.substr(0, first);
  out.literal = line.substr(first + 1, last - first - 1);
  out.length = line.substr(last + 1);
  return true;
}

// A decimal number of at most 9 digits (no sign); -1 otherwise.
int64_t parse_count(std::string_view s) {
  if (s.empty() || s.size() > 9) return -1;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Reads exactly `n` hex digits at s[pos]; -1 when they are not all there.
int64_t read_hex(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const int d = hex_digit(s[pos + i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Literals and escapes

Result<std::string> parse_python_literal(std::string_view literal) {
  std::string_view s = literal;
  bool is_bytes = false;
  if (!s.empty() && (s[0] == 'b' || s[0] == 'B')) {
    is_bytes = true;
    s.remove_prefix(1);
  } else if (!s.empty() && (s[0] == 'u' || s[0] == 'U')) {
    s.remove_prefix(1);
  }
  if (s.empty() || (s[0] != '\'' && s[0] != '"')) {
    return Status::corrupt("expected a quoted str or bytes literal ('...', \"...\" or b'...')");
  }
  const char quote = s[0];
  std::string out;
  out.reserve(s.size());
  size_t i = 1;
  bool closed = false;
  while (i < s.size()) {
    const char c = s[i];
    if (c == quote) {
      closed = true;
      ++i;
      break;
    }
    if (c != '\\') {
      const auto b = static_cast<uint8_t>(c);
      if (b < 0x80) {
        out += c;
        ++i;
        continue;
      }
      if (is_bytes) {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02x", b);
        return Status::corrupt(std::string("non-ASCII byte ") + hex + " in a bytes literal (write it as \\x..)");
      }
      const size_t len = unicode::check_utf8_at(s, i);
      if (len == 0 || len == unicode::kIncomplete) return Status::corrupt("invalid UTF-8 in a str literal");
      out.append(s, i, len);
      i += len;
      continue;
    }
    // An escape.
    if (i + 1 >= s.size()) break;  // "\" just before the end: unterminated
    const char e = s[i + 1];
    i += 2;
    auto put_code_point = [&](int64_t cp) -> Status {
      if (is_bytes) {
        if (cp > 0xFF) return Status::corrupt("escape value " + std::to_string(cp) + " does not fit in a byte");
        out += static_cast<char>(cp);
        return Status::ok();
      }
      if (cp > 0x10FFFF) return Status::corrupt("escape value " + std::to_string(cp) + " is past U+10FFFF");
      if (cp >= 0xD800 && cp <= 0xDFFF)
        return Status::corrupt("escape is a surrogate code point, which has no UTF-8 form");
      unicode::append_utf8(static_cast<char32_t>(cp), out);
      return Status::ok();
    };
    if (const size_t k = kEscapeLetters.find(e); k != std::string_view::npos) {
      out += kEscapeValues[k];
      continue;
    }
    switch (e) {
      case 'x': {
        const int64_t v = read_hex(s, i, 2);
        if (v < 0) return Status::corrupt("\\x must be followed by two hex digits");
        i += 2;
        PM_RETURN_IF_ERROR(put_code_point(v));
        break;
      }
      case 'u':
      case 'U': {
        if (is_bytes) {  // not an escape in bytes literals: kept as written
          out += '\\';
          out += e;
          break;
        }
        const size_t n = e == 'u' ? 4 : 8;
        const int64_t v = read_hex(s, i, n);
        if (v < 0)
          return Status::corrupt(std::string("\\") + e + " must be followed by " + std::to_string(n) + " hex digits");
        i += n;
        PM_RETURN_IF_ERROR(put_code_point(v));
        break;
      }
      case 'N':
        if (!is_bytes) return Status::unsupported("\\N{...} (named character) escapes are not supported");
        out += "\\N";
        break;
      default:
        if (is_octal(e)) {
          int64_t v = e - '0';
          for (int k = 0; k < 2 && i < s.size() && is_octal(s[i]); ++k) v = v * 8 + (s[i++] - '0');
          PM_RETURN_IF_ERROR(put_code_point(v));
        } else {
          out += '\\';  // unknown escape: Python keeps the backslash
          i -= 1;       // and reads the character after it normally
        }
        break;
    }
  }
  if (!closed) return Status::corrupt("unterminated literal (no closing " + std::string(1, quote) + ")");
  if (i != s.size()) return Status::corrupt("unexpected text after the closing quote");
  return out;
}

Result<std::string> unescape_rwkv_token(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 1 >= escaped.size()) return Status::corrupt("ends with a lone backslash");
    const char e = escaped[++i];
    if (e == 'x') {
      const int64_t v = read_hex(escaped, i + 1, 2);
      if (v < 0) return Status::corrupt("\\x must be followed by two hex digits");
      out += static_cast<char>(v);
      i += 2;
    } else if (e == 't' || e == 'n' || e == 'r') {
      out += e == 't' ? '\t' : e == 'n' ? '\n' : '\r';
    } else {
      out += e;  // "\\", "\'" and any other escaped character: itself
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Loading

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_rwkv_vocab_file(const std::string& path) {
  PM_ASSIGN_OR_RETURN(std::string text, read_file(path));
  // Lines holding a token, with their 1-based line numbers (blank lines are skipped).
  std::vector<std::pair<std::string_view, size_t>> lines;
  {
    std::string_view rest = text;
    size_t line_no = 0;
    while (!rest.empty()) {
      const size_t end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty()) lines.emplace_back(line, line_no);
    }
  }
  if (lines.empty()) return Status::corrupt(path + ": the vocabulary file holds no tokens");
  const size_t n = lines.size() + 1;  // ids 1..N, plus 0
  auto fail = [&](size_t line_no, const std::string& message) {
    return Status::corrupt(path + ": line " + std::to_string(line_no) + ": " + message);
  };

  VocabSpec spec;
  spec.source = path;
  spec.model = "rwkv";
  spec.tokens_are_bytes = true;
  spec.tokens.resize(n);
  spec.types.assign(n, int64_t(TokenType::kNormal));
  spec.tokens[0] = std::string(kWorldEndOfText);
  spec.types[0] = int64_t(TokenType::kControl);
  spec.eos = 0;
  std::vector<size_t> defined_on(n, 0);  // line that defined each id (0: none yet)
  for (const auto& [line, line_no] : lines) {
    VocabLine parts;
    if (!split_vocab_line(line, parts)) return fail(line_no, "expected 'ID LITERAL LENGTH'");
    const int64_t id = parse_count(parts.id);
    if (id < 0) return fail(line_no, "id \"" + std::string(parts.id) + "\" is not a number");
    if (id == 0 || size_t(id) >= n) {
      return fail(line_no, "id " + std::to_string(id) + " is out of range (a file of " + std::to_string(n - 1) +
                               " tokens holds ids 1.." + std::to_string(n - 1) + "; id 0 is " +
                               std::string(kWorldEndOfText) + ")");
    }
    if (defined_on[id] != 0) {
      return fail(line_no,
                  "duplicate id " + std::to_string(id) + " (already on line " + std::to_string(defined_on[id]) + ")");
    }
    Result<std::string> bytes = parse_python_literal(parts.literal);
    if (!bytes.is_ok()) return fail(line_no, "malformed literal: " + bytes.status().message());
    const int64_t length = parse_count(parts.length);
    if (length < 0) return fail(line_no, "length \"" + std::string(parts.length) + "\" is not a number");
    if (size_t(length) != bytes->size()) {
      return fail(line_no, "the literal is " + std::to_string(bytes->size()) + " bytes long but the line says " +
                               std::to_string(length));
    }
    if (bytes->empty()) return fail(line_no, "empty token");
    defined_on[id] = line_no;
    spec.tokens[id] = std::move(bytes).value();
  }
  return build_tokenizer(std::move(spec));
}

std::unique_ptr<Tokenizer> Tokenizer::byte_level() { return make_byte_level_tokenizer(); }

// ---------------------------------------------------------------------------------------------
// The trie

void RwkvWorldTokenizer::init() {
  // Insert the tokens in byte order: a node's children are then created in ascending byte
  // order, and a new token shares its prefix only along the most recently created branch.
  std::vector<TokenId> order;
  order.reserve(tokens_.size());
  for (TokenId id = 0; id < n_vocab(); ++id) {
    if (matched_as_text(token_type(id)) && !tokens_[id].empty()) order.push_back(id);
  }
  std::stable_sort(order.begin(), order.end(), [&](TokenId a, TokenId b) { return tokens_[a] < tokens_[b]; });

  std::vector<std::vector<std::pair<uint8_t, uint32_t>>> children(1);
  std::vector<TokenId> node_token(1, kNoToken);
  for (TokenId id : order) {
    uint32_t node = 0;
    for (char c : tokens_[id]) {
      const auto b = static_cast<uint8_t>(c);
      auto& kids = children[node];
      if (!kids.empty() && kids.back().first == b) {
        node = kids.back().second;
        continue;
      }
      const auto fresh = static_cast<uint32_t>(children.size());
      kids.emplace_back(b, fresh);
      children.emplace_back();
      node_token.push_back(kNoToken);
      node = fresh;
    }
    node_token[node] = id;  // among equal texts the higher id comes later and wins
  }

  const size_t n_nodes = children.size();
  node_token_ = std::move(node_token);
  node_first_edge_.assign(n_nodes + 1, 0);
  for (size_t i = 0; i < n_nodes; ++i) node_first_edge_[i + 1] = node_first_edge_[i] + uint32_t(children[i].size());
  edge_byte_.resize(node_first_edge_[n_nodes]);
  edge_child_.resize(node_first_edge_[n_nodes]);
  for (size_t i = 0; i < n_nodes; ++i) {
    uint32_t e = node_first_edge_[i];
    for (const auto& [b, kid] : children[i]) {
      edge_byte_[e] = b;
      edge_child_[e] = kid;
      ++e;
    }
  }
  root_child_.fill(kNoNode);
  for (const auto& [b, kid] : children[0]) root_child_[b] = kid;
}

uint32_t RwkvWorldTokenizer::child(uint32_t node, uint8_t byte) const {
  const uint8_t* first = edge_byte_.data() + node_first_edge_[node];
  const uint8_t* last = edge_byte_.data() + node_first_edge_[node + 1];
  const uint8_t* it = std::lower_bound(first, last, byte);
  if (it == last || *it != byte) return kNoNode;
  return edge_child_[it - edge_byte_.data()];
}

void RwkvWorldTokenizer::encode_bytes(std::string_view text, std::vector<TokenId>& out) const {
  size_t pos = 0;
  while (pos < text.size()) {
    TokenId best = kNoToken;
    size_t best_len = 0;
    uint32_t node = root_child_[static_cast<uint8_t>(text[pos])];
    size_t len = 1;
    while (node != kNoNode) {
      if (node_token_[node] != kNoToken) {
        best = node_token_[node];
        best_len = len;
      }
      if (pos + len == text.size()) break;
      node = child(node, static_cast<uint8_t>(text[pos + len]));
      ++len;
    }
    if (best == kNoToken) {  // no token starts with this byte
      if (special_.unk != kNoToken) out.push_back(special_.unk);
      ++pos;
      continue;
    }
    out.push_back(best);
    pos += best_len;
  }
}

std::vector<TokenId> RwkvWorldTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<TokenId> out;
  out.reserve(text.size() / 2 + 2);
  if (add_special && special_.add_bos && special_.bos != kNoToken) out.push_back(special_.bos);
  for (const Fragment& f : split_special(text, parse_special)) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
    } else {
      encode_bytes(f.text, out);
    }
  }
  if (add_special && special_.add_eos && special_.eos != kNoToken) out.push_back(special_.eos);
  return out;
}

std::string RwkvWorldTokenizer::token_to_piece(TokenId id, bool render_special) const {
  if (id < 0 || id >= n_vocab()) return "";
  switch (token_type(id)) {
    case TokenType::kControl:
    case TokenType::kUnknown:
      return render_special ? tokens_[id] : std::string();
    case TokenType::kUnused:
      return "";
    default:
      return tokens_[id];
  }
}

}  // namespace pm
