// Civil-calendar arithmetic and ISO 8601 timestamps for the personal-data store.
//
// Instants are Unix seconds (UTC). A Timestamp also keeps the UTC offset it was written with, so
// "2026-11-20T08:15:00+08:00" reads back the same and "today" can be computed in the user's zone.
// Day arithmetic uses the proleptic Gregorian calendar; days are counted from 1970-01-01.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pm::store {

struct Timestamp {
  int64_t epoch_s = 0;   // seconds since 1970-01-01T00:00:00Z
  int32_t offset_s = 0;  // UTC offset of the wall clock it was written in (+08:00 -> 28800)
};

struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

// Days since 1970-01-01 of a civil date (any year; month and day must be in range).
int64_t days_from_civil(int year, int month, int day);
CivilDate civil_from_days(int64_t days);
// 0 = Monday ... 6 = Sunday (ISO 8601 weekday - 1).
int weekday_from_days(int64_t days);
int days_in_month(int year, int month);
bool is_valid_date(int year, int month, int day);

// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "Z", "+HH:MM", "+HHMM" or no zone
// (then UTC); a space may stand for the 'T'. Errors say what was expected.
Result<Timestamp> parse_iso8601(std::string_view text);
// "2026-11-20T08:15:00+08:00" ("Z" for offset 0).
std::string format_iso8601(int64_t epoch_s, int32_t offset_s);
inline std::string format_iso8601(const Timestamp& t) { return format_iso8601(t.epoch_s, t.offset_s); }

// Day number (days since 1970-01-01) of an instant on the wall clock of a UTC offset.
inline int64_t local_day(int64_t epoch_s, int32_t offset_s) {
  const int64_t local = epoch_s + offset_s;
  return local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
}
// The instant at which wall-clock `day` + `seconds_of_day` happens at a UTC offset.
inline int64_t instant_of(int64_t day, int64_t seconds_of_day, int32_t offset_s) {
  return day * 86400 + seconds_of_day - offset_s;
}

}  // namespace pm::store
