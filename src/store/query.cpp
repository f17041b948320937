#include "store/query.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include "store/store.h"
#include "store/utf8.h"

namespace pm::store {
namespace {

// ---------------------------------------------------------------------------------------------
// Text helpers

// ASCII lower case, full-width ASCII (U+FF01..U+FF5E) to ASCII, ideographic space to space.
std::string fold_query(std::string_view q) {
  std::string out;
  out.reserve(q.size());
  for (size_t pos = 0; pos < q.size();) {
    char32_t cp;
    size_t n = next_utf8(q, pos, &cp);
    if (n == 0) {
      n = 1;
      cp = ' ';
    }
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;
    if (cp == 0x3000 || cp == '\t' || cp == '\n' || cp == '\r') cp = ' ';
    if (cp >= 'A' && cp <= 'Z') cp += 32;
    append_utf8(cp, out);
    pos += n;
  }
  return out;
}

// "15", "十五", "二十一", "两", "三十" -> value; -1 when it is not a number.
int parse_number(const std::string& s) {
  if (s.empty()) return -1;
  if (s[0] >= '0' && s[0] <= '9') {
    if (s.size() > 6) return -1;
    int v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return -1;
      v = v * 10 + (c - '0');
    }
    return v;
  }
  static const std::map<std::string, int> kWords = {
      {"a", 1},     {"an", 1},    {"one", 1},  {"two", 2},  {"three", 3},   {"four", 4},    {"five", 5},   {"six", 6},
      {"seven", 7}, {"eight", 8}, {"nine", 9}, {"ten", 10}, {"eleven", 11}, {"twelve", 12}, {"couple", 2}, {"few", 3}};
  if (auto it = kWords.find(s); it != kWords.end()) return it->second;
  static const std::map<std::string, int> kDigits = {{"〇", 0}, {"零", 0}, {"一", 1}, {"二", 2}, {"两", 2},
                                                     {"三", 3}, {"四", 4}, {"五", 5}, {"六", 6}, {"七", 7},
                                                     {"八", 8}, {"九", 9}, {"十", 10}};
  std::vector<int> d;
  for (size_t pos = 0; pos < s.size();) {
    char32_t cp;
    const size_t n = next_utf8(s, pos, &cp);
    if (n == 0) return -1;
    auto it = kDigits.find(s.substr(pos, n));
    if (it == kDigits.end()) return -1;
    d.push_back(it->second);
    pos += n;
  }
  // Forms: D, 十, 十D, D十, D十D.
  const auto ten = std::find(d.begin(), d.end(), 10);
  if (ten == d.end()) return d.size() == 1 ? d[0] : -1;
  const size_t t = size_t(ten - d.begin());
  if (t > 1 || d.size() - t > 2) return -1;
  const int tens = t == 0 ? 1 : d[0];
  const int units = t + 1 < d.size() ? d[t + 1] : 0;
  if (tens == 10 || units == 10) return -1;
  return tens * 10 + units;
}

// Calls fn on every match of re in q (left to right); when fn returns true the matched span is
// replaced by one space (the text is "consumed").
void scan(std::string& q, const std::regex& re, const std::function<bool(const std::smatch&)>& fn) {
  size_t from = 0;
  while (from < q.size()) {
    std::smatch m;
    const auto flags = from > 0 ? std::regex_constants::match_prev_avail : std::regex_constants::match_default;
    if (!std::regex_search(q.cbegin() + std::ptrdiff_t(from), q.cend(), m, re, flags)) break;
    const size_t pos = from + size_t(m.position(0));
    const size_t len = size_t(m.length(0));
    if (fn(m)) {
      q.replace(pos, len, 1, ' ');
      from = pos + 1;
    } else {
      from = pos + std::max<size_t>(len, 1);
      while (from < q.size() && (uint8_t(q[from]) & 0xC0) == 0x80) ++from;  // stay on a character boundary
    }
  }
}

std::regex re(const std::string& pattern) { return std::regex(pattern, std::regex::ECMAScript | std::regex::optimize); }

const std::string kNum = "(\\d{1,4}|(?:零|〇|一|二|两|三|四|五|六|七|八|九|十)+)";
const std::string kEnNum = "(\\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|couple|few)";
const std::string kMonths =
    "(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|"
    "aug|sept|sep|oct|nov|dec)";

int month_number(const std::string& name) {
  static const char* kNames[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  for (int i = 0; i < 12; ++i)
    if (name.compare(0, 3, kNames[i]) == 0) return i + 1;
  return -1;
}

int weekday_number(const std::string& s) {  // Monday = 0
  static const std::pair<const char*, int> kNames[] = {
      {"一", 0},  {"二", 1},  {"三", 2},  {"四", 3},  {"五", 4},  {"六", 5}, {"日", 6}, {"天", 6},
      {"1", 0},   {"2", 1},   {"3", 2},   {"4", 3},   {"5", 4},   {"6", 5},  {"7", 6},  {"mon", 0},
      {"tue", 1}, {"wed", 2}, {"thu", 3}, {"fri", 4}, {"sat", 5}, {"sun", 6}};
  for (const auto& [name, n] : kNames)
    if (s.rfind(name, 0) == 0) return n;
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Time

struct TimeParts {
  int64_t today = 0;  // day number of `now` on its wall clock
  int32_t offset = 0;
  int64_t now_s = 0;
  std::optional<std::pair<int64_t, int64_t>> days;      // [first day, end day)
  std::optional<std::pair<int, int>> minutes;           // [from, to) minutes of the day
  bool pm_part = false;                                 // the part of day is afternoon / evening
  std::optional<std::pair<int64_t, int64_t>> instants;  // "last 3 days": an explicit span
  std::vector<std::string> labels;

  int64_t week_start(int64_t day) const { return day - weekday_from_days(day); }
  CivilDate today_civil() const { return civil_from_days(today); }

  void set_days(int64_t first, int64_t end, const std::string& label) {
    days = {first, end};
    labels.push_back(label);
  }
  bool set_date(int year, int month, int day, const std::string& label) {
    if (!is_valid_date(year, month, day)) return false;
    const int64_t d = days_from_civil(year, month, day);
    set_days(d, d + 1, label);
    return true;
  }
  bool set_month(int year, int month, const std::string& label) {
    if (month < 1 || month > 12) return false;
    const int64_t d = days_from_civil(year, month, 1);
    set_days(d, d + days_in_month(year, month), label);
    return true;
  }
  void set_month_offset(int delta, const std::string& label) {
    const CivilDate c = today_civil();
    int m = c.month - 1 + delta;
    int y = c.year + (m >= 0 ? m / 12 : -((11 - m) / 12));
    m = ((m % 12) + 12) % 12;
    set_month(y, m + 1, label);
  }
  void set_year(int year, const std::string& label) {
    set_days(days_from_civil(year, 1, 1), days_from_civil(year + 1, 1, 1), label);
  }
  void set_week(int delta, const std::string& label) {
    const int64_t w = week_start(today) + 7 * delta;
    set_days(w, w + 7, label);
  }
  void set_weekday(int week_delta, int weekday, const std::string& label) {
    const int64_t d = week_start(today) + 7 * week_delta + weekday;
    set_days(d, d + 1, label);
  }
  void set_part(int from_h, int to_h, bool pm, const std::string& label) {
    minutes = {from_h * 60, to_h * 60};
    pm_part = pm;
    labels.push_back(label);
  }
  void set_clock(int hour, int minute, const std::string& label) {
    if (hour < 12 && (pm_part || (!minutes && hour >= 1 && hour <= 6))) hour += 12;  // "下午3点"; "3点" means 15:00
    if (hour > 23 || minute > 59) return;
    minutes = {hour * 60 + minute, std::min(24 * 60, hour * 60 + minute + 60)};
    labels.push_back(label);
  }

  std::optional<TimeRange> resolve() const {
    if (instants && !days) return TimeRange{instants->first, instants->second};
    if (!days && !minutes) return std::nullopt;
    const auto [d0, d1] = days ? *days : std::pair<int64_t, int64_t>{today, today + 1};
    if (minutes && d1 - d0 == 1)
      return TimeRange{instant_of(d0, minutes->first * 60, offset), instant_of(d0, minutes->second * 60, offset)};
    return TimeRange{instant_of(d0, 0, offset), instant_of(d1, 0, offset)};
  }
};

void understand_time(std::string& q, TimeParts& t) {
  const CivilDate c = t.today_civil();
  auto num = [](const std::smatch& m, int i) { return parse_number(m[i].str()); };

  // Absolute dates.
  static const std::regex kYmdCn = re("(\\d{4})\\s*年\\s*" + kNum + "\\s*月\\s*" + kNum + "\\s*(?:日|号)");
  scan(q, kYmdCn, [&](const std::smatch& m) {
    t.set_date(num(m, 1), num(m, 2), num(m, 3), m[0]);
    return true;  // a date, even when there is no such day
  });
  static const std::regex kIso = re("\\b(\\d{4})-(\\d{1,2})-(\\d{1,2})\\b");
  scan(q, kIso, [&](const std::smatch& m) {
    t.set_date(num(m, 1), num(m, 2), num(m, 3), m[0]);
    return true;  // a date, even when there is no such day
  });
  static const std::regex kMdCn = re(kNum + "\\s*月\\s*" + kNum + "\\s*(?:日|号)");
  scan(q, kMdCn, [&](const std::smatch& m) {
    t.set_date(c.year, num(m, 1), num(m, 2), m[0]);
    return true;  // a date, even when there is no such day
  });
  static const std::regex kMonthDayEn = re("\\b" + kMonths + "\\.? (\\d{1,2})(?:st|nd|rd|th)?(?:,? (\\d{4}))?\\b");
  scan(q, kMonthDayEn, [&](const std::smatch& m) {
    const int year = m[3].matched ? num(m, 3) : c.year;
    t.set_date(year, month_number(m[1]), num(m, 2), m[0]);
    return true;
  });
  static const std::regex kDayMonthEn = re("\\b(\\d{1,2})(?:st|nd|rd|th)? (?:of )?" + kMonths + "(?:,? (\\d{4}))?\\b");
  scan(q, kDayMonthEn, [&](const std::smatch& m) {
    const int year = m[3].matched ? num(m, 3) : c.year;
    t.set_date(year, month_number(m[2]), num(m, 1), m[0]);
    return true;
  });

  // Relative months and years (before "N月" so that 这个月 / 上个月 are not read as a month number).
  static const std::regex kRelMonth = re("(上上|上|这|本|下下|下)(?:个)?月");
  scan(q, kRelMonth, [&](const std::smatch& m) {
    static const std::map<std::string, int> kDelta = {{"上上", -2}, {"上", -1},  {"这", 0},
                                                      {"本", 0},    {"下下", 2}, {"下", 1}};
    t.set_month_offset(kDelta.at(m[1]), m[0]);
    return true;
  });
  static const std::regex kYearCn = re("(今年|去年|前年|明年)");
  scan(q, kYearCn, [&](const std::smatch& m) {
    static const std::map<std::string, int> kDelta = {{"今年", 0}, {"去年", -1}, {"前年", -2}, {"明年", 1}};
    t.set_year(c.year + kDelta.at(m[1]), m[0]);
    return true;
  });
  static const std::regex kYmCn = re("(\\d{4})\\s*年\\s*" + kNum + "\\s*月(?:份)?");
  scan(q, kYmCn, [&](const std::smatch& m) { return t.set_month(num(m, 1), num(m, 2), m[0]); });

  // "最近三天", "过去两周", "最近"; "3天前", "两周前", "3天后".
  static const std::regex kRecentCn =
      re("(最近|过去|近)\\s*" + kNum + "?\\s*(天|日|周|(?:个)?星期|(?:个)?礼拜|(?:个)?月)?");
  scan(q, kRecentCn, [&](const std::smatch& m) {
    if (m[1] == "近" && !m[2].matched) return false;  // 附近, 近况 ...
    if (m[1] == "过去" && !m[3].matched) return false;
    int n = m[2].matched ? num(m, 2) : 1;
    if (n <= 0) return false;
    const std::string unit = m[3].matched ? m[3].str() : "";
    int64_t days = 7;
    if (unit.find("天") != std::string::npos || unit.find("日") != std::string::npos)
      days = n;
    else if (unit.find("月") != std::string::npos)
      days = 30LL * n;
    else if (!unit.empty())
      days = 7LL * n;
    t.set_days(t.today - days + 1, t.today + 1, m[0]);
    return true;
  });
  static const std::regex kAgoCn =
      re(kNum + "\\s*(天|周|(?:个)?星期|(?:个)?礼拜|(?:个)?月)\\s*(前|以前|之前|后|以后|之后)");
  scan(q, kAgoCn, [&](const std::smatch& m) {
    const int n = num(m, 1);
    if (n < 0) return false;
    const int sign = m[3].str().find("前") != std::string::npos ? -1 : 1;
    const std::string unit = m[2];
    if (unit == "天") {
      t.set_days(t.today + sign * n, t.today + sign * n + 1, m[0]);
    } else if (unit.find("月") != std::string::npos) {
      t.set_month_offset(sign * n, m[0]);
    } else {
      t.set_week(sign * n, m[0]);
    }
    return true;
  });

  // Weeks and weekdays: 上周, 这周五, 下周一, 下个星期三, 周末, 周六 (this week's).
  static const std::regex kWeekCn =
      re("(上上|上|这|本|下下|下)?(个)?(周|星期|礼拜)(一|二|三|四|五|六|日|天|末|[1-7])?");
  scan(q, kWeekCn, [&](const std::smatch& m) {
    if (!m[1].matched && !m[4].matched) return false;  // a bare 周 (周围, 周杰伦) is no time
    static const std::map<std::string, int> kDelta = {{"上上", -2}, {"上", -1},  {"这", 0},
                                                      {"本", 0},    {"下下", 2}, {"下", 1}};
    const int delta = m[1].matched ? kDelta.at(m[1]) : 0;
    if (!m[4].matched) {
      t.set_week(delta, m[0]);
    } else if (m[4] == "末") {
      const int64_t sat = t.week_start(t.today) + 7 * delta + 5;
      t.set_days(sat, sat + 2, m[0]);
    } else {
      t.set_weekday(delta, weekday_number(m[4]), m[0]);
    }
    return true;
  });

  // Days.
  static const std::regex kDayCn =
      re("(大前天|前天|昨天|昨日|昨晚|今天|今日|今晚|今早|明天|明日|明晚|明早|大后天|后天)");
  scan(q, kDayCn, [&](const std::smatch& m) {
    static const std::map<std::string, int> kDelta = {
        {"大前天", -3}, {"前天", -2}, {"昨天", -1}, {"昨日", -1}, {"昨晚", -1}, {"今天", 0}, {"今日", 0},  {"今晚", 0},
        {"今早", 0},    {"明天", 1},  {"明日", 1},  {"明晚", 1},  {"明早", 1},  {"后天", 2}, {"大后天", 3}};
    const int64_t d = t.today + kDelta.at(m[1]);
    t.set_days(d, d + 1, m[0]);
    const std::string s = m[1];
    if (s.find("晚") != std::string::npos) t.set_part(18, 24, true, "晚");
    if (s.find("早") != std::string::npos) t.set_part(5, 12, false, "早");
    return true;
  });
  static const std::regex kMonthCn = re(kNum + "\\s*月(?:份)?");
  scan(q, kMonthCn, [&](const std::smatch& m) { return t.set_month(c.year, num(m, 1), m[0]); });
  static const std::regex kDayOfMonthCn = re("(\\d{1,2}|(?:一|二|三|四|五|六|七|八|九|十)+)\\s*(?:号|日)");
  scan(q, kDayOfMonthCn, [&](const std::smatch& m) { return t.set_date(c.year, c.month, num(m, 1), m[0]); });

  // English days and weeks.
  static const std::regex kDayEn =
      re("\\b(the )?(day before yesterday|day after tomorrow|today|tonight|tomorrow|yesterday|last night|this morning|"
         "this afternoon|this evening)\\b");
  scan(q, kDayEn, [&](const std::smatch& m) {
    const std::string s = m[2];
    int delta = 0;
    if (s == "day before yesterday")
      delta = -2;
    else if (s == "day after tomorrow")
      delta = 2;
    else if (s == "tomorrow")
      delta = 1;
    else if (s == "yesterday" || s == "last night")
      delta = -1;
    t.set_days(t.today + delta, t.today + delta + 1, s);
    if (s == "tonight" || s == "last night" || s == "this evening") t.set_part(18, 24, true, "evening");
    if (s == "this morning") t.set_part(5, 12, false, "morning");
    if (s == "this afternoon") t.set_part(12, 18, true, "afternoon");
    return true;
  });
  static const std::regex kLastNEn =
      re("\\b(?:in the )?(?:last|past|previous) " + kEnNum + " (days?|weeks?|months?)\\b");
  scan(q, kLastNEn, [&](const std::smatch& m) {
    const int n = num(m, 1);
    if (n <= 0) return false;
    const std::string unit = m[2];
    const int64_t days = unit[0] == 'd' ? n : unit[0] == 'w' ? 7LL * n : 30LL * n;
    t.set_days(t.today - days + 1, t.today + 1, m[0]);
    return true;
  });
  static const std::regex kAgoEn = re("\\b" + kEnNum + " (days?|weeks?|months?) ago\\b");
  scan(q, kAgoEn, [&](const std::smatch& m) {
    const int n = num(m, 1);
    if (n <= 0) return false;
    const char unit = m[2].str()[0];
    if (unit == 'd')
      t.set_days(t.today - n, t.today - n + 1, m[0]);
    else if (unit == 'w')
      t.set_week(-n, m[0]);
    else
      t.set_month_offset(-n, m[0]);
    return true;
  });
  static const std::regex kInNEn = re("\\bin " + kEnNum + " days?\\b");
  scan(q, kInNEn, [&](const std::smatch& m) {
    const int n = num(m, 1);
    if (n <= 0) return false;
    t.set_days(t.today + n, t.today + n + 1, m[0]);
    return true;
  });
  static const std::regex kRelEn = re("\\b(last|past|previous|this|current|next|coming) (week|month|year|weekend)\\b");
  scan(q, kRelEn, [&](const std::smatch& m) {
    const std::string w = m[1], unit = m[2];
    const int delta = (w == "last" || w == "past" || w == "previous") ? -1 : (w == "next" || w == "coming") ? 1 : 0;
    if (unit == "week")
      t.set_week(delta, m[0]);
    else if (unit == "month")
      t.set_month_offset(delta, m[0]);
    else if (unit == "year")
      t.set_year(c.year + delta, m[0]);
    else {
      const int64_t sat = t.week_start(t.today) + 7 * delta + 5;
      t.set_days(sat, sat + 2, m[0]);
    }
    return true;
  });
  static const std::regex kWeekdayEn = re(
      "\\b(?:(last|this|next|coming|on) )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|"
      "thurs|thur|thu|fri|sat|sun)\\b");
  scan(q, kWeekdayEn, [&](const std::smatch& m) {
    const std::string which = m[1].matched ? m[1].str() : "";
    const std::string day = m[2];
    if (which.empty() && day.size() <= 4 && day != "mon" && day != "fri")
      return false;  // "sun", "sat", "wed" are words
    const int wd = weekday_number(day.substr(0, 3));
    if (which == "last") {  // the latest such day before today
      int64_t d = t.today - 1;
      while (weekday_from_days(d) != wd) --d;
      t.set_days(d, d + 1, m[0]);
    } else if (which == "next" || which == "coming") {
      t.set_weekday(1, wd, m[0]);
    } else {
      t.set_weekday(0, wd, m[0]);
    }
    return true;
  });
  static const std::regex kWeekendEn = re("\\b(?:on )?(?:the )?weekend\\b");
  scan(q, kWeekendEn, [&](const std::smatch& m) {
    const int64_t sat = t.week_start(t.today) + 5;
    t.set_days(sat, sat + 2, m[0]);
    return true;
  });
  static const std::regex kRecentEn = re("\\b(recently|lately|recent)\\b");
  scan(q, kRecentEn, [&](const std::smatch& m) {
    t.set_days(t.today - 6, t.today + 1, m[0]);
    return true;
  });
  static const std::regex kMonthEn = re("\\b(?:(?:in|during|of|for) )?" + kMonths + "(?: (\\d{4}))?\\b");
  scan(q, kMonthEn, [&](const std::smatch& m) {
    const std::string name = m[1];
    const bool has_prep = m[0].str().size() > name.size() + (m[2].matched ? m[2].length() + 1 : 0);
    // Bare short names and "may" / "march" are words too: only with a preposition or a year.
    if (!has_prep && !m[2].matched && (name.size() <= 4 || name == "march")) return false;
    return t.set_month(m[2].matched ? num(m, 2) : c.year, month_number(name), m[0]);
  });

  // Parts of the day, then clock times (which may refine them).
  static const std::regex kPartCn = re("(凌晨|早上|早晨|清晨|上午|中午|下午|傍晚|晚上|夜里|夜晚|半夜)");
  scan(q, kPartCn, [&](const std::smatch& m) {
    static const std::map<std::string, std::pair<int, int>> kHours = {
        {"凌晨", {0, 6}},   {"早上", {5, 10}},  {"早晨", {5, 10}},  {"清晨", {5, 9}},
        {"上午", {6, 12}},  {"中午", {11, 14}}, {"下午", {12, 18}}, {"傍晚", {17, 20}},
        {"晚上", {18, 24}}, {"夜里", {20, 24}}, {"夜晚", {18, 24}}, {"半夜", {0, 4}}};
    const auto [h0, h1] = kHours.at(m[1]);
    t.set_part(h0, h1, h0 >= 12 || m[1] == "中午", m[0]);
    return true;
  });
  static const std::regex kPartEn = re("\\b(?:in the |this )?(morning|noon|afternoon|evening|night|midnight)\\b");
  scan(q, kPartEn, [&](const std::smatch& m) {
    static const std::map<std::string, std::pair<int, int>> kHours = {{"morning", {5, 12}},    {"noon", {11, 14}},
                                                                      {"afternoon", {12, 18}}, {"evening", {18, 24}},
                                                                      {"night", {18, 24}},     {"midnight", {0, 2}}};
    const auto [h0, h1] = kHours.at(m[1]);
    t.set_part(h0, h1, h0 >= 12 || m[1] == "noon", m[0]);
    return true;
  });
  static const std::regex kClockCn = re(kNum + "\\s*(?:点|點)\\s*(半|" + kNum.substr(0, kNum.size()) + "\\s*分)?");
  scan(q, kClockCn, [&](const std::smatch& m) {
    const int h = num(m, 1);
    if (h < 0 || h > 24) return false;
    int minute = 0;
    if (m[2].matched) minute = m[2] == "半" ? 30 : std::max(0, parse_number(m[3]));
    t.set_clock(h, minute, m[0]);
    return true;
  });
  static const std::regex kClockEn =
      re("\\b(?:at )?(\\d{1,2})(?::(\\d{2}))? ?(am|pm|a\\.m\\.|p\\.m\\.)|\\bat (\\d{1,2})(?::(\\d{2}))?\\b");
  scan(q, kClockEn, [&](const std::smatch& m) {
    if (m[1].matched) {
      int h = num(m, 1);
      const int minute = m[2].matched ? num(m, 2) : 0;
      if (h < 1 || h > 12) return false;
      const bool pm = m[3].str()[0] == 'p';
      h = (h % 12) + (pm ? 12 : 0);
      t.minutes.reset();
      t.pm_part = false;
      t.minutes = {h * 60 + minute, std::min(24 * 60, h * 60 + minute + 60)};
      t.labels.push_back(m[0]);
      return true;
    }
    const int h = num(m, 4);
    if (h < 0 || h > 23) return false;
    t.set_clock(h, m[5].matched ? num(m, 5) : 0, m[0]);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Sources

void understand_sources(std::string& q, QueryPlan& plan) {
  struct Hint {
    std::regex pattern;
    const char* source;
    bool filter;
  };
  static const std::vector<Hint> kHints = [] {
    std::vector<Hint> h;
    auto add = [&](const std::string& p, const char* s, bool filter) { h.push_back({re(p), s, filter}); };
    add("(电话号码|通讯录|联系人|联系方式)", "contact", true);
    add("\\b(phone numbers?|contacts?|address book)\\b", "contact", true);
    add("(短信|信息|消息|简讯)", "sms", true);
    add("\\b(sms|texts?|texted|text messages?|messages?|msgs?)\\b", "sms", true);
    add("(日程|日历|行程)", "calendar", true);
    add("\\b(calendar|schedule|events?|appointments?)\\b", "calendar", true);
    add("(照片|相片|图片|截图|拍的)", "photo", true);
    add("\\b(photos?|pictures?|pics?|images?|screenshots?)\\b", "photo", true);
    add("(备忘录|备忘|笔记|记事本|记事)", "note", true);
    add("\\b(notes?|memos?)\\b", "note", true);
    add("(通话记录|通话|电话|来电)", "call", true);
    add("\\b(phone calls?|calls?|called|voice calls?)\\b", "call", true);
    add("(邮件|电邮)", "email", true);
    add("\\b(e-?mails?)\\b", "email", true);
    return h;
  }();
  static const std::regex kMeeting = re("(会议|开会|\\bmeetings?\\b)");
  auto add_unique = [](std::vector<std::string>& v, const std::string& s) {
    if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
  };
  for (const Hint& h : kHints) {
    scan(q, h.pattern, [&](const std::smatch& m) {
      add_unique(plan.sources, h.source);
      plan.understood.push_back("source: " + m[0].str() + " -> " + h.source);
      return true;
    });
  }
  scan(q, kMeeting, [&](const std::smatch& m) {
    add_unique(plan.boost_sources, "calendar");
    plan.understood.push_back("boost: " + m[0].str() + " -> calendar");
    return false;  // still searched for
  });
}

// ---------------------------------------------------------------------------------------------
// People

const std::vector<std::vector<std::string>>& kinship_groups() {
  static const std::vector<std::vector<std::string>> kGroups = {
      {"妈妈", "老妈", "母亲", "妈咪", "mom", "mum", "mother", "mommy", "mama"},
      {"爸爸", "老爸", "父亲", "爹", "dad", "father", "daddy", "papa"},
      {"老婆", "媳妇", "妻子", "太太", "wife"},
      {"老公", "丈夫", "先生", "husband"},
      {"哥哥", "大哥", "哥", "brother"},
      {"姐姐", "大姐", "姐", "sister"},
      {"弟弟", "弟"},
      {"妹妹", "妹"},
      {"爷爷", "grandpa", "grandfather"},
      {"奶奶", "grandma", "grandmother"},
      {"外婆", "姥姥"},
      {"外公", "姥爷"},
      {"儿子", "son"},
      {"女儿", "daughter"},
      {"老板", "boss"}};
  return kGroups;
}

bool is_ascii_word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void understand_people(std::string& q, const std::vector<std::string>& known, QueryPlan& plan) {
  // Mentions that can stand for known names: the names themselves, their words ("alice" for
  // "Alice Chen"), and kinship words of a group one of the names belongs to.
  std::map<std::string, std::set<std::string>> mentions;  // folded mention -> stored names
  for (const std::string& name : known) {
    const std::string f = fold_query(name);
    if (f.empty() || f == "me" || f == "我" || f == "i") continue;
    mentions[f].insert(name);
    if (f.find(' ') != std::string::npos) {
      size_t a = 0;
      while (a < f.size()) {
        size_t b = f.find(' ', a);
        if (b == std::string::npos) b = f.size();
        if (b - a >= 3) mentions[f.substr(a, b - a)].insert(name);
        a = b + 1;
      }
    }
    for (const auto& group : kinship_groups()) {
      if (std::find(group.begin(), group.end(), f) == group.end()) continue;
      for (const auto& alias : group)
        if (alias.size() > 3 || (uint8_t(alias[0]) < 0x80 && alias.size() >= 3)) mentions[alias].insert(name);
    }
  }
  std::vector<std::string> order;
  for (const auto& [m, names] : mentions) order.push_back(m);
  std::sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });

  static const char* kSenderAfter[] = {"发来的",   "发过来的", "发给我的", "给我发的", "发的", "打来的",
                                       "打给我的", "寄来的",   "说的",     "问的",     "回的"};
  // English verbs after a name make it the sender but stay in the text ("mom texted me": sms).
  static const char* kSenderVerbAfter[] = {"text me", "texted me",   "texts me",   "sent me",
                                           "sent",    "called me",   "said",       "wrote",
                                           "told me", "messaged me", "emailed me", "mailed me"};
  static const char* kSenderBefore[] = {"message from ", "texts from ", "sent by ", "texted by ", "from ", "by "};
  static const char* kAnyBefore[] = {"和", "跟", "与", "同", "给", "with ", "to "};

  std::set<std::string> done;
  for (const std::string& mention : order) {
    size_t pos = 0;
    while ((pos = q.find(mention, pos)) != std::string::npos) {
      const size_t end = pos + mention.size();
      const bool ascii = uint8_t(mention[0]) < 0x80;
      if (ascii && ((pos > 0 && is_ascii_word_char(q[pos - 1])) || (end < q.size() && is_ascii_word_char(q[end])))) {
        pos = end;
        continue;
      }
      PersonFilter p;
      p.mention = mention;
      p.names.assign(mentions[mention].begin(), mentions[mention].end());
      size_t cut_from = pos, cut_to = end;
      std::string_view after(q);
      after = after.substr(end);
      while (!after.empty() && after[0] == ' ') after.remove_prefix(1), ++cut_to;
      const std::string_view before = std::string_view(q).substr(0, pos);
      p.filter = false;
      for (const char* cue : kSenderAfter)
        if (after.rfind(cue, 0) == 0) {
          p.filter = true, p.role = PersonRole::kSender;
          cut_to += std::string_view(cue).size();
          break;
        }
      if (!p.filter)
        for (const char* cue : kSenderVerbAfter)
          if (after.rfind(cue, 0) == 0 && (after.size() == std::strlen(cue) || after[std::strlen(cue)] == ' ')) {
            p.filter = true, p.role = PersonRole::kSender;
            break;
          }
      if (!p.filter)
        for (const char* cue : kSenderBefore)
          if (ends_with(before, cue)) {
            p.filter = true, p.role = PersonRole::kSender;
            cut_from = pos - std::string_view(cue).size();
            break;
          }
      if (!p.filter)
        for (const char* cue : kAnyBefore)
          if (ends_with(before, cue)) {
            p.filter = true, p.role = PersonRole::kAny;
            cut_from = pos - std::string_view(cue).size();
            break;
          }
      if (!p.filter && after.rfind("的", 0) == 0) p.filter = true, p.role = PersonRole::kAny;
      if (!p.filter && (after.rfind("'s ", 0) == 0 || after == "'s")) p.filter = true, p.role = PersonRole::kAny;
      if (done.insert(mention).second) {
        plan.understood.push_back(std::string(p.filter ? "person filter: " : "person boost: ") + mention +
                                  (p.filter && p.role == PersonRole::kSender ? " (sender)" : ""));
        plan.people.push_back(p);
      }
      if (p.filter) {
        q.replace(cut_from, cut_to - cut_from, 1, ' ');
        pos = cut_from + 1;
      } else {
        q.replace(pos, mention.size(), std::string(mention.size(), '\x02'));  // seen; restored below
        pos = end;
      }
    }
  }
  // Boost-only mentions are searched as the names they stand for ("mom" -> "妈妈", which the
  // sender column holds).
  for (const PersonFilter& p : plan.people) {
    if (p.filter) continue;
    std::string names;
    for (const auto& n : p.names) names += (names.empty() ? "" : " ") + n;
    if (names.empty()) names = p.mention;
    const std::string marker(p.mention.size(), '\x02');
    size_t pos = 0;
    while ((pos = q.find(marker, pos)) != std::string::npos) {
      q.replace(pos, marker.size(), names);
      pos += names.size();
    }
  }
}

std::string squeeze_spaces(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

QueryPlan understand_query(std::string_view query, const Timestamp& now, const std::vector<std::string>& known_people) {
  QueryPlan plan;
  std::string q = fold_query(query);
  TimeParts t;
  t.now_s = now.epoch_s;
  t.offset = now.offset_s;
  t.today = local_day(now.epoch_s, now.offset_s);
  understand_time(q, t);
  plan.time = t.resolve();
  if (plan.time) {
    std::string labels;
    for (const auto& l : t.labels) labels += (labels.empty() ? "" : " + ") + l;
    plan.understood.push_back("time: " + labels + " -> " + format_iso8601(plan.time->begin_s, t.offset) + " .. " +
                              format_iso8601(plan.time->end_s, t.offset));
  }
  understand_people(q, known_people, plan);
  understand_sources(q, plan);
  plan.text = squeeze_spaces(q);
  return plan;
}

}  // namespace pm::store
