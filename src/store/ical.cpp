#include "store/ical.h"

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "core/hash.h"
#include "store/utf8.h"

namespace pm::store {
namespace {

// One content line after unfolding: NAME;PARAM=VALUE;...:VALUE
struct ContentLine {
  int64_t line = 0;                           // first physical line, 1-based
  std::string name;                           // upper case
  std::map<std::string, std::string> params;  // upper-case names, values without quotes
  std::string value;
};

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u)
    if (c >= 'a' && c <= 'z') c = char(c - 32);
  return u;
}

// RFC 5545 3.1: a line starting with a space or tab continues the previous one.
std::vector<ContentLine> unfold(std::string_view text, std::vector<std::pair<int64_t, std::string>>& errors) {
  std::vector<std::pair<int64_t, std::string>> logical;
  int64_t line_no = 0;
  size_t pos = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(pos, nl - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    ++line_no;
    pos = nl + 1;
    if (!l.empty() && (l[0] == ' ' || l[0] == '\t') && !logical.empty()) {
      if (logical.back().second.size() < kMaxLineBytes) logical.back().second.append(l.substr(1));
    } else if (!l.empty()) {
      logical.emplace_back(line_no, std::string(l));
    }
  }
  std::vector<ContentLine> out;
  for (auto& [no, l] : logical) {
    ContentLine cl;
    cl.line = no;
    // Name, then ;params (values may be quoted and contain ':' or ';'), then ':' value.
    size_t i = 0;
    while (i < l.size() && l[i] != ';' && l[i] != ':') ++i;
    cl.name = upper(std::string_view(l).substr(0, i));
    while (i < l.size() && l[i] == ';') {
      size_t eq = l.find('=', i + 1);
      if (eq == std::string::npos) break;
      const std::string pname = upper(std::string_view(l).substr(i + 1, eq - i - 1));
      std::string pval;
      size_t j = eq + 1;
      while (j < l.size() && l[j] != ';' && l[j] != ':') {
        if (l[j] == '"') {
          const size_t close = l.find('"', j + 1);
          if (close == std::string::npos) {
            j = l.size();
            break;
          }
          pval += l.substr(j + 1, close - j - 1);
          j = close + 1;
        } else {
          pval += l[j++];
        }
      }
      cl.params[pname] = pval;
      i = j;
    }
    if (i >= l.size() || l[i] != ':') {
      errors.emplace_back(no, "malformed content line (expected NAME[;PARAM=...]:VALUE)");
      continue;
    }
    cl.value = l.substr(i + 1);
    out.push_back(std::move(cl));
  }
  return out;
}

// TEXT values: \n, \, \; \\ escapes.
std::string unescape_text(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      const char c = v[++i];
      out += (c == 'n' || c == 'N') ? '\n' : c;
    } else {
      out += v[i];
    }
  }
  return out;
}

// A DATE or DATE-TIME value read on some wall clock.
struct IcsTime {
  int64_t day = 0;         // days since 1970-01-01 (wall clock)
  int32_t seconds = 0;     // of the day
  bool date_only = false;  // VALUE=DATE
  bool utc = false;        // trailing Z
  std::string tzid;        // TZID parameter
};

Result<IcsTime> parse_ics_time(std::string_view v, const std::map<std::string, std::string>& params) {
  auto digits = [&](size_t pos, size_t n) -> int {
    if (pos + n > v.size()) return -1;
    int x = 0;
    for (size_t i = 0; i < n; ++i) {
      if (v[pos + i] < '0' || v[pos + i] > '9') return -1;
      x = x * 10 + (v[pos + i] - '0');
    }
    return x;
  };
  IcsTime t;
  const int y = digits(0, 4), mo = digits(4, 2), d = digits(6, 2);
  if (y < 0 || mo < 0 || d < 0 || !is_valid_date(y, mo, d))
    return Status::invalid_argument("\"" + std::string(utf8_prefix(v, 40)) +
                                    "\" is not a date (expected YYYYMMDD[THHMMSS[Z]])");
  t.day = days_from_civil(y, mo, d);
  if (v.size() == 8) {
    t.date_only = true;
    return t;
  }
  const int h = digits(9, 2), mi = digits(11, 2), s = digits(13, 2);
  if (v.size() < 15 || v[8] != 'T' || h < 0 || mi < 0 || s < 0 || h > 23 || mi > 59 || s > 60 ||
      !(v.size() == 15 || (v.size() == 16 && (v[15] == 'Z' || v[15] == 'z'))))
    return Status::invalid_argument("\"" + std::string(utf8_prefix(v, 40)) +
                                    "\" is not a date-time (expected YYYYMMDDTHHMMSS[Z])");
  t.seconds = h * 3600 + mi * 60 + std::min(s, 59);
  t.utc = v.size() == 16;
  if (auto it = params.find("TZID"); it != params.end() && !t.utc) t.tzid = it->second;
  return t;
}

