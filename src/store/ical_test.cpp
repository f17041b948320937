#include "store/ical.h"

#include <gtest/gtest.h>

namespace pm::store {
namespace {

// Occurrence start dates ("YYYY-MM-DD") of an RRULE starting on `start` (UTC wall clock).
std::vector<std::string> dates(const std::string& rrule, const char* start, const char* window_end = "2030-01-01") {
  Result<RecurrenceRule> r = parse_rrule(rrule, 0);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  if (!r.is_ok()) return {};
  const int64_t d0 = parse_iso8601(start)->epoch_s / 86400;
  const int64_t end = parse_iso8601(window_end)->epoch_s;
  std::vector<std::string> out;
  for (int64_t d : expand_rrule(
           *r, d0, [](int64_t day) { return day * 86400; }, 0, end, 50))
    out.push_back(format_iso8601(d * 86400, 0).substr(0, 10));
  return out;
}

using V = std::vector<std::string>;

TEST(RRule, DailyWithIntervalAndCount) {
  EXPECT_EQ(dates("FREQ=DAILY;COUNT=3", "2026-11-20"), (V{"2026-11-20", "2026-11-21", "2026-11-22"}));
  EXPECT_EQ(dates("FREQ=DAILY;INTERVAL=10;COUNT=3", "2026-12-25"), (V{"2026-12-25", "2027-01-04", "2027-01-14"}));
}

TEST(RRule, WeeklyByDayUntil) {
  // Monday 2026-11-16 start, MO/WE/FR until Friday 11-27 (inclusive).
  EXPECT_EQ(dates("FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20261127T235959Z", "2026-11-16"),
            (V{"2026-11-16", "2026-11-18", "2026-11-20", "2026-11-23", "2026-11-25", "2026-11-27"}));
  EXPECT_EQ(dates("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;COUNT=3", "2026-11-05"),
            (V{"2026-11-05", "2026-11-19", "2026-12-03"}));
  // A start day that is not in BYDAY is not itself an occurrence (RFC 5545 counts from the first match).
  EXPECT_EQ(dates("FREQ=WEEKLY;BYDAY=TU;COUNT=2", "2026-11-20"), (V{"2026-11-24", "2026-12-01"}));
  EXPECT_EQ(dates("FREQ=WEEKLY;UNTIL=20261204", "2026-11-20"), (V{"2026-11-20", "2026-11-27", "2026-12-04"}));
}

TEST(RRule, MonthlyByMonthDayAndByDayOrdinals) {
  EXPECT_EQ(dates("FREQ=MONTHLY;COUNT=4", "2026-01-31"), (V{"2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"}));
  EXPECT_EQ(dates("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3", "2026-01-31"), (V{"2026-01-31", "2026-02-28", "2026-03-31"}));
  EXPECT_EQ(dates("FREQ=MONTHLY;BYDAY=2MO;COUNT=3", "2026-11-01"), (V{"2026-11-09", "2026-12-14", "2027-01-11"}));
  EXPECT_EQ(dates("FREQ=MONTHLY;BYDAY=-1FR;COUNT=2", "2026-11-01"), (V{"2026-11-27", "2026-12-25"}));
  EXPECT_EQ(dates("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1;COUNT=3", "2026-09-01"),
            (V{"2026-09-01", "2026-12-01", "2027-03-01"}));
}

TEST(RRule, YearlyIncludingLeapDays) {
  EXPECT_EQ(dates("FREQ=YEARLY;COUNT=3", "2024-02-29", "2040-01-01"), (V{"2024-02-29", "2028-02-29", "2032-02-29"}));
  EXPECT_EQ(dates("FREQ=YEARLY;BYMONTH=3,9;BYMONTHDAY=12;COUNT=3", "2026-01-01"),
            (V{"2026-03-12", "2026-09-12", "2027-03-12"}));
  EXPECT_EQ(dates("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=2", "2026-01-01"), (V{"2026-11-26", "2027-11-25"}));
}

TEST(RRule, WindowLimitsOpenEndedRules) {
  const auto d = dates("FREQ=DAILY", "2026-01-01", "2026-01-05");
  EXPECT_EQ(d, (V{"2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"}));
}

TEST(RRule, ErrorsAreClear) {
  EXPECT_EQ(parse_rrule("BYDAY=MO", 0).status().message(), "RRULE has no FREQ");
  EXPECT_EQ(parse_rrule("FREQ=HOURLY", 0).status().message(),
            "RRULE FREQ=HOURLY is not supported (DAILY, WEEKLY, MONTHLY, YEARLY are)");
  EXPECT_EQ(parse_rrule("FREQ=MONTHLY;BYSETPOS=-1", 0).status().message(), "RRULE part BYSETPOS is not supported");
  EXPECT_FALSE(parse_rrule("FREQ=WEEKLY;BYDAY=XX", 0).is_ok());
  EXPECT_FALSE(parse_rrule("FREQ=WEEKLY;COUNT=2;UNTIL=20260101", 0).is_ok());
  EXPECT_FALSE(parse_rrule("FREQ=WEEKLY;INTERVAL=0", 0).is_ok());
}

const char* kCalendar =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
    "BEGIN:VEVENT\r\nUID:standup\r\nDTSTART;TZID=Asia/Shanghai:20261116T093000\r\n"
    "DTEND;TZID=Asia/Shanghai:20261116T094500\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4\r\n"
    "EXDATE;TZID=Asia/Shanghai:20261118T093000\r\nSUMMARY:Stand-up\r\nORGANIZER;CN=\"Alice Chen\":mailto:a@x\r\n"
    "ATTENDEE;CN=Bob:mailto:b@x\r\nBEGIN:VALARM\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:standup\r\nRECURRENCE-ID;TZID=Asia/Shanghai:20261123T093000\r\n"
    "DTSTART;TZID=Asia/Shanghai:20261123T100000\r\nDURATION:PT30M\r\nSUMMARY:Stand-up (moved)\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:dinner\r\nDTSTART:20261121T100000Z\r\nSUMMARY:Dinner\\, family\r\nDESCRIPTION:line1\\nline\r\n"
    " 2\r\nLOCATION:海底捞\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:allday\r\nDTSTART;VALUE=DATE:20261203\r\nSUMMARY:Birthday\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nSUMMARY:no start\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:bad-rule\r\nDTSTART:20261121T100000Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n";

TEST(Ics, ConvertsEventsExpandsRecurrencesAndReportsProblems) {
  IcsOptions o;
  o.window_begin_s = parse_iso8601("2026-01-01")->epoch_s;
  o.window_end_s = parse_iso8601("2027-01-01")->epoch_s;
  o.default_offset_s = 8 * 3600;
  const ConvertResult c = parse_ics(kCalendar, o);
  std::map<std::string, Record> by_id;
  for (const Record& r : c.records) by_id[r.id] = r;
  // 4 occurrences (11-16, 11-18 excluded, 11-23 overridden, 11-25) + override + dinner + all-day.
  ASSERT_EQ(by_id.size(), 5u) << c.records.size();
  const Record& first = by_id.at("ics:standup/2026-11-16T01:30:00Z");
  EXPECT_EQ(format_iso8601(*first.start), "2026-11-16T09:30:00+08:00");
  EXPECT_EQ(format_iso8601(*first.end), "2026-11-16T09:45:00+08:00");
  EXPECT_EQ(*first.sender, "Alice Chen");
  EXPECT_EQ(first.recipients, std::vector<std::string>{"Bob"});
  EXPECT_TRUE(by_id.count("ics:standup/2026-11-25T01:30:00Z"));
  EXPECT_FALSE(by_id.count("ics:standup/2026-11-18T01:30:00Z"));  // EXDATE
  const Record& moved = by_id.at("ics:standup/2026-11-23T01:30:00Z");
  EXPECT_EQ(*moved.title, "Stand-up (moved)");
  EXPECT_EQ(format_iso8601(*moved.end), "2026-11-23T10:30:00+08:00");
  const Record& dinner = by_id.at("ics:dinner");
  EXPECT_EQ(*dinner.title, "Dinner, family");
  EXPECT_EQ(*dinner.text, "line1\nline2");
  EXPECT_EQ(*dinner.location, "海底捞");
  const Record& allday = by_id.at("ics:allday");
  EXPECT_EQ(format_iso8601(allday.time), "2026-12-03T00:00:00+08:00");
  EXPECT_EQ(allday.end->epoch_s - allday.start->epoch_s, 86400);
  ASSERT_EQ(c.errors.size(), 2u);
  EXPECT_NE(c.errors[0].second.find("without DTSTART"), std::string::npos);
  EXPECT_NE(c.errors[1].second.find("FREQ=SECONDLY is not supported"), std::string::npos);
  EXPECT_EQ(c.errors[1].first, 42);  // the RRULE's line
  for (const Record& r : c.records) EXPECT_TRUE(validate_record(r).is_ok()) << r.id;
}

TEST(Ics, GarbageDoesNotCrash) {
  IcsOptions o;
  o.window_end_s = 4102444800;
  for (const char* text :
       {"", "BEGIN:VEVENT", "END:VEVENT\nEND:VCALENDAR", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026\nEND:VEVENT",
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261301T000000Z\nRRULE:FREQ=DAILY;COUNT=999999999\nEND:VEVENT",
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101T000000Z\nDURATION:P99999999999W\nEND:VEVENT"}) {
    const ConvertResult c = parse_ics(text, o);
    EXPECT_FALSE(c.errors.empty()) << text;
  }
}

}  // namespace
}  // namespace pm::store
