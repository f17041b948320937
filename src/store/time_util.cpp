#include "store/time_util.h"

#include <cstdio>

namespace pm::store {

// Days from civil: shift the year to start in March so the leap day is the last day of the
// year, then count whole 400-year eras (146097 days each), years of the era and days of year.
int64_t days_from_civil(int year, int month, int day) {
  const int64_t y = int64_t(year) - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t year_of_era = y - era * 400;                               // [0, 399]
  const int64_t month_from_march = month > 2 ? month - 3 : month + 9;      // [0, 11]
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;  // [0, 365]
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;  // 719468 = days from 0000-03-01 to 1970-01-01
}

CivilDate civil_from_days(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t day_of_era = z - era * 146097;
  const int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  CivilDate c;
  c.day = int(day_of_year - (153 * mp + 2) / 5 + 1);
  c.month = int(mp < 10 ? mp + 3 : mp - 9);
  c.year = int(year_of_era + era * 400 + (c.month <= 2 ? 1 : 0));
  return c;
}

int weekday_from_days(int64_t days) {
  // 1970-01-01 was a Thursday (3 with Monday = 0).
  const int64_t w = (days + 3) % 7;
  return int(w < 0 ? w + 7 : w);
}

int days_in_month(int year, int month) {
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

bool is_valid_date(int year, int month, int day) {
  return month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month);
}

namespace {

// Reads exactly n digits at s[pos]; -1 when they are not all digits.
int read_digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

Result<Timestamp> parse_iso8601(std::string_view s) {
  std::string quoted(1, '"');
  quoted.append(s.substr(0, 64)).append(1, '"');
  auto bad = [&](const char* what) {
    return Status::invalid_argument(quoted + " is not an ISO 8601 time (" + what +
                                    "; expected e.g. 2026-11-20T08:15:00+08:00)");
  };
  const int year = read_digits(s, 0, 4);
  if (year < 0 || s.size() < 10 || s[4] != '-' || s[7] != '-') return bad("date must be YYYY-MM-DD");
  const int month = read_digits(s, 5, 2), day = read_digits(s, 8, 2);
  if (month < 0 || day < 0) return bad("date must be YYYY-MM-DD");
  if (!is_valid_date(year, month, day)) return bad("no such date");
  int hour = 0, minute = 0, second = 0;
  size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    hour = read_digits(s, pos + 1, 2);
    if (hour < 0 || pos + 3 >= s.size() || s[pos + 3] != ':') return bad("time must be HH:MM[:SS]");
    minute = read_digits(s, pos + 4, 2);
    if (minute < 0) return bad("time must be HH:MM[:SS]");
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      second = read_digits(s, pos + 1, 2);
      if (second < 0) return bad("seconds must be two digits");
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {  // fractions of a second are dropped
        ++pos;
        const size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
        if (pos == start) return bad("empty fraction of a second");
      }
    }
    if (hour > 24 || minute > 59 || second > 60 || (hour == 24 && (minute | second) != 0))
      return bad("time out of range");
    if (second == 60) second = 59;  // leap second: the instant before
  }
  int32_t offset = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '-' ? -1 : 1;
      const int oh = read_digits(s, pos + 1, 2);
      if (oh < 0) return bad("zone must be Z or +HH:MM");
      size_t p = pos + 3;
      if (p < s.size() && s[p] == ':') ++p;
      const int om = read_digits(s, p, 2);
      if (om < 0 || oh > 18 || om > 59) return bad("zone must be Z or +HH:MM");
      offset = sign * (oh * 3600 + om * 60);
      pos = p + 2;
    }
  }
  if (pos != s.size()) return bad("unexpected characters after the time");
  Timestamp t;
  t.offset_s = offset;
  t.epoch_s = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  return t;
}

std::string format_iso8601(int64_t epoch_s, int32_t offset_s) {
  const int64_t local = epoch_s + offset_s;
  const int64_t day = local_day(epoch_s, offset_s);
  const int64_t sod = local - day * 86400;
  const CivilDate c = civil_from_days(day);
  char buf[64];
  if (offset_s == 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day, int(sod / 3600),
                  int(sod / 60 % 60), int(sod % 60));
  } else {
    const int32_t a = offset_s < 0 ? -offset_s : offset_s;
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", c.year, c.month, c.day, int(sod / 3600),
                  int(sod / 60 % 60), int(sod % 60), offset_s < 0 ? '-' : '+', int(a / 3600), int(a / 60 % 60));
  }
  return buf;
}

}  // namespace pm::store