// Time zones by TZID, from ICU's data (IANA names, and Windows names as Outlook writes them).
class Zones {
 public:
  explicit Zones(int32_t default_offset_s) : default_offset_s_(default_offset_s) {}

  // Offset (seconds east of UTC) in effect at wall-clock `local_s` (Unix-style seconds of the wall clock).
  int32_t offset_at_local(const std::string& tzid, int64_t local_s, bool* known) {
    icu::TimeZone* tz = find(tzid);
    *known = tz != nullptr;
    if (!tz) return default_offset_s_;
    UErrorCode err = U_ZERO_ERROR;
    int32_t raw = 0, dst = 0;
    tz->getOffset(double(local_s) * 1000.0, true, raw, dst, err);
    if (U_FAILURE(err)) return default_offset_s_;
    return (raw + dst) / 1000;
  }
  int32_t default_offset() const { return default_offset_s_; }

 private:
  icu::TimeZone* find(const std::string& tzid) {
    if (tzid.empty()) return nullptr;
    auto it = cache_.find(tzid);
    if (it != cache_.end()) return it->second.get();
    std::unique_ptr<icu::TimeZone> tz;
    const icu::UnicodeString id = icu::UnicodeString::fromUTF8(tzid);
    icu::UnicodeString canonical;
    UErrorCode err = U_ZERO_ERROR;
    icu::TimeZone::getCanonicalID(id, canonical, err);
    if (U_SUCCESS(err) && !canonical.isEmpty()) {
      tz.reset(icu::TimeZone::createTimeZone(canonical));
    } else {
      err = U_ZERO_ERROR;
      icu::UnicodeString from_windows;
      icu::TimeZone::getIDForWindowsID(id, nullptr, from_windows, err);
      if (U_SUCCESS(err) && !from_windows.isEmpty()) tz.reset(icu::TimeZone::createTimeZone(from_windows));
    }
    icu::TimeZone* raw = tz.get();
    cache_[tzid] = std::move(tz);
    return raw;
  }

  int32_t default_offset_s_;
  std::map<std::string, std::unique_ptr<icu::TimeZone>> cache_;
};

struct Instant {
  int64_t epoch_s = 0;
  int32_t offset_s = 0;
};

Instant to_instant(const IcsTime& t, int64_t day, int32_t seconds, Zones& zones, bool* tz_known) {
  *tz_known = true;
  const int64_t local = day * 86400 + seconds;
  if (t.utc) return {local, 0};
  if (t.tzid.empty()) return {local - zones.default_offset(), zones.default_offset()};
  const int32_t off = zones.offset_at_local(t.tzid, local, tz_known);
  return {local - off, off};
}

