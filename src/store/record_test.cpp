#include "store/record.h"

#include <gtest/gtest.h>

namespace pm::store {
namespace {

std::string error_of(const std::string& line) {
  Result<Record> r = parse_record(line);
  return r.is_ok() ? "ok" : r.status().message();
}

TEST(RecordParse, TheDesignExample) {
  Result<Record> r = parse_record(
      R"({"id": "sms-0001", "source": "sms", "time": "2026-11-20T08:15:00+08:00", "sender": "妈妈", "recipients": ["me"], )"
      R"("title": null, "text": "周六回家吃饭吗？", "start": null, "end": null, "location": null, "tags": [], "meta": {}})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->id, "sms-0001");
  EXPECT_EQ(*r->sender, "妈妈");
  EXPECT_EQ(r->recipients, std::vector<std::string>{"me"});
  EXPECT_EQ(format_iso8601(r->time), "2026-11-20T08:15:00+08:00");
  EXPECT_EQ(record_to_json(*r)["time"], "2026-11-20T08:15:00+08:00");
}

TEST(RecordParse, ErrorsNameTheField) {
  EXPECT_EQ(error_of(R"({"id": "a", "source": "sms"})"), "field \"time\": missing (required, ISO 8601)");
  EXPECT_EQ(error_of(R"({"source": "sms", "time": "2026-01-01"})"), "field \"id\": missing (required)");
  EXPECT_EQ(error_of(R"({"id": 5, "source": "sms", "time": "2026-01-01"})"),
            "field \"id\": expected a string, got a number");
  EXPECT_NE(error_of(R"({"id": "a", "source": "fax", "time": "2026-01-01"})").find("\"fax\" is not one of sms"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"id": "a", "source": "sms", "time": "yesterday"})")
                .find("field \"time\": \"yesterday\" is not an ISO 8601"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"id": "a", "source": "sms", "time": "2026-02-30T10:00:00Z"})").find("no such date"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"id": "a", "source": "sms", "time": "2026-01-01", "recipients": "me"})"),
            "field \"recipients\": expected an array of strings, got a string");
  EXPECT_EQ(error_of(R"({"id": "a", "source": "sms", "time": "2026-01-01", "recipients": ["me", 3]})"),
            "field \"recipients[1]\": expected a string, got a number");
  EXPECT_EQ(error_of(R"({"id": "a", "source": "sms", "time": "2026-01-01", "text": {"x": 1}})"),
            "field \"text\": expected a string or null, got an object");
  EXPECT_EQ(error_of(R"({"id": "a", "source": "sms", "time": "2026-01-01", "meta": []})"),
            "field \"meta\": expected an object, got an array");
  EXPECT_EQ(error_of(R"({"id": "", "source": "sms", "time": "2026-01-01"})"), "field \"id\": empty");
  EXPECT_EQ(
      error_of(
          R"({"id": "a", "source": "calendar", "time": "2026-01-01", "start": "2026-01-02T10:00:00Z", "end": "2026-01-02T09:00:00Z"})"),
      "field \"end\": before \"start\"");
  EXPECT_EQ(error_of("[1, 2]"), "expected a JSON object, got an array");
  EXPECT_EQ(error_of("{\"id\": \"a\"").rfind("not valid JSON", 0), 0u);
}

TEST(RecordParse, RejectsInvalidUtf8AndHugeFields) {
  EXPECT_EQ(error_of(std::string("{\"id\": \"a\xff\", \"source\": \"sms\", \"time\": \"2026-01-01\"}")),
            "invalid UTF-8 at byte 10 of the line");
  const std::string big(kMaxTextBytes + 1, 'x');
  EXPECT_NE(
      error_of(R"({"id": "a", "source": "sms", "time": "2026-01-01", "text": ")" + big + "\"}").find("the limit is"),
      std::string::npos);
}

TEST(RecordParse, KeepsSyntaxLookingTextVerbatim) {
  Result<Record> r = parse_record(
      R"({"id": "x'; DROP TABLE records; --", "source": "note", "time": "2026-01-01", "text": "\"NEAR(a b)\" OR *"})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r->text, "\"NEAR(a b)\" OR *");
}

TEST(Iso8601, ParsesAndFormats) {
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00Z")->epoch_s, 0);
  EXPECT_EQ(parse_iso8601("2026-11-20T08:15:00+08:00")->epoch_s, parse_iso8601("2026-11-20T00:15:00Z")->epoch_s);
  EXPECT_EQ(parse_iso8601("2026-11-20 08:15+0800")->epoch_s, parse_iso8601("2026-11-20T00:15:00Z")->epoch_s);
  EXPECT_EQ(parse_iso8601("2026-11-20T08:15:00.123-05:00")->offset_s, -5 * 3600);
  EXPECT_EQ(format_iso8601(*parse_iso8601("1969-12-31T23:59:59-01:30")), "1969-12-31T23:59:59-01:30");
  EXPECT_EQ(format_iso8601(*parse_iso8601("2024-02-29")), "2024-02-29T00:00:00Z");
  for (const char* bad : {"", "2026", "2026-13-01", "2026-11-20T25:00", "2026-11-20T08:15:00+08:00x", "2026-11-20T08"})
    EXPECT_FALSE(parse_iso8601(bad).is_ok()) << bad;
}

TEST(Calendar, DaysRoundTrip) {
  for (int64_t d = -800000; d < 800000; d += 997) {
    const CivilDate c = civil_from_days(d);
    EXPECT_EQ(days_from_civil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(weekday_from_days(days_from_civil(2026, 11, 20)), 4);  // Friday
}

}  // namespace
}  // namespace pm::store
