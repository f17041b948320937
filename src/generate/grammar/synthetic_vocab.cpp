#include "generate/grammar/synthetic_vocab.h"

#include <random>
#include <set>
#include <string_view>
#include <unordered_set>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace pm {
namespace {

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

// a + b without operator+ on a literal (GCC 12 reports a false -Wrestrict there).
std::string cat(std::string_view a, std::string_view b) {
  std::string s;
  s.reserve(a.size() + b.size());
  s.append(a);
  s.append(b);
  return s;
}

bool starts_word(const std::string& s) {
  const unsigned char c = static_cast<unsigned char>(s[0]);
  return c == ' ' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_word(const std::string& s) {
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return !s.empty();
}

}  // namespace

Result<SyntheticVocab> build_qwen_like_vocab(const std::string& dir) {
  std::vector<std::string> regular;
  std::unordered_set<std::string> seen;
  auto add = [&](std::string s) {
    if (s.empty() || int32_t(regular.size()) >= kSyntheticVocabRegular) return;
    if (seen.insert(s).second) regular.push_back(std::move(s));
  };

  // 1. Real byte-level BPE pieces (a sorted set, so the order does not depend on file order).
  std::set<std::string> real;
  for (const char* name : {"gpt-2", "deepseek-coder", "falcon", "starcoder", "refact"}) {
    const std::string path = dir + "/ggml-vocab-" + name + ".gguf";
    Result<std::unique_ptr<GgufFile>> f = GgufFile::open(path);
    if (!f.is_ok()) return Status::not_found("qwen-like vocabulary: " + path + ": " + f.status().to_string());
    Result<std::unique_ptr<Tokenizer>> tok = Tokenizer::from_gguf(**f);
    if (!tok.is_ok()) return Status::corrupt("qwen-like vocabulary: " + path + ": " + tok.status().to_string());
    for (TokenId id = 0; id < (*tok)->n_vocab(); ++id) {
      if ((*tok)->is_control(id) || (*tok)->is_eog(id)) continue;
      std::string p = (*tok)->token_to_piece(id, /*render_special=*/false);
      if (!p.empty()) real.insert(std::move(p));
    }
  }
  std::vector<std::string> wordish;
  for (const std::string& p : real) {
    if (starts_word(p) && p.size() >= 2) wordish.push_back(p);
    add(p);
  }
  // 2. Single bytes.
  for (int b = 0; b < 256; ++b) add(std::string(1, char(b)));
  // 3. Ideographs and CJK punctuation.
  constexpr uint32_t kCjkFirst = 0x4E00, kCjkLast = 0x9FA5, kCommon = 3500;
  for (uint32_t cp = kCjkFirst; cp <= kCjkLast; ++cp) add(utf8(cp));
  for (uint32_t cp = kCjkFirst; cp < kCjkFirst + kCommon; ++cp) add(cat(" ", utf8(cp)));
  for (uint32_t cp = 0x3000; cp <= 0x303F; ++cp) add(utf8(cp));
  for (uint32_t cp = 0xFF01; cp <= 0xFF5E; ++cp) add(utf8(cp));
  // 4. Whitespace runs.
  for (int n = 1; n <= 80; ++n) add(std::string(size_t(n), ' '));
  for (int n = 1; n <= 16; ++n) add(std::string(size_t(n), '\n'));
  for (int n = 1; n <= 32; ++n) add(cat("\n", std::string(size_t(n), ' ')));
  for (int n = 1; n <= 8; ++n) add(cat("\n", std::string(size_t(n), '\t')));
  for (int n = 1; n <= 16; ++n) add(std::string(size_t(n), '\t'));
  // 5. Chinese words.
  std::mt19937_64 rng(150);
  for (int words = 0, tries = 0; words < 25000 && tries < 1000000; ++tries) {
    const int len = 2 + int(rng() % 3);
    std::string w = rng() % 5 == 0 ? " " : "";
    for (int i = 0; i < len; ++i) w += utf8(kCjkFirst + uint32_t(rng() % kCommon));
    const size_t before = regular.size();
    add(std::move(w));
    words += regular.size() > before;
  }
  // 6. Merges of real pieces up to the full size.
  if (wordish.empty()) return Status::corrupt("qwen-like vocabulary: no word pieces in " + dir);
  while (int32_t(regular.size()) < kSyntheticVocabRegular) {
    const std::string& a = wordish[rng() % wordish.size()];
    const std::string& b = wordish[rng() % wordish.size()];
    add(cat(a, std::string_view(b).substr(!is_word(b) && b[0] == ' ' ? 1 : 0)));
  }

  SyntheticVocab v;
  v.pieces = std::move(regular);
  v.pieces.resize(size_t(kSyntheticVocabSize));  // control tokens: empty pieces
  v.eog = {kSyntheticVocabRegular, kSyntheticVocabRegular + 2};
  return v;
}

}  // namespace pm