// DURATION: [+]P[nW][nD][T[nH][nM][nS]]
Result<int64_t> parse_duration(std::string_view v) {
  size_t i = 0;
  if (i < v.size() && (v[i] == '+' || v[i] == '-')) {
    if (v[i] == '-') return Status::invalid_argument("negative DURATION");
    ++i;
  }
  if (i >= v.size() || v[i] != 'P') return Status::invalid_argument("DURATION must start with P");
  ++i;
  int64_t total = 0, n = 0;
  bool in_time = false, any = false;
  for (; i < v.size(); ++i) {
    const char c = v[i];
    if (c >= '0' && c <= '9') {
      n = n * 10 + (c - '0');
      if (n > 100000000) return Status::invalid_argument("DURATION too long");
      continue;
    }
    int64_t unit = 0;
    if (c == 'T') {
      in_time = true;
      continue;
    } else if (c == 'W' && !in_time)
      unit = 7 * 86400;
    else if (c == 'D' && !in_time)
      unit = 86400;
    else if (c == 'H' && in_time)
      unit = 3600;
    else if (c == 'M' && in_time)
      unit = 60;
    else if (c == 'S' && in_time)
      unit = 1;
    else
      return Status::invalid_argument("\"" + std::string(utf8_prefix(v, 40)) + "\" is not a DURATION");
    total += n * unit;
    n = 0;
    any = true;
  }
  if (!any) return Status::invalid_argument("empty DURATION");
  return total;
}

// "CN=Alice Chen" param, else the address without "mailto:".
std::string person_name(const ContentLine& cl) {
  if (auto it = cl.params.find("CN"); it != cl.params.end() && !it->second.empty()) return it->second;
  std::string v = cl.value;
  if (upper(v.substr(0, 7)) == "MAILTO:") v = v.substr(7);
  return v;
}

struct Event {
  int64_t line = 0;
  std::vector<ContentLine> props;
  const ContentLine* get(const char* name) const {
    for (const auto& p : props)
      if (p.name == name) return &p;
    return nullptr;
  }
};

int weekday_code(std::string_view s) {
  static const char* kCodes[] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
  for (int i = 0; i < 7; ++i)
    if (s == kCodes[i]) return i;
  return -1;
}

Result<int> parse_int(std::string_view s, int lo, int hi, const char* what) {
  int sign = 1;
  size_t i = 0;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) sign = s[0] == '-' ? -1 : 1, i = 1;
  if (i >= s.size() || s.size() - i > 9) return Status::invalid_argument(std::string(what) + ": not a number");
  int v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return Status::invalid_argument(std::string(what) + ": not a number");
    v = v * 10 + (s[i] - '0');
  }
  v *= sign;
  if (v < lo || v > hi || v == 0)
    if (!(lo == 0 && v == 0))
      return Status::invalid_argument(std::string(what) + ": " + std::to_string(v) + " out of range");
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t a = 0;
  while (a <= s.size()) {
    size_t b = s.find(sep, a);
    if (b == std::string_view::npos) b = s.size();
    out.push_back(s.substr(a, b - a));
    a = b + 1;
  }
  return out;
}

}  // namespace

