// Query understanding without a model: the parts of a search query that are not words to look
// for — time expressions, source hints and people — become filters and boosts.
//
//   "上周妈妈发的短信说了什么"   -> time [last Monday 00:00, this Monday 00:00), source sms,
//                                 sender 妈妈 (filter); text left: "说了什么"
//   "tomorrow evening meeting"  -> time tomorrow 18:00-24:00, boost calendar; text "meeting"
//
// Times resolve against `now` on its own wall clock (the UTC offset of --now): "today" is the
// calendar day of `now` there. Weeks run Monday to Sunday.
//   今天/明天/后天/昨天/前天, N天前/N天后, 这周/上周/下周(+一..日), 周末, 这个月/上个月/下个月,
//   今年/去年/明年, N月M日, YYYY年N月M日, N月, M号, 最近/过去N天, 上午/下午/晚上/..., 下午3点;
//   today/tonight/tomorrow/yesterday, this/last/next week|month|year|weekend, last/next/this
//   <weekday> ("last friday" = the latest Friday before today), "in march", "march 15",
//   2026-03-15, N days ago, last N days, morning/afternoon/evening/night, 3pm.
// Sources: 短信/消息/SMS/text -> sms, 日程/日历/calendar -> calendar, 照片/photo -> photo,
//   备忘录/笔记/note -> note, 通话/电话/call -> call, 邮件/email -> email, 联系人/contact -> contact
//   (filters); 会议/开会/meeting -> calendar boost (the word is still searched).
// People: names known to the store (and kinship words such as 妈妈/mom, matched to known names).
//   With a cue ("from Alice", "妈妈发的", "妈妈打来的") the sender must match; with "和/跟/with X"
//   or "X的" the sender or a recipient must match; a bare name only boosts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/time_util.h"

namespace pm::store {

struct TimeRange {
  int64_t begin_s = 0;  // inclusive, Unix seconds
  int64_t end_s = 0;    // exclusive
};

enum class PersonRole { kSender, kAny };

struct PersonFilter {
  std::string mention;             // as written in the query
  std::vector<std::string> names;  // known names it stands for (as stored)
  PersonRole role = PersonRole::kAny;
  bool filter = true;  // false: boost only
};

struct QueryPlan {
  std::string text;  // the query with understood parts removed: what full-text search looks for
  std::optional<TimeRange> time;
  std::vector<std::string> sources;        // filter: any of these
  std::vector<std::string> boost_sources;  // ranked higher
  std::vector<PersonFilter> people;
  std::vector<std::string> understood;  // what was recognized, for people ("time: 上周 -> ...")
};

QueryPlan understand_query(std::string_view query, const Timestamp& now, const std::vector<std::string>& known_people);

}  // namespace pm::store
