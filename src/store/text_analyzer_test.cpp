#include "store/text_analyzer.h"

#include <gtest/gtest.h>

#include <set>

namespace pm::store {
namespace {

struct Term {
  std::string text;
  int start, end;
  bool colocated;
};

std::vector<Term> index_terms(TextAnalyzer& a, std::string_view text) {
  std::vector<Term> out;
  a.index_terms(text, [&](std::string_view t, int s, int e, bool c) {
    out.push_back({std::string(t), s, e, c});
    return 0;
  });
  return out;
}

std::set<std::string> term_set(TextAnalyzer& a, std::string_view text) {
  std::set<std::string> s;
  for (const auto& t : index_terms(a, text)) s.insert(t.text);
  return s;
}

class TextAnalyzerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = TextAnalyzer::create();
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    a = std::move(r).value();
  }
  std::unique_ptr<TextAnalyzer> a;
};

TEST_F(TextAnalyzerTest, ChineseRunGivesBigramsUnigramsAndLongWords) {
  const std::set<std::string> s = term_set(*a, "海底捞火锅店");
  for (const char* t : {"海底", "底捞", "捞火", "火锅", "锅店", "海", "底", "捞", "火", "锅", "店"})
    EXPECT_TRUE(s.count(t)) << t;
  // One position per character: the bigram leads, the unigram is colocated.
  const auto terms = index_terms(*a, "火锅店");
  ASSERT_GE(terms.size(), 5u);
  EXPECT_EQ(terms[0].text, "火锅");
  EXPECT_FALSE(terms[0].colocated);
  EXPECT_EQ(terms[0].start, 0);
  EXPECT_EQ(terms[0].end, 6);
  EXPECT_EQ(terms[1].text, "火");
  EXPECT_TRUE(terms[1].colocated);
}

TEST_F(TextAnalyzerTest, DictionaryWordsOfThreeOrMoreCharactersAreIndexed) {
  const std::set<std::string> s = term_set(*a, "我喜欢吃红烧肉和巧克力");
  EXPECT_TRUE(s.count("巧克力"));
}

TEST_F(TextAnalyzerTest, FullWidthAndCaseFold) {
  EXPECT_EQ(term_set(*a, "ＡＢＣ１２３"), std::set<std::string>{"abc123"});
  EXPECT_EQ(term_set(*a, "ABC123"), std::set<std::string>{"abc123"});
  EXPECT_EQ(term_set(*a, "Straße"), term_set(*a, "STRASSE"));
}

TEST_F(TextAnalyzerTest, EnglishIsStemmedAndPossessivesDropped) {
  EXPECT_EQ(term_set(*a, "Connections connecting"), std::set<std::string>{"connect"});
  EXPECT_EQ(term_set(*a, "Alice's"), std::set<std::string>{"alic"});
  EXPECT_EQ(term_set(*a, "don't"), std::set<std::string>{"dont"});
}

TEST_F(TextAnalyzerTest, OffsetsPointIntoTheOriginalText) {
  const std::string text = "Hi 妈妈，ＡＢＣ!";
  for (const auto& t : index_terms(*a, text)) {
    ASSERT_LE(t.end, int(text.size()));
    ASSERT_LT(t.start, t.end);
  }
  const auto terms = index_terms(*a, text);
  EXPECT_EQ(text.substr(terms.back().start, terms.back().end - terms.back().start), "ＡＢＣ");
}

TEST_F(TextAnalyzerTest, InvalidUtf8IsSkippedNotIndexed) {
  const std::set<std::string> s = term_set(*a, std::string("ab\xff\xfe cd \xe4\xbd"));
  EXPECT_TRUE(s.count("ab"));
  EXPECT_TRUE(s.count("cd"));
  for (const auto& t : s) EXPECT_EQ(t.find('\xff'), std::string::npos);
}

TEST_F(TextAnalyzerTest, QueryTermsDropStopwordsAndJoinSplitCharacters) {
  auto terms = a->query_terms("what did the connections say");
  ASSERT_EQ(terms.size(), 1u);
  EXPECT_EQ(terms[0].alternatives[0][0], "connect");

  terms = a->query_terms("红烧肉");  // the dictionary splits 红烧|肉
  ASSERT_FALSE(terms.empty());
  EXPECT_EQ(terms[0].alternatives[0][0], "红烧肉");
  ASSERT_EQ(terms[0].alternatives.size(), 2u);
  EXPECT_EQ(terms[0].alternatives[1], (std::vector<std::string>{"红烧", "烧肉"}));

  terms = a->query_terms("的");
  EXPECT_TRUE(terms.empty());
}

TEST_F(TextAnalyzerTest, MatchExpressionQuotesEverything) {
  const auto terms = a->query_terms("\"NEAR(x* OR y\" AND");
  const std::string expr = fts_match_expression(terms);
  // Every term is a quoted string behind the literal marker; nothing else but OR / + / parentheses.
  size_t quotes = 0;
  for (char c : expr) quotes += c == '"';
  EXPECT_EQ(quotes % 2, 0u);
  EXPECT_NE(expr.find(std::string("\"") + kLiteralMarker + "near\""), std::string::npos) << expr;
  EXPECT_EQ(fts_match_expression({}), "");
}

}  // namespace
}  // namespace pm::store