Result<RecurrenceRule> parse_rrule(std::string_view value, int32_t until_offset_s) {
  RecurrenceRule r;
  bool has_freq = false;
  for (std::string_view part : split(value, ';')) {
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos)
      return Status::invalid_argument("RRULE part \"" + std::string(part) + "\" has no '='");
    const std::string key = upper(part.substr(0, eq));
    const std::string val = upper(part.substr(eq + 1));
    if (key == "FREQ") {
      has_freq = true;
      if (val == "DAILY")
        r.freq = RecurrenceRule::Freq::kDaily;
      else if (val == "WEEKLY")
        r.freq = RecurrenceRule::Freq::kWeekly;
      else if (val == "MONTHLY")
        r.freq = RecurrenceRule::Freq::kMonthly;
      else if (val == "YEARLY")
        r.freq = RecurrenceRule::Freq::kYearly;
      else
        return Status::unsupported("RRULE FREQ=" + val + " is not supported (DAILY, WEEKLY, MONTHLY, YEARLY are)");
    } else if (key == "INTERVAL") {
      PM_ASSIGN_OR_RETURN(r.interval, parse_int(val, 1, 100000, "RRULE INTERVAL"));
    } else if (key == "COUNT") {
      PM_ASSIGN_OR_RETURN(int c, parse_int(val, 1, 1000000, "RRULE COUNT"));
      r.count = c;
    } else if (key == "UNTIL") {
      PM_ASSIGN_OR_RETURN(IcsTime t, parse_ics_time(val, {}));
      const int64_t local = t.day * 86400 + (t.date_only ? 86399 : t.seconds);
      r.until_s = t.utc ? local : local - until_offset_s;
    } else if (key == "BYDAY") {
      for (std::string_view d : split(val, ',')) {
        if (d.size() < 2) return Status::invalid_argument("RRULE BYDAY: \"" + std::string(d) + "\" is not a weekday");
        const int wd = weekday_code(d.substr(d.size() - 2));
        if (wd < 0) return Status::invalid_argument("RRULE BYDAY: \"" + std::string(d) + "\" is not a weekday");
        int ord = 0;
        if (d.size() > 2) {
          PM_ASSIGN_OR_RETURN(ord, parse_int(d.substr(0, d.size() - 2), -53, 53, "RRULE BYDAY ordinal"));
        }
        r.byday.emplace_back(ord, wd);
      }
    } else if (key == "BYMONTHDAY") {
      for (std::string_view d : split(val, ',')) {
        PM_ASSIGN_OR_RETURN(int v, parse_int(d, -31, 31, "RRULE BYMONTHDAY"));
        r.bymonthday.push_back(v);
      }
    } else if (key == "BYMONTH") {
      for (std::string_view d : split(val, ',')) {
        PM_ASSIGN_OR_RETURN(int v, parse_int(d, 1, 12, "RRULE BYMONTH"));
        r.bymonth.push_back(v);
      }
    } else if (key == "WKST") {
      r.wkst = weekday_code(val);
      if (r.wkst < 0) return Status::invalid_argument("RRULE WKST: \"" + val + "\" is not a weekday");
    } else {
      return Status::unsupported("RRULE part " + key + " is not supported");
    }
  }
  if (!has_freq) return Status::invalid_argument("RRULE has no FREQ");
  if (r.count && r.until_s) return Status::invalid_argument("RRULE has both COUNT and UNTIL");
  return r;
}

