// iCalendar (RFC 5545) events -> calendar records.
//
// Each VEVENT becomes one record (id "ics:<UID>"); a recurring one (RRULE) becomes one record
// per occurrence inside the window (id "ics:<UID>/<start in UTC, e.g. 2026-11-20T01:00:00Z>"), minus EXDATEs,
// with RECURRENCE-ID overrides replacing their occurrence. RRULE: FREQ=DAILY/WEEKLY/MONTHLY/
// YEARLY with INTERVAL, COUNT, UNTIL, BYDAY (with ordinals: 2MO, -1FR), BYMONTHDAY, BYMONTH,
// WKST; other parts (BYSETPOS, BYHOUR, ...) reject the event with a message.
// Times: UTC ("...Z"), TZID=<IANA or Windows zone name> (ICU's time zone data), VALUE=DATE
// (all-day, on the wall clock of default_offset_s), or floating (default_offset_s); an unknown
// TZID is read on default_offset_s and named in meta.unknown_tzid.
// SUMMARY -> title, DESCRIPTION -> text, LOCATION, ORGANIZER -> sender, ATTENDEE -> recipients,
// CATEGORIES -> tags.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/record.h"

namespace pm::store {

struct IcsOptions {
  int64_t window_begin_s = 0;  // occurrences of recurring events starting in [begin, end)
  int64_t window_end_s = 0;
  int32_t default_offset_s = 0;   // for floating and all-day times
  size_t max_occurrences = 5000;  // per event (inside the window)
};

ConvertResult parse_ics(std::string_view text, const IcsOptions& options);

// The recurrence rule of RFC 5545 section 3.3.10 (the parts listed above).
struct RecurrenceRule {
  enum class Freq { kDaily, kWeekly, kMonthly, kYearly };
  Freq freq = Freq::kDaily;
  int interval = 1;
  std::optional<int64_t> count;
  std::optional<int64_t> until_s;          // instant (inclusive)
  std::vector<std::pair<int, int>> byday;  // (ordinal or 0, weekday 0 = Monday)
  std::vector<int> bymonthday;             // 1..31 or -31..-1
  std::vector<int> bymonth;                // 1..12
  int wkst = 0;                            // week start, 0 = Monday
};

// `until_offset_s` is the zone UNTIL is read in when it has no 'Z'.
Result<RecurrenceRule> parse_rrule(std::string_view value, int32_t until_offset_s);

// Occurrence start days (days since 1970-01-01 on the event's wall clock), in order, beginning
// with the first one not before dtstart_day. `instant_of_day` gives the instant an occurrence
// starts (wall clock -> UTC, including DST) for UNTIL and the window; stops after
// max_occurrences inside [window_begin_s, window_end_s) or when the rule ends.
std::vector<int64_t> expand_rrule(const RecurrenceRule& rule, int64_t dtstart_day,
                                  const std::function<int64_t(int64_t day)>& instant_of_day, int64_t window_begin_s,
                                  int64_t window_end_s, size_t max_occurrences);

}  // namespace pm::store
