// The cached masks (projected context-independent part + boundary walks, whole-subtree shortcuts
// for text) must equal the plain per-token check: feeding each token's bytes to the matcher.
#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "formats/gguf.h"
#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"
#include "generate/grammar/matcher.h"
#include "generate/grammar/synthetic_vocab.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace pm {
namespace {

// Token-by-token truth for one matcher position: token allowed iff its bytes are accepted.
std::vector<uint8_t> per_token_truth(const std::shared_ptr<GrammarEngine>& e, const std::string& prefix) {
  const TokenTrie& trie = e->trie();
  GrammarMatcher at(e);
  EXPECT_TRUE(at.accept_bytes(prefix));
  std::vector<uint8_t> out(size_t(trie.n_vocab()));
  for (TokenId id = 0; id < trie.n_vocab(); ++id) {
    if (trie.is_eog(id)) { out[size_t(id)] = at.is_accepting(); continue; }
    if (trie.piece(id).empty()) continue;
    GrammarMatcher m(e);
    m.accept_bytes(prefix);
    out[size_t(id)] = m.accept_bytes(trie.piece(id));
  }
  return out;
}

std::vector<std::shared_ptr<const Grammar>> schema_grammars() {
  std::vector<std::string> files;
  for (const auto& f : std::filesystem::directory_iterator(std::string(PM_TEST_DATA_DIR) + "/schemas"))
    files.push_back(f.path().string());
  std::sort(files.begin(), files.end());
  std::vector<std::shared_ptr<const Grammar>> out;
  for (const std::string& f : files) {
    Result<std::string> gbnf = json_schema_to_gbnf(pm::test::read_text(f));
    EXPECT_TRUE(gbnf.is_ok()) << f;
    if (!gbnf.is_ok()) continue;
    Result<std::shared_ptr<const Grammar>> g = parse_grammar(*gbnf);
    EXPECT_TRUE(g.is_ok()) << f;
    if (g.is_ok()) out.push_back(*g);
  }
  return out;
}

// Random walks under every schema: at each step the cached mask equals the reference walk from
// the real state (no caches), and every `truth_every`-th step also the per-token check. A slow
// build (sanitizer, emulator) walks once per schema.
void compare_on_random_walks(std::shared_ptr<const TokenTrie> trie, int walks_per_schema, int truth_every,
                             const std::vector<std::shared_ptr<const Grammar>>& grammars = schema_grammars(),
                             size_t min_steps = 500) {
  const int walks = test::scaled(walks_per_schema);
  min_steps = min_steps * size_t(walks) / size_t(walks_per_schema);
  std::mt19937_64 rng(99);
  const size_t n = size_t(trie->n_vocab());
  std::vector<uint8_t> cached(n), reference(n);
  size_t steps = 0;
  for (const auto& g : grammars) {
    auto e = std::make_shared<GrammarEngine>(g, trie);
    for (int w = 0; w < walks; ++w) {
      GrammarMatcher m(e);
      std::string text;
      for (int step = 0; step < 120 && !m.is_complete(); ++step, ++steps) {
        ASSERT_TRUE(m.fill_mask(cached.data()).is_ok());
        std::vector<uint8_t> truth;
        const bool check_truth = truth_every > 0 && steps % size_t(truth_every) == 0;
        if (check_truth) truth = per_token_truth(e, text);
        // Reference mask from the state reached by `text`.
        int32_t s = e->initial_state();
        for (char c : text) s = *e->next(s, uint8_t(c));
        ASSERT_TRUE(e->fill_mask_reference(s, reference.data()).is_ok());
        for (size_t id = 0; id < n; ++id) {
          ASSERT_EQ(cached[id], reference[id]) << "after '" << text << "' token " << id << " '" << trie->piece(TokenId(id)) << "'";
          if (check_truth) {
            ASSERT_EQ(cached[id], truth[id]) << "after '" << text << "' token " << id << " '" << trie->piece(TokenId(id)) << "'";
          }
        }
        // Pick an allowed token, long ones often (they cross terminals and characters).
        std::vector<TokenId> allowed;
        for (size_t id = 0; id < n; ++id)
          if (cached[id] && !trie->is_eog(TokenId(id))) allowed.push_back(TokenId(id));
        if (allowed.empty()) break;
        TokenId pick = allowed[rng() % allowed.size()];
        if (rng() % 4 == 0) {
          for (int k = 0; k < 8; ++k) {
            const TokenId c = allowed[rng() % allowed.size()];
            if (trie->piece(c).size() > trie->piece(pick).size()) pick = c;
          }
        }
        ASSERT_TRUE(m.accept_token(pick).is_ok());
        text += trie->piece(pick);
      }
    }
  }
  EXPECT_GT(steps, min_steps);
}

std::vector<std::shared_ptr<const Grammar>> grammars_of(const std::vector<std::string>& schemas) {
  std::vector<std::shared_ptr<const Grammar>> out;
  for (const std::string& schema : schemas) {
    Result<std::string> gbnf = json_schema_to_gbnf(schema);
    EXPECT_TRUE(gbnf.is_ok()) << schema;
    if (!gbnf.is_ok()) continue;
    Result<std::shared_ptr<const Grammar>> g = parse_grammar(*gbnf);
    EXPECT_TRUE(g.is_ok()) << schema;
    if (g.is_ok()) out.push_back(*g);
  }
  return out;
}

// Counted repetitions: string lengths below and above the longest token's character count,
// minLength, maxItems, numeric ranges. Masks of states with few characters left are decided
// from per-token character counts; states with many left share the whole-subtree shortcut.
const std::vector<std::string> kBoundedSchemas = {
    R"({"type":"string","maxLength":2})",
    R"({"type":"string","minLength":3,"maxLength":5})",
    R"({"type":"object","properties":{"a":{"type":"string","maxLength":7},"b":{"type":"string","minLength":20,"maxLength":90}},"required":["a","b"]})",
    R"({"type":"object","properties":{"t":{"type":"string","minLength":1,"maxLength":300}},"required":["t"]})",
    R"({"type":"string","minLength":70})",
    R"({"type":"array","items":{"type":"string","maxLength":4},"minItems":1,"maxItems":3})",
    R"({"type":"array","items":{"type":"integer","minimum":-20,"maximum":1500},"maxItems":5})",
    R"({"type":"object","properties":{"x":{"type":"number","minimum":0.5,"maximum":99},"s":{"type":"string","maxLength":12}},"required":["x","s"]})",
};

TEST(MaskCache, SameMasksAsReferenceSpm32k) {
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-llama-spm.gguf");
  auto tok = test::load_tokenizer(path);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  compare_on_random_walks(TokenTrie::build(**tok), 3, 60);
}

TEST(MaskCache, SameMasksAsReferenceGpt2) {
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-gpt-2.gguf");
  auto tok = test::load_tokenizer(path);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  compare_on_random_walks(TokenTrie::build(**tok), 2, 80);
}

TEST(MaskCache, SameMasksAsReferenceQwenLike150k) {
  PM_REQUIRE_FIXTURE(dir, "tokenizer");
  Result<SyntheticVocab> v = build_qwen_like_vocab(dir);
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  ASSERT_EQ(v->pieces.size(), size_t(kSyntheticVocabSize));
  compare_on_random_walks(TokenTrie::build(std::move(v->pieces), std::move(v->eog)), 2, 0);
}

TEST(MaskCache, BoundedCountsMatchPerTokenCheckGpt2) {
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-gpt-2.gguf");
  auto tok = test::load_tokenizer(path);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  compare_on_random_walks(TokenTrie::build(**tok), 3, 25, grammars_of(kBoundedSchemas), 100);
}

TEST(MaskCache, BoundedCountsMatchPerTokenCheckQwenLike150k) {
  PM_REQUIRE_FIXTURE(dir, "tokenizer");
  Result<SyntheticVocab> v = build_qwen_like_vocab(dir);
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  compare_on_random_walks(TokenTrie::build(std::move(v->pieces), std::move(v->eog)), 2, 97, grammars_of(kBoundedSchemas), 100);
}

// By hand: a string of at most 2 characters, on a small vocabulary where the count decides
// (the subtrees below "ab" and below the first byte of 中 hold tokens of 2 and 3 characters).
TEST(MaskCache, CharacterCountsDecideShortStrings) {
  Result<std::string> gbnf = json_schema_to_gbnf(R"({"type":"string","maxLength":2})");
  ASSERT_TRUE(gbnf.is_ok()) << gbnf.status().to_string();
  Result<std::shared_ptr<const Grammar>> g = parse_grammar(*gbnf);
  ASSERT_TRUE(g.is_ok());
  const std::vector<std::string> pieces = {"\"", "a", "ab", "abc", "中", "中文", "中文字", "a\"", "\xE4\xB8",
                                           "ab\xE4", "文\"", "é", "éé", "ééé", ""};
  auto trie = TokenTrie::build(pieces, {14});
  auto e = std::make_shared<GrammarEngine>(*g, trie);
  GrammarMatcher m(e);
  ASSERT_TRUE(m.accept_bytes("\""));
  std::vector<uint8_t> got(pieces.size());
  ASSERT_TRUE(m.fill_mask(got.data()).is_ok());
  //                                   "  a  ab abc 中 中文 中文字 a" E4B8 abE4 文" é  éé ééé eog
  EXPECT_EQ(got, (std::vector<uint8_t>{1, 1, 1, 0,  1, 1,   0,     1,  1,   0,   1,  1, 1, 0,  0}));
  // One character in: one more fits, then only the closing quote.
  ASSERT_TRUE(m.accept_bytes("中"));
  ASSERT_TRUE(m.fill_mask(got.data()).is_ok());
  EXPECT_EQ(got, (std::vector<uint8_t>{1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0}));
  ASSERT_TRUE(m.accept_bytes("é"));
  ASSERT_TRUE(m.fill_mask(got.data()).is_ok());
  EXPECT_EQ(got, (std::vector<uint8_t>{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

// Strings bounded by maxLength and unbounded ones, Chinese text, escapes: the text shortcut
// (whole subtrees of well-formed UTF-8 accepted in one step) against the per-token check.
TEST(MaskCache, TextShortcutMatchesPerTokenCheck) {
  PM_REQUIRE_FIXTURE(dir, "tokenizer");
  Result<SyntheticVocab> v = build_qwen_like_vocab(dir);
  ASSERT_TRUE(v.is_ok()) << v.status().to_string();
  auto trie = TokenTrie::build(std::move(v->pieces), std::move(v->eog));
  Result<std::string> gbnf = json_schema_to_gbnf(
      R"({"type":"object","properties":{"a":{"type":"string","maxLength":3},"b":{"type":"string"},"c":{"type":"string","minLength":2,"maxLength":5}},"required":["a","b","c"]})");
  ASSERT_TRUE(gbnf.is_ok()) << gbnf.status().to_string();
  Result<std::shared_ptr<const Grammar>> g = parse_grammar(*gbnf);
  ASSERT_TRUE(g.is_ok());
  auto e = std::make_shared<GrammarEngine>(*g, trie);
  std::vector<uint8_t> mask(size_t(trie->n_vocab()));
  for (const char* prefix : {"{\"a\":\"", "{\"a\":\"中", "{\"a\":\"中\xE6", "{\"a\":\"ab", "{\"a\":\"abc",
                             "{\"a\":\"\",\"b\":\"", "{\"a\":\"\",\"b\":\"你好\\", "{\"a\":\"\",\"b\":\"x\",\"c\":\"",
                             "{\"a\":\"\",\"b\":\"x\",\"c\":\"一二三四"}) {
    GrammarMatcher m(e);
    ASSERT_TRUE(m.accept_bytes(prefix)) << prefix;
    ASSERT_TRUE(m.fill_mask(mask.data()).is_ok());
    const std::vector<uint8_t> truth = per_token_truth(e, prefix);
    size_t n_allowed = 0;
    for (size_t id = 0; id < mask.size(); ++id) {
      ASSERT_EQ(mask[id], truth[id]) << "after '" << prefix << "' token " << id << " '" << trie->piece(TokenId(id)) << "'";
      n_allowed += mask[id];
    }
    EXPECT_GT(n_allowed, 0u) << prefix;
  }
  // By hand, on a small vocabulary: after {"a":"ab (maxLength 3) one more character fits.
  auto small = TokenTrie::build({"中", "中文", "\",", "a", "ab", "\xE4\xB8", "x\"", ""}, {7});
  auto e2 = std::make_shared<GrammarEngine>(*g, small);
  GrammarMatcher m(e2);
  ASSERT_TRUE(m.accept_bytes("{\"a\":\"ab"));
  std::vector<uint8_t> got(8);
  ASSERT_TRUE(m.fill_mask(got.data()).is_ok());
  EXPECT_EQ(got, (std::vector<uint8_t>{1, 0, 1, 1, 0, 1, 1, 0}));
}

}  // namespace
}  // namespace pm