std::vector<int64_t> expand_rrule(const RecurrenceRule& rule, int64_t dtstart_day,
                                  const std::function<int64_t(int64_t day)>& instant_of_day, int64_t window_begin_s,
                                  int64_t window_end_s, size_t max_occurrences) {
  using Freq = RecurrenceRule::Freq;
  const CivilDate start = civil_from_days(dtstart_day);
  const int start_wd = weekday_from_days(dtstart_day);
  auto month_ok = [&](const CivilDate& c) {
    return rule.bymonth.empty() || std::find(rule.bymonth.begin(), rule.bymonth.end(), c.month) != rule.bymonth.end();
  };
  auto monthday_ok = [&](const CivilDate& c) {
    if (rule.bymonthday.empty()) return true;
    const int dim = days_in_month(c.year, c.month);
    for (int d : rule.bymonthday)
      if (d == c.day || (d < 0 && dim + 1 + d == c.day)) return true;
    return false;
  };
  auto weekday_ok = [&](int64_t day) {
    if (rule.byday.empty()) return true;
    const int wd = weekday_from_days(day);
    for (const auto& [ord, w] : rule.byday)
      if (w == wd) return true;
    return false;
  };
  // Days of [first, first + n) whose weekday and ordinal (n-th in that span, or -n-th from its end) match BYDAY.
  auto byday_in_span = [&](int64_t first, int64_t n, std::vector<int64_t>& out) {
    for (const auto& [ord, w] : rule.byday) {
      std::vector<int64_t> all;
      for (int64_t d = first + ((w - weekday_from_days(first)) % 7 + 7) % 7; d < first + n; d += 7) all.push_back(d);
      if (ord == 0)
        out.insert(out.end(), all.begin(), all.end());
      else if (ord > 0 && size_t(ord) <= all.size())
        out.push_back(all[size_t(ord) - 1]);
      else if (ord < 0 && size_t(-ord) <= all.size())
        out.push_back(all[all.size() - size_t(-ord)]);
    }
  };
  // Days of one month that BYMONTHDAY / BYDAY / the start date select.
  auto days_of_month = [&](int year, int month, std::vector<int64_t>& out) {
    const int64_t first = days_from_civil(year, month, 1);
    const int dim = days_in_month(year, month);
    if (!rule.byday.empty()) {
      std::vector<int64_t> days;
      byday_in_span(first, dim, days);
      for (int64_t d : days)
        if (monthday_ok(civil_from_days(d))) out.push_back(d);
    } else if (!rule.bymonthday.empty()) {
      for (int d : rule.bymonthday) {
        const int day = d > 0 ? d : dim + 1 + d;
        if (day >= 1 && day <= dim) out.push_back(first + day - 1);
      }
    } else if (start.day <= dim) {
      out.push_back(first + start.day - 1);
    }
  };

  std::vector<int64_t> result;
  int64_t emitted = 0;  // occurrences counted for COUNT (from dtstart, in or out of the window)
  constexpr int64_t kMaxPeriods = 200000;
  for (int64_t p = 0; p < kMaxPeriods; ++p) {
    std::vector<int64_t> cands;
    int64_t period_first_day = 0;
    switch (rule.freq) {
      case Freq::kDaily: {
        const int64_t d = dtstart_day + p * rule.interval;
        period_first_day = d;
        const CivilDate c = civil_from_days(d);
        if (month_ok(c) && monthday_ok(c) && weekday_ok(d)) cands.push_back(d);
        break;
      }
      case Freq::kWeekly: {
        const int64_t week0 = dtstart_day - ((start_wd - rule.wkst) % 7 + 7) % 7;
        const int64_t ws = week0 + 7 * p * rule.interval;
        period_first_day = ws;
        if (rule.byday.empty()) {
          cands.push_back(ws + ((start_wd - rule.wkst) % 7 + 7) % 7);
        } else {
          for (const auto& [ord, w] : rule.byday) cands.push_back(ws + ((w - rule.wkst) % 7 + 7) % 7);
        }
        std::vector<int64_t> kept;
        for (int64_t d : cands)
          if (month_ok(civil_from_days(d))) kept.push_back(d);
        cands.swap(kept);
        break;
      }
      case Freq::kMonthly: {
        const int64_t m = int64_t(start.month - 1) + p * rule.interval;
        const int year = start.year + int(m / 12), month = int(m % 12) + 1;
        period_first_day = days_from_civil(year, month, 1);
        if (month_ok({year, month, 1})) days_of_month(year, month, cands);
        break;
      }
      case Freq::kYearly: {
        const int year = start.year + int(p * rule.interval);
        period_first_day = days_from_civil(year, 1, 1);
        if (!rule.byday.empty() && rule.bymonth.empty() && rule.bymonthday.empty()) {
          byday_in_span(period_first_day, days_from_civil(year + 1, 1, 1) - period_first_day, cands);
        } else {
          std::vector<int> months = rule.bymonth;
          if (months.empty()) months.push_back(start.month);
          for (int month : months) {
            if (rule.byday.empty() && rule.bymonthday.empty()) {
              if (is_valid_date(year, month, start.day)) cands.push_back(days_from_civil(year, month, start.day));
            } else {
              days_of_month(year, month, cands);
            }
          }
        }
        break;
      }
    }
    // The rule is over once a whole period starts after UNTIL or after the window (no COUNT to honour).
    const int64_t period_start_s = instant_of_day(period_first_day);
    if (rule.until_s && period_start_s > *rule.until_s + 86400) break;
    if (period_start_s >= window_end_s + 86400 && !rule.count) break;
    std::sort(cands.begin(), cands.end());
    cands.erase(std::unique(cands.begin(), cands.end()), cands.end());
    for (int64_t d : cands) {
      if (d < dtstart_day) continue;
      const int64_t s = instant_of_day(d);
      if (rule.until_s && s > *rule.until_s) return result;
      if (rule.count && emitted >= *rule.count) return result;
      ++emitted;
      if (s >= window_end_s) {
        if (!rule.count) return result;
        continue;
      }
      if (s >= window_begin_s) {
        result.push_back(d);
        if (result.size() >= max_occurrences) return result;
      }
    }
    if (rule.count && emitted >= *rule.count) break;
    if (rule.count && period_start_s >= window_end_s + 86400) break;
  }
  return result;
}

