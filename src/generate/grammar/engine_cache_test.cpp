// GrammarCache: the same grammar text gets the same compiled engine (its automaton and masks
// stay warm across requests), different texts different engines, the least recently used entry
// is dropped at capacity, and grammars that do not compile are reported, not cached.
#include "generate/grammar/engine_cache.h"

#include <vector>

#include "formats/gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace pm {
namespace {

TEST(GrammarCache, ReusesEnginesAndEvictsTheLeastRecentlyUsed) {
  PM_REQUIRE_FIXTURE(path, "gguf/qwen2-bpe-tiny-f16.gguf");
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.is_ok());
  auto tok = Tokenizer::from_gguf(**f);
  ASSERT_TRUE(tok.is_ok());
  GrammarCache cache(**tok, /*capacity=*/2);
  const std::string yes = "root ::= \"yes\"", no = "root ::= \"no\"", maybe = "root ::= \"maybe\"";
  auto a = cache.get(yes);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  auto a2 = cache.get(yes);
  ASSERT_TRUE(a2.is_ok());
  EXPECT_EQ(a->get(), a2->get());
  auto b = cache.get(no);
  ASSERT_TRUE(b.is_ok());
  EXPECT_NE(a->get(), b->get());
  EXPECT_EQ(&(*a)->trie(), &(*b)->trie());  // one vocabulary trie for every grammar

  // The cached engine constrains like a fresh one: after "ye" only tokens continuing "s" fit.
  GrammarMatcher m(*a2);
  ASSERT_TRUE(m.accept_bytes("ye"));
  std::vector<uint8_t> allowed(size_t((*tok)->n_vocab()));
  ASSERT_TRUE(m.fill_mask(allowed.data()).is_ok());
  int n_allowed = 0;
  for (size_t t = 0; t < allowed.size(); ++t)
    if (allowed[t]) {
      ++n_allowed;
      EXPECT_EQ((*tok)->token_to_piece(TokenId(t), false), "s") << t;
    }
  EXPECT_GE(n_allowed, 1);

  ASSERT_TRUE(cache.get(yes).is_ok());    // yes is now the most recently used
  ASSERT_TRUE(cache.get(maybe).is_ok());  // capacity 2: drops "no"
  auto b2 = cache.get(no);
  ASSERT_TRUE(b2.is_ok());
  EXPECT_NE(b->get(), b2->get());  // compiled again
  const GrammarCache::Stats s = cache.stats();
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 4u);

  auto bad = cache.get("root ::= (");
  EXPECT_FALSE(bad.is_ok());
  EXPECT_EQ(cache.stats().entries, 2u);
}

}  // namespace
}  // namespace pm
