// Segmenter: where streaming translation cuts its input (assistant/translate.h).
#include "assistant/translate.h"

#include <gtest/gtest.h>

namespace pm::assistant {
namespace {

using Segments = std::vector<std::string>;

Segments whole(const std::string& text, SegmenterOptions o = {}) {
  Segmenter s(o);
  Segments out = s.feed(text);
  for (auto& x : s.finish()) out.push_back(x);
  return out;
}

// The same text fed one byte at a time (splitting every multi-byte character).
Segments bytewise(const std::string& text, SegmenterOptions o = {}) {
  Segmenter s(o);
  Segments out;
  for (char c : text)
    for (auto& x : s.feed(std::string(1, c))) out.push_back(x);
  for (auto& x : s.finish()) out.push_back(x);
  return out;
}

TEST(Segmenter, ChineseSentences) {
  EXPECT_EQ(whole("今天天气很好。我们去公园吧！你来吗？"), (Segments{"今天天气很好。", "我们去公园吧！", "你来吗？"}));
}

TEST(Segmenter, EnglishSentences) {
  EXPECT_EQ(whole("The demo moved to Tuesday. Can you update the slides? Thanks!"),
            (Segments{"The demo moved to Tuesday.", "Can you update the slides?", "Thanks!"}));
}

TEST(Segmenter, MixedLanguages) {
  EXPECT_EQ(whole("我明天去上海。I will call you tonight. 好的！"),
            (Segments{"我明天去上海。", "I will call you tonight.", "好的！"}));
}

TEST(Segmenter, DecimalsAbbreviationsAndEllipsesDoNotEndSentences) {
  EXPECT_EQ(whole("The fare was 32.5 yuan. Mr. Wang paid it."),
            (Segments{"The fare was 32.5 yuan.", "Mr. Wang paid it."}));
  EXPECT_EQ(whole("Dr. Smith called at 3 p.m. today."), (Segments{"Dr. Smith called at 3 p.m. today."}));
  EXPECT_EQ(whole("Wait... what happened? Nothing."), (Segments{"Wait... what happened?", "Nothing."}));
  EXPECT_EQ(whole("Visit www.example.com now."), (Segments{"Visit www.example.com now."}));
  EXPECT_EQ(whole("他说……算了。"), (Segments{"他说……算了。"}));
}

TEST(Segmenter, ClosingQuotesAndRepeatsStayWithTheirSentence) {
  EXPECT_EQ(whole("她说：“真的吗？！”然后走了。"), (Segments{"她说：“真的吗？！”", "然后走了。"}));
  EXPECT_EQ(whole("He said \"stop.\" Then he left."), (Segments{"He said \"stop.\"", "Then he left."}));
}

TEST(Segmenter, LongClausesAreCutAtCommas) {
  // 15 CJK characters before the first comma (weight 30 >= 24): a clause of its own.
  EXPECT_EQ(whole("下个月开始房租要涨到六千五了啊，合同可以续签两年。"),
            (Segments{"下个月开始房租要涨到六千五了啊，", "合同可以续签两年。"}));
  // A short clause (好的，= weight 4) is not cut.
  EXPECT_EQ(whole("好的，我知道了。"), (Segments{"好的，我知道了。"}));
  // English commas only before whitespace: "3,000" stays whole.
  EXPECT_EQ(whole("The new rent is 3,000 dollars a month, starting in December."),
            (Segments{"The new rent is 3,000 dollars a month,", "starting in December."}));
}

TEST(Segmenter, NewlinesEndSegmentsAndFinishFlushesTheRest) {
  EXPECT_EQ(whole("第一行没有标点\nsecond line\nunfinished"),
            (Segments{"第一行没有标点", "second line", "unfinished"}));
  EXPECT_EQ(whole("   \n\n  "), Segments{});
}

TEST(Segmenter, SegmentsAreEmittedAsSoonAsTheyAreKnownComplete) {
  Segmenter s;
  EXPECT_EQ(s.feed("你好。我们"), (Segments{"你好。"}));
  EXPECT_EQ(s.feed("走吧"), Segments{});
  EXPECT_EQ(s.feed("！"), Segments{});  // a closing quote or "！？" could still follow
  EXPECT_EQ(s.feed("Ok"), (Segments{"我们走吧！"}));
  EXPECT_EQ(s.feed(". "), (Segments{"Ok."}));
  EXPECT_EQ(s.finish(), Segments{});
}

TEST(Segmenter, FeedingByteByByteGivesTheSameSegments) {
  const std::vector<std::string> texts = {
      "今天天气很好。我们去公园吧！你来吗？",
      "The fare was 32.5 yuan. Mr. Wang paid it. Wait... what happened?",
      "她说：“真的吗？！”然后走了。下个月开始房租要涨到六千五了啊，合同可以续签两年。",
      "I'll send the report by 5 p.m. on Friday, okay? 好的，没问题；明天见。\nnext line",
  };
  for (const std::string& t : texts) EXPECT_EQ(bytewise(t), whole(t)) << t;
}

TEST(TargetLanguage, AcceptsEnglishAndChineseOnly) {
  EXPECT_EQ(*parse_target_language("en"), TargetLanguage::kEnglish);
  EXPECT_EQ(*parse_target_language("ZH"), TargetLanguage::kChinese);
  EXPECT_EQ(*parse_target_language("中文"), TargetLanguage::kChinese);
  Result<TargetLanguage> bad = parse_target_language("fr");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("expected en or zh"), std::string::npos);
}

}  // namespace
}  // namespace pm::assistant
