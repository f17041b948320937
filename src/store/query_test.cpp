#include "store/query.h"

#include <gtest/gtest.h>

namespace pm::store {
namespace {

// Friday 2026-11-20, 10:00 in Beijing. This week: Mon 11-16 .. Sun 11-22.
const Timestamp kNow = *parse_iso8601("2026-11-20T10:00:00+08:00");
const std::vector<std::string> kPeople = {"妈妈", "爸爸", "Alice Chen", "Bob Wang", "张伟", "me"};

std::string range(std::string_view q, const Timestamp& now = kNow) {
  const QueryPlan p = understand_query(q, now, kPeople);
  if (!p.time) return "none";
  return format_iso8601(p.time->begin_s, now.offset_s) + " " + format_iso8601(p.time->end_s, now.offset_s);
}

std::string day(const char* date) {  // "2026-11-20" -> that whole day
  const Timestamp t = *parse_iso8601(std::string(date) + "T00:00:00+08:00");
  return format_iso8601(t.epoch_s, 28800) + " " + format_iso8601(t.epoch_s + 86400, 28800);
}
std::string span(const char* from, const char* to) { return std::string(from) + ":00+08:00 " + to + ":00+08:00"; }

TEST(QueryTime, ChineseRelativeDays) {
  EXPECT_EQ(range("今天的安排"), day("2026-11-20"));
  EXPECT_EQ(range("明天"), day("2026-11-21"));
  EXPECT_EQ(range("后天"), day("2026-11-22"));
  EXPECT_EQ(range("大后天"), day("2026-11-23"));
  EXPECT_EQ(range("昨天的短信"), day("2026-11-19"));
  EXPECT_EQ(range("前天"), day("2026-11-18"));
  EXPECT_EQ(range("大前天"), day("2026-11-17"));
  EXPECT_EQ(range("3天前"), day("2026-11-17"));
  EXPECT_EQ(range("两天后"), day("2026-11-22"));
}

TEST(QueryTime, ChineseWeeks) {
  EXPECT_EQ(range("上周"), span("2026-11-09T00:00", "2026-11-16T00:00"));
  EXPECT_EQ(range("上个星期"), span("2026-11-09T00:00", "2026-11-16T00:00"));
  EXPECT_EQ(range("这周"), span("2026-11-16T00:00", "2026-11-23T00:00"));
  EXPECT_EQ(range("本周"), span("2026-11-16T00:00", "2026-11-23T00:00"));
  EXPECT_EQ(range("下周"), span("2026-11-23T00:00", "2026-11-30T00:00"));
  EXPECT_EQ(range("上上周"), span("2026-11-02T00:00", "2026-11-09T00:00"));
  EXPECT_EQ(range("这周五"), day("2026-11-20"));
  EXPECT_EQ(range("下周一的会议"), day("2026-11-23"));
  EXPECT_EQ(range("上周五"), day("2026-11-13"));
  EXPECT_EQ(range("下星期三"), day("2026-11-25"));
  EXPECT_EQ(range("周日"), day("2026-11-22"));
  EXPECT_EQ(range("星期天"), day("2026-11-22"));
  EXPECT_EQ(range("周末"), span("2026-11-21T00:00", "2026-11-23T00:00"));
  EXPECT_EQ(range("上周末"), span("2026-11-14T00:00", "2026-11-16T00:00"));
  EXPECT_EQ(range("周杰伦的歌"), "none");  // 周 alone is no time
  EXPECT_EQ(range("周围的餐厅"), "none");
}

TEST(QueryTime, ChineseMonthsYearsAndDates) {
  EXPECT_EQ(range("这个月"), span("2026-11-01T00:00", "2026-12-01T00:00"));
  EXPECT_EQ(range("本月"), span("2026-11-01T00:00", "2026-12-01T00:00"));
  EXPECT_EQ(range("上个月"), span("2026-10-01T00:00", "2026-11-01T00:00"));
  EXPECT_EQ(range("下个月"), span("2026-12-01T00:00", "2027-01-01T00:00"));
  EXPECT_EQ(range("去年"), span("2025-01-01T00:00", "2026-01-01T00:00"));
  EXPECT_EQ(range("3月15日"), day("2026-03-15"));
  EXPECT_EQ(range("三月十五号"), day("2026-03-15"));
  EXPECT_EQ(range("2025年12月31日"), day("2025-12-31"));
  EXPECT_EQ(range("3月"), span("2026-03-01T00:00", "2026-04-01T00:00"));
  EXPECT_EQ(range("十二月份"), span("2026-12-01T00:00", "2027-01-01T00:00"));
  EXPECT_EQ(range("25号"), day("2026-11-25"));
  EXPECT_EQ(range("2月30日"), "none");  // no such day
  EXPECT_EQ(range("最近三天"), span("2026-11-18T00:00", "2026-11-21T00:00"));
  EXPECT_EQ(range("最近"), span("2026-11-14T00:00", "2026-11-21T00:00"));
  EXPECT_EQ(range("附近的餐厅"), "none");
}

TEST(QueryTime, ChinesePartsOfDayAndClock) {
  EXPECT_EQ(range("明天上午"), span("2026-11-21T06:00", "2026-11-21T12:00"));
  EXPECT_EQ(range("昨天晚上"), span("2026-11-19T18:00", "2026-11-20T00:00"));
  EXPECT_EQ(range("昨晚"), span("2026-11-19T18:00", "2026-11-20T00:00"));
  EXPECT_EQ(range("今晚"), span("2026-11-20T18:00", "2026-11-21T00:00"));
  EXPECT_EQ(range("晚上"), span("2026-11-20T18:00", "2026-11-21T00:00"));
  EXPECT_EQ(range("明天下午三点"), span("2026-11-21T15:00", "2026-11-21T16:00"));
  EXPECT_EQ(range("下周三上午9点"), span("2026-11-25T09:00", "2026-11-25T10:00"));
  EXPECT_EQ(range("3点半"), span("2026-11-20T15:30", "2026-11-20T16:30"));
}

TEST(QueryTime, English) {
  EXPECT_EQ(range("today"), day("2026-11-20"));
  EXPECT_EQ(range("Tomorrow"), day("2026-11-21"));
  EXPECT_EQ(range("yesterday"), day("2026-11-19"));
  EXPECT_EQ(range("the day before yesterday"), day("2026-11-18"));
  EXPECT_EQ(range("tomorrow evening"), span("2026-11-21T18:00", "2026-11-22T00:00"));
  EXPECT_EQ(range("yesterday morning"), span("2026-11-19T05:00", "2026-11-19T12:00"));
  EXPECT_EQ(range("tonight"), span("2026-11-20T18:00", "2026-11-21T00:00"));
  EXPECT_EQ(range("last night"), span("2026-11-19T18:00", "2026-11-20T00:00"));
  EXPECT_EQ(range("last week"), span("2026-11-09T00:00", "2026-11-16T00:00"));
  EXPECT_EQ(range("next week"), span("2026-11-23T00:00", "2026-11-30T00:00"));
  EXPECT_EQ(range("this month"), span("2026-11-01T00:00", "2026-12-01T00:00"));
  EXPECT_EQ(range("last month"), span("2026-10-01T00:00", "2026-11-01T00:00"));
  EXPECT_EQ(range("last Friday"), day("2026-11-13"));
  EXPECT_EQ(range("last thursday"), day("2026-11-19"));  // the latest Thursday before today
  EXPECT_EQ(range("next Monday"), day("2026-11-23"));
  EXPECT_EQ(range("on wednesday"), day("2026-11-18"));
  EXPECT_EQ(range("in March"), span("2026-03-01T00:00", "2026-04-01T00:00"));
  EXPECT_EQ(range("March 15"), day("2026-03-15"));
  EXPECT_EQ(range("15th of march 2025"), day("2025-03-15"));
  EXPECT_EQ(range("2026-03-15"), day("2026-03-15"));
  EXPECT_EQ(range("3 days ago"), day("2026-11-17"));
  EXPECT_EQ(range("last 3 days"), span("2026-11-18T00:00", "2026-11-21T00:00"));
  EXPECT_EQ(range("this weekend"), span("2026-11-21T00:00", "2026-11-23T00:00"));
  EXPECT_EQ(range("tomorrow at 3pm"), span("2026-11-21T15:00", "2026-11-21T16:00"));
  EXPECT_EQ(range("may I see the photos"), "none");  // "may" is a word
  EXPECT_EQ(range("march on"), "none");
  EXPECT_EQ(range("sun cream"), "none");
}

TEST(QueryTime, WrapsYearsAndUsesTheOffsetOfNow) {
  const Timestamp jan = *parse_iso8601("2027-01-03T09:00:00+08:00");  // a Sunday
  EXPECT_EQ(range("上个月", jan), "2026-12-01T00:00:00+08:00 2027-01-01T00:00:00+08:00");
  EXPECT_EQ(range("上周", jan), "2026-12-21T00:00:00+08:00 2026-12-28T00:00:00+08:00");
  // 23:30 UTC on the 19th is already the 20th in Beijing.
  const Timestamp late = *parse_iso8601("2026-11-19T23:30:00Z");
  EXPECT_EQ(range("today", Timestamp{late.epoch_s, 28800}), day("2026-11-20"));
  EXPECT_EQ(range("today", late), "2026-11-19T00:00:00Z 2026-11-20T00:00:00Z");
}

TEST(QuerySources, FiltersAndBoosts) {
  auto sources = [](std::string_view q) { return understand_query(q, kNow, kPeople).sources; };
  EXPECT_EQ(sources("妈妈发的短信"), std::vector<std::string>{"sms"});
  EXPECT_EQ(sources("text messages about dinner"), std::vector<std::string>{"sms"});
  EXPECT_EQ(sources("明天的日程"), std::vector<std::string>{"calendar"});
  EXPECT_EQ(sources("收据照片"), std::vector<std::string>{"photo"});
  EXPECT_EQ(sources("photo of the receipt"), std::vector<std::string>{"photo"});
  EXPECT_EQ(sources("备忘录里的WiFi密码"), std::vector<std::string>{"note"});
  EXPECT_EQ(sources("my notes"), std::vector<std::string>{"note"});
  EXPECT_EQ(sources("和房东的通话"), std::vector<std::string>{"call"});
  EXPECT_EQ(sources("call with Bob"), std::vector<std::string>{"call"});
  EXPECT_EQ(sources("Alice的电话号码"), std::vector<std::string>{"contact"});
  EXPECT_TRUE(sources("notebook prices").empty());
  const QueryPlan meeting = understand_query("明天的会议", kNow, kPeople);
  EXPECT_TRUE(meeting.sources.empty());
  EXPECT_EQ(meeting.boost_sources, std::vector<std::string>{"calendar"});
  EXPECT_NE(meeting.text.find("会议"), std::string::npos);  // still searched
}

TEST(QueryPeople, CuesMakeFilters) {
  QueryPlan p = understand_query("妈妈发的短信", kNow, kPeople);
  ASSERT_EQ(p.people.size(), 1u);
  EXPECT_TRUE(p.people[0].filter);
  EXPECT_EQ(p.people[0].role, PersonRole::kSender);
  EXPECT_EQ(p.people[0].names, std::vector<std::string>{"妈妈"});
  EXPECT_EQ(p.text, "");

  p = understand_query("from Alice about the report", kNow, kPeople);
  ASSERT_EQ(p.people.size(), 1u);
  EXPECT_TRUE(p.people[0].filter);
  EXPECT_EQ(p.people[0].names, std::vector<std::string>{"Alice Chen"});
  EXPECT_EQ(p.text, "about the report");

  p = understand_query("what did mom text me last week", kNow, kPeople);
  ASSERT_EQ(p.people.size(), 1u);
  EXPECT_TRUE(p.people[0].filter);
  EXPECT_EQ(p.people[0].names, std::vector<std::string>{"妈妈"});  // kinship word -> the stored name
  EXPECT_EQ(p.sources, std::vector<std::string>{"sms"});
  EXPECT_TRUE(p.time.has_value());

  p = understand_query("上周老妈发来的消息", kNow, kPeople);
  ASSERT_EQ(p.people.size(), 1u);
  EXPECT_EQ(p.people[0].names, std::vector<std::string>{"妈妈"});
  EXPECT_EQ(p.people[0].role, PersonRole::kSender);

  p = understand_query("和张伟的通话", kNow, kPeople);
  ASSERT_EQ(p.people.size(), 1u);
  EXPECT_EQ(p.people[0].role, PersonRole::kAny);
  EXPECT_TRUE(p.people[0].filter);

  p = understand_query("call with Bob", kNow, kPeople);
  ASSERT_EQ(p.people.size(), 1u);
  EXPECT_EQ(p.people[0].names, std::vector<std::string>{"Bob Wang"});
}

TEST(QueryPeople, BareNamesOnlyBoostAndStaySearched) {
  QueryPlan p = understand_query("Alice roadmap", kNow, kPeople);
  ASSERT_EQ(p.people.size(), 1u);
  EXPECT_FALSE(p.people[0].filter);
  EXPECT_NE(p.text.find("Alice Chen"), std::string::npos);
  // "me" is never a person mention; unknown names are plain text.
  p = understand_query("remind me about Zoe", kNow, kPeople);
  EXPECT_TRUE(p.people.empty());
  EXPECT_EQ(p.text, "remind me about zoe");
  // A name inside an English word is not a mention.
  p = understand_query("bobsled race", kNow, kPeople);
  EXPECT_TRUE(p.people.empty());
}

TEST(QueryText, LiteralSyntaxSurvivesAndFullWidthFolds) {
  const QueryPlan p = understand_query("\"NEAR(cat*) OR DROP TABLE records; --", kNow, kPeople);
  EXPECT_EQ(p.text, "\"near(cat*) or drop table records; --");
  EXPECT_EQ(understand_query("ＡＢＣ１２３", kNow, kPeople).text, "abc123");
  EXPECT_EQ(understand_query(std::string("bad \xff\xfe utf8"), kNow, kPeople).text, "bad utf8");
}

}  // namespace
}  // namespace pm::store
