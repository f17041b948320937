#include "tokenizer/bpe.h"

#include <queue>

#include "tokenizer/merge_symbols.h"
#include "tokenizer/unicode.h"

namespace pm {

Result<std::unique_ptr<BpeTokenizer>> BpeTokenizer::create(const std::vector<std::string>& merges,
                                                           const PreTokenizerPreset& preset) {
  std::unique_ptr<BpeTokenizer> tok(new BpeTokenizer());
  tok->ranks_.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string& line = merges[i];
    // The separator is the first space after the first byte (a part may itself be " ").
    const size_t pos = line.size() > 1 ? line.find(' ', 1) : std::string::npos;
    if (pos == std::string::npos || pos + 1 >= line.size()) {
      return Status::corrupt("tokenizer.ggml.merges[" + std::to_string(i) + "] = \"" + line +
                             "\": expected two parts separated by a space");
    }
    std::string key = line.substr(0, pos);
    key += '\xFF';
    key.append(line, pos + 1, std::string::npos);
    // A pair listed twice keeps its first (best) rank.
    tok->ranks_.emplace(std::move(key), static_cast<int32_t>(i));
  }
  auto pt = PreTokenizer::create(preset.patterns);
  if (!pt.is_ok()) return pt.status();
  tok->pre_tokenizer_ = std::move(pt).value();
  tok->ignore_merges_ = preset.ignore_merges;
  return tok;
}

int32_t BpeTokenizer::rank(std::string_view left, std::string_view right, std::string& key) const {
  key.assign(left);
  key += '\xFF';
  key.append(right);
  auto it = ranks_.find(std::string_view(key));
  return it == ranks_.end() ? -1 : it->second;
}

std::vector<TokenId> BpeTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  std::vector<TokenId> out;
  if (add_special && special_.add_bos && special_.bos != kNoToken) out.push_back(special_.bos);
  for (const Fragment& f : split_special(text, parse_special)) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
    } else {
      encode_plain(f.text, out);
    }
  }
  if (add_special && special_.add_eos && special_.eos != kNoToken) out.push_back(special_.eos);
  if (add_special && special_.add_sep && special_.sep != kNoToken) out.push_back(special_.sep);
  return out;
}

void BpeTokenizer::encode_plain(std::string_view text, std::vector<TokenId>& out) const {
  std::string word;
  for (std::string_view piece : pre_tokenizer_->split(text)) {
    word.clear();
    unicode::byte_level_encode(piece, word);
    encode_word(word, out);
  }
}

void BpeTokenizer::encode_word(std::string_view word, std::vector<TokenId>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    const TokenId id = lookup(word);
    if (id != kNoToken) {
      out.push_back(id);
      return;
    }
  }
  // Lowest rank first; leftmost first among equal ranks.
  struct Candidate {
    int32_t rank;
    int left;
    int right;
    size_t size_bytes;
    bool operator<(const Candidate& o) const { return rank > o.rank || (rank == o.rank && left > o.left); }
  };
  MergeSymbols symbols(word);
  std::priority_queue<Candidate> queue;
  std::string key;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const int32_t r = rank(symbols.text(left), symbols.text(right), key);
    if (r < 0) return;
    queue.push({r, left, right, symbols.text(left).size() + symbols.text(right).size()});
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
    // A merge produced something outside the vocab (a broken vocab): fall back to the
    // piece's characters one by one, or the unknown token.
    for (size_t pos = 0; pos < piece.size();) {
      const size_t len = std::min(unicode::utf8_seq_len(static_cast<uint8_t>(piece[pos])), piece.size() - pos);
      const TokenId cid = lookup(piece.substr(pos, len));
      if (cid != kNoToken) {
        out.push_back(cid);
      } else if (special_.unk != kNoToken) {
        out.push_back(special_.unk);
      }
      pos += len;
    }
  }
}

std::string BpeTokenizer::token_to_piece(TokenId id, bool render_special) const {
  if (id < 0 || id >= n_vocab()) return "";
  const std::string& text = tokens_[id];
  switch (token_type(id)) {
    case TokenType::kNormal:
      return unicode::byte_level_decode(text);
    case TokenType::kUserDefined:
      return text;  // matched on raw text, stored raw
    case TokenType::kControl:
    case TokenType::kUnknown:
      return render_special ? text : std::string();
    default:
      return "";  // unused / undefined / byte: suppressed, as llama.cpp does
  }
}

}  // namespace pm