ConvertResult parse_ics(std::string_view text, const IcsOptions& options) {
  ConvertResult out;
  const std::vector<ContentLine> lines = unfold(text, out.errors);
  // Collect VEVENTs (nested components such as VALARM are skipped).
  std::vector<Event> events;
  std::vector<std::string> stack;
  for (const ContentLine& cl : lines) {
    if (cl.name == "BEGIN") {
      stack.push_back(upper(cl.value));
      if (stack.back() == "VEVENT") events.push_back(Event{cl.line, {}});
      continue;
    }
    if (cl.name == "END") {
      if (stack.empty() || stack.back() != upper(cl.value)) {
        out.errors.emplace_back(
            cl.line, "END:" + cl.value + " does not close " + (stack.empty() ? "anything" : "BEGIN:" + stack.back()));
        if (!stack.empty() && stack.back() == "VEVENT" && upper(cl.value) != "VEVENT") continue;
      }
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    if (!stack.empty() && stack.back() == "VEVENT") events.back().props.push_back(cl);
  }
  if (!stack.empty())
    out.errors.emplace_back(lines.empty() ? 0 : lines.back().line, "BEGIN:" + stack.back() + " is never closed");
  if (lines.empty() || lines.front().name != "BEGIN" || upper(lines.front().value) != "VCALENDAR")
    out.errors.emplace_back(1, "not an iCalendar file (expected BEGIN:VCALENDAR first)");

  Zones zones(options.default_offset_s);
  std::set<std::pair<std::string, int64_t>> overridden;  // (UID, RECURRENCE-ID instant)
  struct Parsed {
    const Event* ev;
    std::string uid;
    IcsTime start;
    int64_t duration_s;
  };
  std::vector<Parsed> parsed;
  for (const Event& ev : events) {
    const ContentLine* dtstart = ev.get("DTSTART");
    if (!dtstart) {
      out.errors.emplace_back(ev.line, "VEVENT without DTSTART skipped");
      continue;
    }
    Result<IcsTime> start = parse_ics_time(dtstart->value, dtstart->params);
    if (!start.is_ok()) {
      out.errors.emplace_back(dtstart->line, "DTSTART: " + start.status().message());
      continue;
    }
    int64_t duration = start->date_only ? 86400 : 0;
    bool tz_known;
    if (const ContentLine* dtend = ev.get("DTEND")) {
      Result<IcsTime> end = parse_ics_time(dtend->value, dtend->params);
      if (!end.is_ok()) {
        out.errors.emplace_back(dtend->line, "DTEND: " + end.status().message());
        continue;
      }
      const Instant a = to_instant(*start, start->day, start->seconds, zones, &tz_known);
      const Instant b = to_instant(*end, end->day, end->seconds, zones, &tz_known);
      duration = b.epoch_s - a.epoch_s;
      if (duration < 0) {
        out.errors.emplace_back(dtend->line, "DTEND is before DTSTART; event skipped");
        continue;
      }
    } else if (const ContentLine* dur = ev.get("DURATION")) {
      Result<int64_t> d = parse_duration(dur->value);
      if (!d.is_ok()) {
        out.errors.emplace_back(dur->line, "DURATION: " + d.status().message());
        continue;
      }
      duration = *d;
    }
    std::string uid;
    if (const ContentLine* u = ev.get("UID"); u && !u->value.empty()) {
      uid = std::string(utf8_prefix(u->value, 200));
    } else {  // no UID: a stable one from the content
      Fnv1a64 h;
      for (const auto& p : ev.props) h.update(p.name + ":" + p.value);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h.digest());
      uid = std::string("nouid-") + buf;
    }
    if (const ContentLine* rid = ev.get("RECURRENCE-ID")) {
      Result<IcsTime> r = parse_ics_time(rid->value, rid->params);
      if (r.is_ok()) overridden.insert({uid, to_instant(*r, r->day, r->seconds, zones, &tz_known).epoch_s});
    }
    parsed.push_back({&ev, uid, *start, duration});
  }

  for (const Parsed& p : parsed) {
    const Event& ev = *p.ev;
    bool tz_known = true;
    Record base;
    base.source = "calendar";
    if (const ContentLine* s = ev.get("SUMMARY")) base.title = unescape_text(s->value);
    if (const ContentLine* d = ev.get("DESCRIPTION")) base.text = unescape_text(d->value);
    if (const ContentLine* l = ev.get("LOCATION")) base.location = unescape_text(l->value);
    if (const ContentLine* o = ev.get("ORGANIZER")) base.sender = person_name(*o);
    for (const auto& prop : ev.props) {
      if (prop.name == "ATTENDEE") base.recipients.push_back(person_name(prop));
      if (prop.name == "CATEGORIES")
        for (std::string_view c : split(prop.value, ','))
          if (!c.empty()) base.tags.push_back(unescape_text(c));
    }
    base.meta = {{"uid", p.uid}};
    to_instant(p.start, p.start.day, p.start.seconds, zones, &tz_known);
    if (!tz_known) base.meta["unknown_tzid"] = p.start.tzid;  // read on the default offset
    if (p.start.date_only) base.meta["all_day"] = true;
    if (const ContentLine* st = ev.get("STATUS")) base.meta["status"] = st->value;

    auto make = [&](int64_t day, const std::string& id) {
      const Instant a = to_instant(p.start, day, p.start.seconds, zones, &tz_known);
      Record r = base;
      r.id = id;
      r.time = {a.epoch_s, a.offset_s};
      r.start = r.time;
      r.end = Timestamp{a.epoch_s + p.duration_s, a.offset_s};
      return r;
    };
    const ContentLine* rrule = ev.get("RRULE");
    const bool is_override = ev.get("RECURRENCE-ID") != nullptr;
    if (!rrule || is_override) {
      std::string id = "ics:" + p.uid;
      if (is_override) {  // replaces the occurrence of the master with the same id
        const ContentLine* rid = ev.get("RECURRENCE-ID");
        Result<IcsTime> r = parse_ics_time(rid->value, rid->params);
        if (r.is_ok()) {
          const Instant at = to_instant(*r, r->day, r->seconds, zones, &tz_known);
          id += "/" + format_iso8601(at.epoch_s, 0);
        }
      }
      out.records.push_back(make(p.start.day, id));
    } else {
      const int32_t until_offset = to_instant(p.start, p.start.day, p.start.seconds, zones, &tz_known).offset_s;
      Result<RecurrenceRule> rule = parse_rrule(rrule->value, until_offset);
      if (!rule.is_ok()) {
        out.errors.emplace_back(rrule->line, "RRULE: " + rule.status().message() + "; event " + p.uid + " skipped");
        continue;
      }
      std::set<int64_t> excluded;
      for (const auto& prop : ev.props) {
        if (prop.name != "EXDATE") continue;
        for (std::string_view v : split(prop.value, ',')) {
          Result<IcsTime> x = parse_ics_time(v, prop.params);
          if (!x.is_ok()) {
            out.errors.emplace_back(prop.line, "EXDATE: " + x.status().message());
            continue;
          }
          // A date-only EXDATE removes the occurrence on that day.
          const int32_t secs = x->date_only ? p.start.seconds : x->seconds;
          IcsTime xt = *x;
          if (x->date_only) xt.tzid = p.start.tzid, xt.utc = p.start.utc;
          excluded.insert(to_instant(xt, x->day, secs, zones, &tz_known).epoch_s);
        }
      }
      auto instant_of_day = [&](int64_t day) {
        bool known;
        return to_instant(p.start, day, p.start.seconds, zones, &known).epoch_s;
      };
      const std::vector<int64_t> days = expand_rrule(*rule, p.start.day, instant_of_day, options.window_begin_s,
                                                     options.window_end_s, options.max_occurrences);
      for (int64_t day : days) {
        const int64_t at = instant_of_day(day);
        if (excluded.count(at) || overridden.count({p.uid, at})) continue;
        Record r = make(day, "ics:" + p.uid + "/" + format_iso8601(at, 0));
        r.meta["recurring"] = true;
        out.records.push_back(std::move(r));
      }
    }
  }
  return out;
}

}  // namespace pm::store
