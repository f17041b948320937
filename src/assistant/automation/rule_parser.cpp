// The deterministic request parser (rule_parser.h). A request is split into clauses (。；;!?
// and line breaks), each clause into comma-separated parts. From every part, in this order:
//   1. actions whose wording embeds times, durations or free text (navigation, messages,
//      speech, alarms, timers, reminders, calendar events) are taken out first so their
//      contents are not read as triggers;
//   2. time ranges (between A and B), intervals (every N minutes), relative moments (in 20
//      minutes), dates and weekday sets, times of day;
//   3. explicit conditions (如果 / if ...), then events (当 ... 时 / when ...);
//   4. what is left is split at 并/然后/and/then into action phrases, each of which must match
//      one tool's wording exactly: anything else is "could not understand".
// Parts group into rules: a part that brings a new trigger after the current rule already has
// actions starts the next rule.
#include "assistant/automation/rule_parser.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <regex>
#include <set>

namespace pm::automation {

namespace {

using json = nlohmann::ordered_json;
using Groups = std::vector<std::string>;  // [0] = whole match; unmatched groups are ""

// ---- calendar arithmetic (proleptic Gregorian; days since 1970-01-01) -----------------------------

int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = int(doy - (153 * mp + 2) / 5 + 1);
  m = int(mp < 10 ? mp + 3 : mp - 9);
  y = int(yoe + era * 400 + (m <= 2));
}

// 0 = Monday .. 6 = Sunday.
int weekday_index(int64_t days) { return int(((days % 7) + 7 + 3) % 7); }

const std::vector<std::string> kDayNames = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string date_of(int64_t days) {
  int y, m, d;
  civil_from_days(days, y, m, d);
  return format_date(y, m, d);
}

// ---- text helpers ------------------------------------------------------------------------------

std::regex re(const std::string& pattern) { return std::regex(pattern, std::regex::ECMAScript | std::regex::icase); }

std::string trim(std::string s) {
  static const std::regex ws("^[\\s\\u00a0]+|[\\s]+$");
  s = std::regex_replace(s, ws, "");
  return s;
}

// Finds the first match of `r` in `s`, returns its groups and blanks the match out of `s`.
std::optional<Groups> take(std::string& s, const std::regex& r, const std::string& replacement = " ") {
  std::smatch m;
  if (!std::regex_search(s, m, r)) return std::nullopt;
  Groups g;
  for (size_t i = 0; i < m.size(); ++i) g.push_back(m[i].matched ? m[i].str() : std::string());
  const size_t pos = size_t(m.position(0)), len = size_t(m.length(0));
  s = s.substr(0, pos) + replacement + s.substr(pos + len);
  return g;
}

std::optional<Groups> full(const std::string& s, const std::regex& r) {
  std::smatch m;
  if (!std::regex_match(s, m, r)) return std::nullopt;
  Groups g;
  for (size_t i = 0; i < m.size(); ++i) g.push_back(m[i].matched ? m[i].str() : std::string());
  return g;
}

std::string utf8_prefix(const std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n) + "...";
}

// Chinese or Arabic numerals 0-999; -1 when not a number.
int parse_number(const std::string& text) {
  const std::string t = trim(text);
  if (t.empty()) return -1;
  if (std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return t.size() > 6 ? -1 : std::stoi(t);
  static const std::map<std::string, int> kDigits = {{"零", 0}, {"〇", 0}, {"一", 1}, {"二", 2}, {"两", 2}, {"三", 3},
                                                     {"四", 4}, {"五", 5}, {"六", 6}, {"七", 7}, {"八", 8}, {"九", 9}};
  static const std::map<std::string, int> kEnglish = {
      {"a", 1},           {"an", 1},      {"one", 1},      {"two", 2},     {"three", 3},   {"four", 4},
      {"five", 5},        {"six", 6},     {"seven", 7},    {"eight", 8},   {"nine", 9},    {"ten", 10},
      {"eleven", 11},     {"twelve", 12}, {"fifteen", 15}, {"twenty", 20}, {"thirty", 30}, {"forty", 40},
      {"forty-five", 45}, {"sixty", 60},  {"ninety", 90}};
  std::string lower = t;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (auto it = kEnglish.find(lower); it != kEnglish.end()) return it->second;
  int total = 0, current = -1;
  for (size_t i = 0; i < t.size();) {
    const std::string ch = t.substr(i, 3);
    i += 3;
    if (auto it = kDigits.find(ch); it != kDigits.end()) {
      current = it->second;
    } else if (ch == "十") {
      total += (current < 0 ? 1 : current) * 10;
      current = -1;
    } else if (ch == "百") {
      total += (current < 0 ? 1 : current) * 100;
      current = -1;
    } else {
      return -1;
    }
  }
  return total + (current < 0 ? 0 : current);
}

// ---- shared sub-patterns (counts of capturing groups noted) ---------------------------------------

const std::string kCnNum = "(?:零|〇|一|二|两|三|四|五|六|七|八|九|十|百)+";
const std::string kNum = "(?:[0-9]+|" + kCnNum + ")";
const std::string kEnNum =
    "(?:[0-9]+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty-five|"
    "forty|sixty|ninety)";
const std::string kPeriod = "(?:凌晨|早上|早晨|清晨|上午|中午|下午|傍晚|晚上|今晚|明晚|明早|夜里|夜间|早|晚)";
// A time of day: 8 groups (period, hour, minutes, am/pm | hour, am/pm | word ; English suffix).
const std::string kTime =
    "(?:(" + kPeriod + ")?\\s*([0-9]{1,2}|" + kCnNum + ")\\s*(?:点钟|点|:|：)\\s*(半|一刻|三刻|[0-9]{1,2}|" + kCnNum +
    ")?(?:\\s*分(?!钟))?\\s*(am\\b|pm\\b|a\\.m\\.|p\\.m\\.)?|([0-9]{1,2})\\s*(am\\b|pm\\b|a\\.m\\.|p\\.m\\.)|" +
    "\\b(noon|midnight)\\b|(正午|午夜))(\\s+in the morning|\\s+in the afternoon|\\s+in the evening|\\s+at "
    "night|\\s+tonight)?";
const int kTimeGroups = 9;
const std::string kQuote = "(?:“|\"|「|『|‘)(.+?)(?:”|\"|」|』|’)";  // 1 group
const std::string kDay = "(一|二|三|四|五|六|日|天|七)";             // 1 group
const std::string kDayEn = "(monday|tuesday|wednesday|thursday|friday|saturday|sunday)";

int day_index_zh(const std::string& d) {
  static const std::map<std::string, int> k = {{"一", 0}, {"二", 1}, {"三", 2}, {"四", 3}, {"五", 4},
                                               {"六", 5}, {"日", 6}, {"天", 6}, {"七", 6}};
  auto it = k.find(d);
  return it == k.end() ? -1 : it->second;
}
int day_index_en(std::string d) {
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (int i = 0; i < 7; ++i)
    if (d.rfind(kDayNames[size_t(i)], 0) == 0) return i;
  return -1;
}

struct HM {
  int h = 0, m = 0;
  std::string text() const {
    char b[32];
    std::snprintf(b, sizeof b, "%02d:%02d", h, m);
    return b;
  }
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// Hour shifted by a period word.
int apply_period(int h, const std::string& period) {
  const std::string p = lower(trim(period));
  if (p.empty()) return h;
  if (p == "凌晨" || p == "早上" || p == "早晨" || p == "清晨" || p == "上午" || p == "早" || p == "明早" ||
      p == "in the morning")
    return h == 12 && p == "凌晨" ? 0 : h;
  if (p == "am" || p == "a.m.") return h == 12 ? 0 : h;
  if (p == "中午") return h >= 1 && h <= 2 ? h + 12 : h;
  if (p == "下午" || p == "傍晚" || p == "pm" || p == "p.m." || p == "in the afternoon" || p == "in the evening")
    return h >= 1 && h <= 11 ? h + 12 : h;
  if (p == "晚上" || p == "今晚" || p == "明晚" || p == "夜里" || p == "夜间" || p == "晚" || p == "at night" ||
      p == "tonight") {
    if (h == 12) return 0;
    return h >= 5 && h <= 11 ? h + 12 : h;
  }
  return h;
}

// The time in groups[off .. off+kTimeGroups). `inherit` is a period to use when none is given,
// `pm_hint` shifts a bare hour below 12 to the afternoon (tonight, every evening).
Result<HM> time_from(const Groups& g, size_t off, const std::string& inherit = "", bool pm_hint = false) {
  auto at = [&](size_t i) -> const std::string& { return g[off + i]; };
  HM t;
  std::string period;
  if (!at(6).empty() || !at(7).empty()) {
    const std::string w = lower(at(6).empty() ? at(7) : at(6));
    t.h = (w == "noon" || w == "正午") ? 12 : 0;
    return t;
  }
  if (!at(1).empty()) {
    t.h = parse_number(at(1));
    const std::string mm = at(2);
    if (mm == "半")
      t.m = 30;
    else if (mm == "一刻")
      t.m = 15;
    else if (mm == "三刻")
      t.m = 45;
    else if (!mm.empty())
      t.m = parse_number(mm);
    period = !at(3).empty() ? at(3) : at(0);
  } else {
    t.h = parse_number(at(4));
    period = at(5);
  }
  if (period.empty()) period = at(8);
  if (t.h < 0 || t.m < 0) return Status::invalid_argument("could not understand the time \"" + trim(g[0]) + "\"");
  if (t.h > 23 || t.m > 59) {
    char b[32];
    std::snprintf(b, sizeof b, "%d:%02d", t.h, t.m);
    return Status::invalid_argument(std::string(b) + " is not a valid time of day (hours 0-23, minutes 0-59)");
  }
  if (period.empty()) period = inherit;
  if (period.empty() && pm_hint && t.h < 12) period = "pm";
  const int h = apply_period(t.h, period);
  if (t.h <= 12 || period.empty()) t.h = h;
  return t;
}

// The period word a time was given with (for "下午3点到4点": 4 inherits 下午).
std::string period_of(const Groups& g, size_t off) {
  if (!g[off + 3].empty()) return g[off + 3];
  if (!g[off + 0].empty()) return g[off + 0];
  if (!g[off + 5].empty()) return g[off + 5];
  return g[off + 8];
}

// Durations: "30分钟", "半小时", "2 hours" -> seconds.
int duration_seconds(const std::string& number, const std::string& unit) {
  const std::string u = lower(trim(unit));
  int n =
      number == "半" || lower(trim(number)) == "half an" || lower(trim(number)) == "half" ? -2 : parse_number(number);
  if (number.empty()) n = 1;
  if (n == -1) return -1;
  int unit_s = 60;
  if (u.rfind("秒", 0) == 0 || u.rfind("sec", 0) == 0)
    unit_s = 1;
  else if (u == "小时" || u == "钟头" || u.rfind("hour", 0) == 0 || u.rfind("hr", 0) == 0)
    unit_s = 3600;
  if (n == -2) return unit_s / 2;
  return n * unit_s;
}

std::string place_name(const std::string& quoted) {
  static const std::regex quotes("^\\s*(?:“|\"|「|『|‘)|(?:”|\"|」|』|’)\\s*$");
  const std::string raw = std::regex_replace(quoted, quotes, "");
  const std::string p = lower(trim(raw));
  if (p == "家" || p == "家里" || p == "home") return "home";
  if (p == "公司" || p == "单位" || p == "work" || p == "office" || p == "the office") return "work";
  if (p == "学校" || p == "school") return "school";
  return trim(raw);
}

// ---- the parse state of one rule --------------------------------------------------------------

struct Draft {
  std::vector<std::string> source;  // the parts' text
  std::vector<HM> times;
  std::optional<int64_t> date;               // days since epoch
  std::optional<std::vector<int>> weekdays;  // recurring days (0 = mon)
  bool daily = false;
  std::optional<int> every_minutes;
  std::vector<std::pair<HM, HM>> ranges;
  std::vector<std::pair<int64_t, HM>> moments;  // relative ("in 20 minutes")
  std::vector<json> events;
  std::vector<json> conditions;
  std::vector<Action> actions;
  // A part that brings one of these after the rule already has actions starts the next rule
  // (day words, dates and ranges only qualify the rule they are in).
  bool starts_rule() const { return !times.empty() || every_minutes || !moments.empty() || !events.empty(); }
  bool has_trigger() const {
    return !times.empty() || every_minutes || !moments.empty() || !events.empty() || date || weekdays || daily ||
           !ranges.empty();
  }
};

// What one part contributed (merged into the current draft or a new one).
struct PartResult {
  Draft d;
  std::string rest;  // text left for plain actions
};

// Weather phrases: groups 1 zh day, 2 zh place, 3-4 en day, 5 en place.
const std::regex& weather_regex() {
  static const std::regex r =
      re("(?:播报|播放|告诉我|读|说|念|报|查)(?:一下)?\\s*(今天|当天|今日|明天|明日)?(?:的)?\\s*(?:(.{1,18}?)的)?天气(?"
         ":预报|情况)?|天气预报|\\b(?:read|tell|give)\\s+(?:me\\s+)?(?:the\\s+)?(today's|tomorrow's)?\\s*weather(?:\\s+"
         "forecast)?(?:\\s+for\\s+(today|tomorrow))?(?:\\s+(?:in|for)\\s+([A-Za-z][\\w-]*))?");
  return r;
}

Action weather_action(const Groups& g) {
  const std::string w = lower(g[1] + g[3] + g[4]);
  const bool tomorrow = w.find("明") != std::string::npos || w.find("tomorrow") != std::string::npos;
  json args = {{"when", tomorrow ? "tomorrow" : "today"}};
  const std::string place = trim(!g[2].empty() ? g[2] : g[5]);
  if (!place.empty()) args["place"] = place;
  return Action{"weather.read", args};
}

class Parser {
 public:
  Parser(const LocalTime& now, const ToolRegistry& registry) : now_(now), registry_(registry) {
    today_ = days_from_civil(now.year, now.month, now.day);
  }

  Result<ParsedRequest> parse(std::string_view text);

 private:
  Status parse_part(std::string part, PartResult& out);
  // Actions taken out early leave a marker "\x01N\x01" (N = index into early_) so that the
  // actions of a part keep the order in which they were written.
  Status early_actions(std::string& s);
  std::string marker() const { return " \x01" + std::to_string(early_.size()) + "\x01 "; }
  Status plain_text_actions(const std::string& text, Draft& d);
  std::vector<Action> early_;
  Status triggers(std::string& s, Draft& d);
  Status conditions(std::string& s, Draft& d);
  Status events(std::string& s, Draft& d);
  Status plain_actions(const std::string& rest, Draft& d);
  Result<Action> action_of(const std::string& phrase);
  Result<std::vector<Rule>> build(Draft& d);
  Result<std::string> moment(const std::string& date_word, const Groups& g, size_t off);

  LocalTime now_;
  const ToolRegistry& registry_;
  int64_t today_ = 0;
  bool pm_hint_ = false;
};

const std::regex& sep_clause() {
  static const std::regex r("。|；|;|！|!|？|\\?|\\n|\\.\\s+|\\.$");
  return r;
}

std::vector<std::string> split(const std::string& s, const std::regex& r) {
  std::vector<std::string> out;
  std::sregex_token_iterator it(s.begin(), s.end(), r, -1), end;
  for (; it != end; ++it) {
    std::string t = trim(it->str());
    if (!t.empty()) out.push_back(t);
  }
  return out;
}

// Filler words around triggers and actions that carry no meaning of their own.
std::string strip_fillers(std::string s) {
  static const std::regex lead(
      "^(?:\\s|就|请|帮我|给我|自动|也|都|顺便|记得|马上|立刻|那么|便|要|please\\b|also\\b|automatically\\b|then\\b|"
      "and\\b|"
      "just\\b|并且|并|然后|接着|同时|再|at\\b|on\\b|in\\b|and\\b|from\\b|between\\b|和|只在|只有在|仅在|只有|只|"
      "only\\b|当|在|每当|的时候|时候|的话|之间|期间|之后|以后)+",
      std::regex::ECMAScript | std::regex::icase);
  static const std::regex tail(
      "(?:\\s|吧|哦|啊|please|for me|的话|的时候|时候|时|之间|期间|\\band|\\bthen|并且|并|然后|和)+$",
      std::regex::ECMAScript | std::regex::icase);
  for (int i = 0; i < 3; ++i) {
    s = std::regex_replace(s, lead, "");
    s = std::regex_replace(s, tail, "");
  }
  static const std::regex alone("^(?:时|后|on|at|every|when|whenever|if|in|the|to|每|每个|每周|从|到|of)$",
                                std::regex::ECMAScript | std::regex::icase);
  if (std::regex_match(s, alone)) return "";
  return trim(s);
}

Result<ParsedRequest> Parser::parse(std::string_view text) {
  std::string t(text);
  if (trim(t).empty()) return Status::invalid_argument("could not understand: the request is empty");
  if (t.size() > 1000)
    return Status::invalid_argument("could not understand: the request is too long (over 1000 bytes)");
  for (unsigned char c : t)
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r')
      return Status::invalid_argument("could not understand: the request holds control characters");
  t = std::regex_replace(t, re("\\b([ap])\\.m\\.(?=\\s|$|,)"), "$1m");  // "6 a.m. read" is not the end of a sentence
  for (auto [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"％", "%"}, {"：", ":"}, {"\r", "\n"}, {"\t", " "}})
    for (size_t p; (p = t.find(from)) != std::string::npos;) t.replace(p, from.size(), to);
  ParsedRequest out;
  out.zh = is_chinese_text(t);
  static const std::string part_sep_pattern = "，|,|、(?=\\s*(?:当|如果|每|if|when))|\\s+and then\\s+|\\s+then\\s+";
  static const std::regex part_sep(part_sep_pattern, std::regex::ECMAScript | std::regex::icase);
  for (const std::string& clause : split(t, sep_clause())) {
    pm_hint_ = std::regex_search(clause, re("\\btonight\\b|\\bevery (?:evening|night)\\b|\\bin the evening\\b"));
    std::vector<Draft> drafts;
    for (const std::string& part : split(clause, part_sep)) {
      PartResult pr;
      PM_RETURN_IF_ERROR(parse_part(part, pr));
      Draft& p = pr.d;
      const bool new_rule = drafts.empty() || (p.starts_rule() && !drafts.back().actions.empty());
      if (new_rule) {
        drafts.emplace_back();
        // "每天早上7点…，晚上11点…": a later rule of the same sentence with a time but no day words
        // repeats on the days of the rule before it.
        if (drafts.size() > 1 && !p.times.empty() && !p.date && !p.weekdays && !p.daily) {
          const Draft& prev = drafts[drafts.size() - 2];
          if (!prev.date) {
            drafts.back().daily = prev.daily;
            drafts.back().weekdays = prev.weekdays;
          }
        }
      }
      Draft& d = drafts.back();
      d.source.push_back(part);
      d.times.insert(d.times.end(), p.times.begin(), p.times.end());
      if (p.date) d.date = p.date;
      if (p.weekdays) d.weekdays = p.weekdays;
      d.daily = d.daily || p.daily;
      if (p.every_minutes) d.every_minutes = p.every_minutes;
      d.ranges.insert(d.ranges.end(), p.ranges.begin(), p.ranges.end());
      d.moments.insert(d.moments.end(), p.moments.begin(), p.moments.end());
      d.events.insert(d.events.end(), p.events.begin(), p.events.end());
      d.conditions.insert(d.conditions.end(), p.conditions.begin(), p.conditions.end());
      d.actions.insert(d.actions.end(), p.actions.begin(), p.actions.end());
    }
    for (Draft& d : drafts) {
      Result<std::vector<Rule>> rules = build(d);
      if (!rules.is_ok()) return rules.status();
      for (Rule& r : *rules) out.rules.push_back(std::move(r));
    }
  }
  if (out.rules.empty())
    return Status::invalid_argument("could not understand: \"" + utf8_prefix(trim(std::string(text)), 80) + "\"");
  for (size_t i = 0; i < out.rules.size(); ++i) {
    normalize_rule(out.rules[i]);
    std::vector<std::string> problems = validate(out.rules[i], registry_);
    if (!problems.empty()) {
      std::string msg = "rule " + std::to_string(i + 1) + " is not valid: ";
      for (size_t k = 0; k < problems.size(); ++k) msg += (k ? "; " : "") + problems[k];
      return Status::invalid_argument(msg);
    }
  }
  return out;
}

Status Parser::parse_part(std::string part, PartResult& out) {
  std::string s = " " + part + " ";
  early_.clear();
  PM_RETURN_IF_ERROR(early_actions(s));
  PM_RETURN_IF_ERROR(conditions(s, out.d));
  PM_RETURN_IF_ERROR(triggers(s, out.d));
  PM_RETURN_IF_ERROR(events(s, out.d));
  return plain_actions(s, out.d);
}

Result<std::string> Parser::moment(const std::string& date_word, const Groups& g, size_t off) {
  Result<HM> t = time_from(g, off, "", pm_hint_);
  if (!t.is_ok()) return t.status();
  const std::string w = lower(trim(date_word));
  if (w.empty()) return t->text();
  int64_t day = today_;
  if (w == "明天" || w == "tomorrow")
    day += 1;
  else if (w == "后天")
    day += 2;
  return date_of(day) + "T" + t->text();
}

Status Parser::early_actions(std::string& s) {
  static const std::regex nav =
      re("(?:开始|帮我)?导航(?:到|去|回)\\s*(.+?)(?=\\s*(?:$|\x01|并|然后|再|和|同时))|\\b(?:start\\s+)?navigat(?:e|"
         "ion)\\s+(?:to\\s+|home)(.*?)(?=\\s*(?:$|\x01|\\band\\b|\\bthen\\b))");
  static const std::regex sms = re(
      "(?:给|向)\\s*(.+?)\\s*发(?:一条|一个|条|个)?(?:短信|消息|信息)\\s*(?:说|:)?\\s*(?:" + kQuote + "|(.+?))\\s*$");
  static const std::regex sms_en =
      re("(?:text|send\\s+(?:a\\s+text|an\\s+sms|a\\s+message|a\\s+text\\s+message)\\s+to)\\s+(.+?)\\s*(?:saying|:)\\s*"
         "(?:" +
         kQuote + "|(.+?))\\s*$");
  static const std::regex tts = re("(?:大声)?(?:说|朗读|念|语音播报)(?:一句|一下)?\\s*:?\\s*" + kQuote +
                                   "|\\b(?:say|speak|announce)\\s+(?:aloud\\s+)?" + kQuote);
  static const std::regex alarm = re("(?:设|定|设置|设定)(?:一个|个|一下)?\\s*(明天|后天)?\\s*" + kTime +
                                     "\\s*(?:的)?闹钟|(?:把)?闹钟(?:设|定|调)(?:在|到|为|成)\\s*" + kTime);
  static const std::regex alarm_en = re("\\bset\\s+(?:an?\\s+)?alarm\\s+(?:for|at)\\s+(?:" + kTime +
                                        "|([0-9]{1,2})(?::([0-9]{2}))?)(?:\\s+(tomorrow))?");
  static const std::regex timer =
      re("(?:开始|启动|设|定|设置|开)?(?:一个|个)?\\s*(" + kNum +
         "|半)\\s*(?:个)?\\s*(秒(?:钟)?|分钟|小时|钟头)\\s*(?:的)?(?:计时(?:器)?|倒计时)|倒计时\\s*(" + kNum +
         "|半)\\s*(?:个)?\\s*(秒(?:钟)?|分钟|小时|钟头)");
  static const std::regex timer_en =
      re("\\b(?:start|set)\\s+an?\\s+(" + kEnNum +
         ")[-\\s](second|minute|hour)\\s+timer|\\b(?:start|set)\\s+a\\s+timer\\s+for\\s+(" + kEnNum +
         "|half an)\\s+(seconds?|minutes?|hours?)");
  static const std::regex reminder =
      re("(?:添加|创建|新建|建)(?:一个|个|一条|条)?提醒\\s*:?\\s*(明天|后天|今天)?\\s*" + kTime + "\\s*(.+?)\\s*$");
  static const std::regex reminder_en = re("\\b(?:add|create)\\s+a\\s+reminder\\s+(?:to\\s+)?(.+?)\\s+(?:at|for)\\s+" +
                                           kTime + "(?:\\s+(tomorrow|today))?\\s*$");
  static const std::regex cal =
      re("(?:在)?日历(?:上|里|中)?(?:添加|创建|新建|加|记)(?:一个|个)?\\s*(明天|后天|今天)?\\s*" + kTime +
         "(?:\\s*(?:到|至|-)\\s*" + kTime + ")?\\s*(?:的)?\\s*(?:日程|事件|会议|活动)?\\s*:?\\s*(?:" + kQuote +
         "|(.+?))\\s*$");
  static const std::regex cal_en = re("\\badd\\s+(?:a\\s+)?(?:calendar\\s+)?event\\s+(?:" + kQuote +
                                      "|(.+?))\\s+(?:to my calendar\\s+)?(tomorrow\\s+)?(?:at|from)\\s+" + kTime +
                                      "(?:\\s+(?:to|until)\\s+" + kTime + ")?(?:\\s+(tomorrow))?\\s*$");

  while (auto g = take(s, weather_regex(), marker())) early_.push_back(weather_action(*g));
  while (auto g = take(s, nav, marker())) {
    std::string dest = trim(!(*g)[1].empty() ? (*g)[1] : (*g)[2]);
    if (dest.empty() && lower((*g)[0]).find("home") != std::string::npos) dest = "home";
    if (dest.empty())
      return Status::invalid_argument("could not understand where to navigate to: \"" + trim((*g)[0]) + "\"");
    early_.push_back({"navigation.start", {{"destination", place_name(dest)}}});
  }
  for (const std::regex* r : {&sms, &sms_en})
    while (auto g = take(s, *r, marker())) {
      const std::string text = trim(!(*g)[2].empty() ? (*g)[2] : (*g)[3]);
      early_.push_back({"sms.send", {{"to", trim((*g)[1])}, {"text", text}}});
    }
  while (auto g = take(s, tts, marker()))
    early_.push_back({"tts.speak", {{"text", trim(!(*g)[1].empty() ? (*g)[1] : (*g)[2])}}});
  while (auto g = take(s, alarm, marker())) {
    const size_t off =
        !(*g)[2].empty() || !(*g)[5].empty() || !(*g)[7].empty() || !(*g)[8].empty() ? 2 : 2 + kTimeGroups;
    Result<HM> t = time_from(*g, off);
    if (!t.is_ok()) return t.status();
    json args = {{"time", t->text()}};
    if (!(*g)[1].empty()) args["date"] = date_of(today_ + ((*g)[1] == "明天" ? 1 : 2));
    early_.push_back({"alarm.set", args});
  }
  while (auto g = take(s, alarm_en, marker())) {
    HM t;
    if (!(*g)[1 + kTimeGroups].empty()) {
      t.h = parse_number((*g)[1 + kTimeGroups]);
      t.m = (*g)[2 + kTimeGroups].empty() ? 0 : parse_number((*g)[2 + kTimeGroups]);
      if (t.h > 23 || t.m > 59)
        return Status::invalid_argument(trim((*g)[1 + kTimeGroups]) + ":" +
                                        ((*g)[2 + kTimeGroups].empty() ? "00" : (*g)[2 + kTimeGroups]) +
                                        " is not a valid time of day (hours 0-23, minutes 0-59)");
    } else {
      Result<HM> r = time_from(*g, 1, "", pm_hint_);
      if (!r.is_ok()) return r.status();
      t = *r;
    }
    json args = {{"time", t.text()}};
    if (!(*g)[3 + kTimeGroups].empty()) args["date"] = date_of(today_ + 1);
    early_.push_back({"alarm.set", args});
  }
  for (const std::regex* r : {&timer, &timer_en})
    while (auto g = take(s, *r, marker())) {
      const bool first = !(*g)[1].empty();
      const int secs = duration_seconds(first ? (*g)[1] : (*g)[3], first ? (*g)[2] : (*g)[4]);
      if (secs <= 0)
        return Status::invalid_argument("could not understand the timer length in \"" + trim((*g)[0]) + "\"");
      early_.push_back({"timer.start", {{"duration_s", secs}}});
    }
  while (auto g = take(s, reminder, marker())) {
    Result<std::string> at = moment((*g)[1], *g, 2);
    if (!at.is_ok()) return at.status();
    early_.push_back({"reminder.create", {{"text", trim((*g)[2 + kTimeGroups])}, {"at", *at}}});
  }
  while (auto g = take(s, reminder_en, marker())) {
    Result<std::string> at = moment((*g)[2 + kTimeGroups], *g, 2);
    if (!at.is_ok()) return at.status();
    early_.push_back({"reminder.create", {{"text", trim((*g)[1])}, {"at", *at}}});
  }
  while (auto g = take(s, cal, marker())) {
    Result<std::string> start = moment((*g)[1], *g, 2);
    if (!start.is_ok()) return start.status();
    json args = {
        {"title", trim(!(*g)[2 + 2 * kTimeGroups].empty() ? (*g)[2 + 2 * kTimeGroups] : (*g)[3 + 2 * kTimeGroups])},
        {"start", *start}};
    Groups end_g = *g;
    if (!(*g)[2 + kTimeGroups + 1].empty() || !(*g)[2 + kTimeGroups + 4].empty() ||
        !(*g)[2 + kTimeGroups + 6].empty() || !(*g)[2 + kTimeGroups + 7].empty()) {
      const std::string inherit =
          (*g)[2 + kTimeGroups].empty() && (*g)[2 + kTimeGroups + 3].empty() ? period_of(*g, 2) : "";
      Result<HM> e = time_from(*g, 2 + kTimeGroups, inherit);
      if (!e.is_ok()) return e.status();
      const size_t tpos = start->find('T');
      args["end"] = (tpos == std::string::npos ? "" : start->substr(0, tpos + 1)) + e->text();
    }
    early_.push_back({"calendar.create_event", args});
  }
  while (auto g = take(s, cal_en, marker())) {
    const std::string date_word = !(*g)[3].empty() ? "tomorrow" : (*g)[4 + 2 * kTimeGroups];
    Result<std::string> start = moment(date_word, *g, 4);
    if (!start.is_ok()) return start.status();
    json args = {{"title", trim(!(*g)[1].empty() ? (*g)[1] : (*g)[2])}, {"start", *start}};
    if (!(*g)[4 + kTimeGroups + 1].empty() || !(*g)[4 + kTimeGroups + 4].empty() ||
        !(*g)[4 + kTimeGroups + 6].empty()) {
      Result<HM> e = time_from(*g, 4 + kTimeGroups, "", pm_hint_);
      if (!e.is_ok()) return e.status();
      const size_t tpos = start->find('T');
      args["end"] = (tpos == std::string::npos ? "" : start->substr(0, tpos + 1)) + e->text();
    }
    early_.push_back({"calendar.create_event", args});
  }
  return Status::ok();
}

Status Parser::triggers(std::string& s, Draft& d) {
  // Ranges first: "晚上10点到早上7点之间", "between 9 and 17", "from 9am to 5pm".
  static const std::regex range_between = re("\\b(?:between|from)\\s+" + kTime + "\\s+(?:and|to|until)\\s+" + kTime);
  static const std::regex range_zh =
      re("(?:在|从)?\\s*" + kTime + "\\s*(?:到|至|-|~|to|until)\\s*" + kTime + "\\s*(?:之间|期间|内)?");
  static const std::regex range_en =
      re("\\b(?:between|from)\\s+([0-9]{1,2})(?::([0-9]{2}))?\\s*(am|pm)?\\s+(?:and|to|until)\\s+([0-9]{1,2})(?::([0-9]"
         "{2}))?\\s*(am|pm)?");
  for (const std::regex* rr : {&range_between, &range_zh})
    while (auto g = take(s, *rr)) {
      Result<HM> a = time_from(*g, 1, "", pm_hint_);
      if (!a.is_ok()) return a.status();
      const bool own_period =
          !(*g)[1 + kTimeGroups].empty() || !(*g)[1 + kTimeGroups + 3].empty() || !(*g)[1 + kTimeGroups + 5].empty();
      Result<HM> b = time_from(*g, 1 + kTimeGroups, own_period ? "" : period_of(*g, 1), pm_hint_);
      if (!b.is_ok()) return b.status();
      d.ranges.push_back({*a, *b});
    }
  while (auto g = take(s, range_en)) {
    HM a, b;
    a.h = std::stoi((*g)[1]);
    a.m = (*g)[2].empty() ? 0 : std::stoi((*g)[2]);
    b.h = std::stoi((*g)[4]);
    b.m = (*g)[5].empty() ? 0 : std::stoi((*g)[5]);
    for (HM* t : {&a, &b})
      if (t->h > 23 || t->m > 59) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%d:%02d", t->h, t->m);
        return Status::invalid_argument(std::string(buf) + " is not a valid time of day (hours 0-23, minutes 0-59)");
      }
    a.h = apply_period(a.h, (*g)[3]);
    b.h = apply_period(b.h, (*g)[6]);
    d.ranges.push_back({a, b});
  }
  // Intervals.
  static const std::regex every_zh = re("每(?:隔)?\\s*(" + kNum + "|半)?\\s*(?:个)?\\s*(分钟|小时|钟头)");
  static const std::regex every_en =
      re("\\bevery\\s+(" + kEnNum + "|half an?|half)?\\s*(minutes?|mins?|hours?|hrs?)\\b|\\b(hourly)\\b");
  for (const std::regex* r : {&every_zh, &every_en})
    while (auto g = take(s, *r)) {
      const int secs = g->size() > 3 && !(*g)[3].empty() ? 3600 : duration_seconds((*g)[1], (*g)[2]);
      if (secs < 60 || secs % 60 != 0)
        return Status::invalid_argument("could not understand the interval \"" + trim((*g)[0]) + "\"");
      d.every_minutes = secs / 60;
    }
  // Relative moments: "20分钟后", "in 20 minutes".
  static const std::regex rel_zh = re("(" + kNum + "|半)\\s*(?:个)?\\s*(分钟|小时|钟头)\\s*(?:以后|之后|后)");
  static const std::regex rel_en = re("\\bin\\s+(" + kEnNum + "|half an)\\s+(minutes?|mins?|hours?)\\b");
  for (const std::regex* r : {&rel_zh, &rel_en})
    while (auto g = take(s, *r)) {
      const int secs = duration_seconds((*g)[1], (*g)[2]);
      if (secs <= 0) return Status::invalid_argument("could not understand \"" + trim((*g)[0]) + "\"");
      const int64_t total_min = int64_t(now_.hour) * 60 + now_.minute + secs / 60 + (now_.second > 0 ? 0 : 0);
      HM t{int((total_min / 60) % 24), int(total_min % 60)};
      d.moments.push_back({today_ + total_min / (24 * 60), t});
    }
  // Weekday sets.
  auto set_days = [&](std::vector<int> days) {
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    d.weekdays = days;
  };
  static const std::regex workdays =
      re("(?:每个|每)?工作日|\\b(?:on\\s+|every\\s+)?(?:weekdays|weekday|workdays|workday)\\b");
  static const std::regex weekends = re("(?:每个|每)?(?:周末|双休日)|\\b(?:on\\s+|every\\s+|at\\s+)?weekends?\\b");
  static const std::regex daily =
      re("每天|每日|天天|\\bevery\\s*day\\b|\\bdaily\\b|\\beach "
         "day\\b|\\bevery\\s+(?:morning|evening|night|afternoon)\\b");
  static const std::regex range_days =
      re("(?:每)?(?:周|星期|礼拜)" + kDay + "\\s*(?:到|至|-|~)\\s*(?:周|星期|礼拜)?" + kDay +
         "|\\b(?:from\\s+|every\\s+)?" + kDayEn + "s?\\s+(?:to|through|thru|-)\\s+" + kDayEn + "s?\\b");
  static const std::regex list_zh = re("每(?:个)?(?:周|星期|礼拜)" + kDay +
                                       "((?:\\s*(?:、|和|及|与|跟)\\s*(?:周|星期|礼拜)?(?:一|二|三|四|五|六|日|天))*)");
  static const std::regex list_en = re("\\b(?:every\\s+" + kDayEn + "|on\\s+" + kDayEn + "s|" + kDayEn +
                                       "s)((?:\\s*(?:,|and|,\\s*and)\\s*(?:every\\s+)?(?:monday|tuesday|wednesday|"
                                       "thursday|friday|saturday|sunday)s?)*)");
  if (take(s, workdays)) set_days({0, 1, 2, 3, 4});
  if (take(s, weekends)) set_days({5, 6});
  if (take(s, daily)) d.daily = true;
  while (auto g = take(s, range_days)) {
    int a = !(*g)[1].empty() ? day_index_zh((*g)[1]) : day_index_en((*g)[3]);
    int b = !(*g)[2].empty() ? day_index_zh((*g)[2]) : day_index_en((*g)[4]);
    std::vector<int> days;
    for (int i = a;; i = (i + 1) % 7) {
      days.push_back(i);
      if (i == b || days.size() > 7) break;
    }
    set_days(days);
  }
  while (auto g = take(s, list_zh)) {
    std::vector<int> days = {day_index_zh((*g)[1])};
    static const std::regex one("一|二|三|四|五|六|日|天");
    const std::string more = (*g)[2];
    for (std::sregex_iterator it(more.begin(), more.end(), one), end; it != end; ++it)
      days.push_back(day_index_zh(it->str()));
    set_days(days);
  }
  while (auto g = take(s, list_en)) {
    std::vector<int> days = {day_index_en(!(*g)[1].empty() ? (*g)[1] : !(*g)[2].empty() ? (*g)[2] : (*g)[3])};
    static const std::regex one = re(kDayEn);
    const std::string more = (*g)[4];
    for (std::sregex_iterator it(more.begin(), more.end(), one), end; it != end; ++it)
      days.push_back(day_index_en(it->str()));
    set_days(days);
  }
  // One-off dates.
  static const std::regex dates = re(
      "(大后天|后天|明天|今天|今日|明日|明(?=早|晚)|今(?=晚))|\\b(the day after tomorrow|tomorrow|today|tonight)\\b");
  static const std::regex next_week = re("下(?:个)?(?:周|星期|礼拜)" + kDay + "|\\bnext\\s+" + kDayEn + "\\b");
  static const std::regex this_week = re("(?:这|本)(?:个)?(?:周|星期|礼拜)" + kDay + "|\\bthis\\s+" + kDayEn + "\\b");
  static const std::regex bare_day = re("(?:周|星期|礼拜)" + kDay + "|\\bon\\s+" + kDayEn + "\\b");
  static const std::regex ymd =
      re("\\b([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\\b|([0-9]{4})年\\s*([0-9]{1,2})月\\s*([0-9]{1,2})(?:日|号)|([0-9]{1,"
         "2}|" +
         kCnNum + ")月\\s*([0-9]{1,2}|" + kCnNum + ")(?:日|号)");
  const int today_wd = weekday_index(today_);
  while (auto g = take(s, dates)) {
    const std::string w = lower(!(*g)[1].empty() ? (*g)[1] : (*g)[2]);
    int add = 0;
    if (w == "明天" || w == "明日" || w == "明" || w == "tomorrow")
      add = 1;
    else if (w == "后天" || w == "the day after tomorrow")
      add = 2;
    else if (w == "大后天")
      add = 3;
    d.date = today_ + add;
  }
  while (auto g = take(s, next_week)) {
    const int wd = !(*g)[1].empty() ? day_index_zh((*g)[1]) : day_index_en((*g)[2]);
    d.date = today_ - today_wd + 7 + wd;  // the given day of next calendar week (weeks start on Monday)
  }
  while (auto g = take(s, this_week)) {
    const int wd = !(*g)[1].empty() ? day_index_zh((*g)[1]) : day_index_en((*g)[2]);
    d.date = today_ - today_wd + wd;
  }
  while (auto g = take(s, bare_day)) {
    const int wd = !(*g)[1].empty() ? day_index_zh((*g)[1]) : day_index_en((*g)[2]);
    d.date = today_ + ((wd - today_wd + 7) % 7 == 0 ? 7 : (wd - today_wd + 7) % 7);  // the next such day after today
  }
  while (auto g = take(s, ymd)) {
    int y = now_.year, m, day;
    if (!(*g)[1].empty()) {
      y = std::stoi((*g)[1]);
      m = std::stoi((*g)[2]);
      day = std::stoi((*g)[3]);
    } else if (!(*g)[4].empty()) {
      y = std::stoi((*g)[4]);
      m = std::stoi((*g)[5]);
      day = std::stoi((*g)[6]);
    } else {
      m = parse_number((*g)[7]);
      day = parse_number((*g)[8]);
    }
    const std::string text = format_date(y, m, day);
    int yy, mm, dd;
    const int64_t days = days_from_civil(y, m, day);
    civil_from_days(days, yy, mm, dd);
    if (m < 1 || m > 12 || day < 1 || yy != y || mm != m || dd != day)
      return Status::invalid_argument("\"" + trim((*g)[0]) + "\" is not a valid date");
    // A month/day without a year that has already passed means next year.
    d.date = (*g)[1].empty() && (*g)[4].empty() && days < today_ ? days_from_civil(y + 1, m, day) : days;
  }
  // Times of day.
  static const std::regex time_re = re(kTime);
  static const std::regex at_hour =
      re("\\bat\\s+([0-9]{1,2})(?::([0-9]{2}))?(?:\\s*o'clock)?(\\s+in the morning|\\s+in the afternoon|\\s+in the "
         "evening|\\s+at night|\\s+tonight)?\\b(?!\\s*(?:%|percent|minutes?|hours?))");
  while (auto g = take(s, time_re)) {
    Result<HM> t = time_from(*g, 1, "", pm_hint_);
    if (!t.is_ok()) return t.status();
    d.times.push_back(*t);
  }
  while (auto g = take(s, at_hour)) {
    HM t{std::stoi((*g)[1]), (*g)[2].empty() ? 0 : std::stoi((*g)[2])};
    if (t.h > 23 || t.m > 59) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%d:%02d", t.h, t.m);
      return Status::invalid_argument(std::string(buf) + " is not a valid time of day (hours 0-23, minutes 0-59)");
    }
    std::string period = (*g)[3];
    if (period.empty() && pm_hint_ && t.h < 12) period = "pm";
    t.h = apply_period(t.h, period);
    d.times.push_back(t);
  }
  return Status::ok();
}

Status Parser::conditions(std::string& s, Draft& d) {
  static const std::regex battery =
      re("(?:如果|要是|只要|假如)\\s*(?:手机)?\\s*电量\\s*(低于|少于|小于|不足|高于|大于|超过|多于)\\s*(" + kNum +
         ")\\s*%?(?:的话)?|\\b(?:only\\s+)?if\\s+(?:the\\s+|my\\s+)?battery\\s+(?:level\\s+)?is\\s+(below|under|less "
         "than|lower than|above|over|more than|higher than)\\s+([0-9]+)\\s*%?");
  static const std::regex location =
      re("(?:如果|要是|只要|假如)\\s*(?:我)?\\s*(?:人)?\\s*在\\s*(家|家里|公司|单位|学校)(?:的话)?|\\b(?:only\\s+)?"
         "if\\s+i(?:'m|\\s+am)\\s+(?:at\\s+)?(home|work|the office|school)\\b");
  static const std::regex ringer =
      re("(?:如果|要是|假如)\\s*(?:手机)?\\s*(?:是|处于|在|为)?\\s*(静音|振动|震动|响铃)\\s*(?:模式)?\\s*(?:状态)?(?:"
         "的话)?|\\bif\\s+(?:the\\s+|my\\s+)?(?:phone|ringer)\\s+is\\s+(?:on\\s+|in\\s+|set "
         "to\\s+)?(silent|vibrate|normal)(?:\\s+mode)?\\b");
  static const std::regex toggle =
      re("(?:如果|要是|假如)\\s*(勿扰模式|免打扰|wifi|wi-fi|蓝牙)\\s*(?:是)?\\s*(开着|打开|开启|关着|关闭|关了|开了)(?:"
         "的)?(?:的话)?|\\bif\\s+(do not disturb|wi-?fi|bluetooth)\\s+is\\s+(on|off)\\b");
  static const std::regex charging =
      re("(?:如果|要是|假如)\\s*(?:手机)?\\s*(正在|在|没在|没有在|没有)\\s*充电(?:的话)?|\\bif\\s+(?:the\\s+phone\\s+"
         "is\\s+|it(?:'s|\\s+is)\\s+|i(?:'m|\\s+am)\\s+)?(not\\s+)?charging\\b");
  static const std::regex only_days =
      re("(?:只在|仅在|只有在)\\s*(工作日|周末)|\\bonly\\s+on\\s+(weekdays|weekends)\\b");
  while (auto g = take(s, battery)) {
    const std::string cmp = lower(!(*g)[1].empty() ? (*g)[1] : (*g)[3]);
    const int n = parse_number(!(*g)[2].empty() ? (*g)[2] : (*g)[4]);
    const bool below = cmp == "低于" || cmp == "少于" || cmp == "小于" || cmp == "不足" || cmp == "below" ||
                       cmp == "under" || cmp == "less than" || cmp == "lower than";
    d.conditions.push_back({{"type", "battery"}, {below ? "below" : "above", n}});
  }
  while (auto g = take(s, location))
    d.conditions.push_back({{"type", "location"}, {"place", place_name(!(*g)[1].empty() ? (*g)[1] : (*g)[2])}});
  while (auto g = take(s, ringer)) {
    const std::string m = lower(!(*g)[1].empty() ? (*g)[1] : (*g)[2]);
    const std::string mode = m == "静音" || m == "silent"                   ? "silent"
                             : m == "振动" || m == "震动" || m == "vibrate" ? "vibrate"
                                                                            : "normal";
    d.conditions.push_back({{"type", "state"}, {"key", "ringer_mode"}, {"equals", mode}});
  }
  while (auto g = take(s, toggle)) {
    const std::string what = lower(!(*g)[1].empty() ? (*g)[1] : (*g)[3]);
    const std::string v = lower(!(*g)[2].empty() ? (*g)[2] : (*g)[4]);
    const std::string key = what == "勿扰模式" || what == "免打扰" || what == "do not disturb" ? "do_not_disturb"
                            : what == "蓝牙" || what == "bluetooth"                            ? "bluetooth"
                                                                                               : "wifi";
    const bool on = v == "开着" || v == "打开" || v == "开启" || v == "开了" || v == "on";
    d.conditions.push_back({{"type", "state"}, {"key", key}, {"equals", on ? "on" : "off"}});
  }
  while (auto g = take(s, charging)) {
    const std::string w = lower((*g)[1]);
    const bool not_charging = w == "没在" || w == "没有在" || w == "没有" || !(*g)[2].empty();
    d.conditions.push_back({{"type", "state"}, {"key", "charging"}, {"equals", !not_charging}});
  }
  while (auto g = take(s, only_days)) {
    const std::string w = lower(!(*g)[1].empty() ? (*g)[1] : (*g)[2]);
    d.weekdays = (w == "工作日" || w == "weekdays") ? std::vector<int>{0, 1, 2, 3, 4} : std::vector<int>{5, 6};
  }
  return Status::ok();
}

struct EventPattern {
  const char* event;
  std::regex zh;  // needs a 当/每当/一旦 before it or 时/的时候/后 after it
  std::regex en;  // needs when/whenever/once/as soon as/every time before it
};

Status Parser::events(std::string& s, Draft& d) {
  const std::string zpre = "(当|每当|一旦)?\\s*(?:我)?\\s*(?:的)?\\s*(?:手机)?\\s*";
  const std::string zsuf = "\\s*(的时候|时候|时|之后|以后|后)?";
  const std::string epre =
      "\\b(?:when(?:ever)?|once|as soon as|every time|each "
      "time|after)\\s+(?:i\\s+)?(?:my\\s+phone\\s+|the\\s+phone\\s+)?";
  // Each zh/en pattern: group 1 = zh prefix, last group = zh suffix; inner groups hold the filter.
  static const std::vector<EventPattern> kPatterns = [&] {
    auto z = [&](const std::string& inner) { return re(zpre + "(?:" + inner + ")" + zsuf); };
    auto e = [&](const std::string& inner) { return re(epre + "(?:" + inner + ")"); };
    const std::string name = "(?:" + kQuote + "|([A-Za-z][\\w'-]*))";
    return std::vector<EventPattern>{
        {"headphones.connected",
         z("(?:戴上|插上|连上|连接(?:上)?|接上)(?:了)?(?:蓝牙|有线|无线)?耳机|(?:蓝牙)?耳机(?:已)?(?:连上|连接|插上|"
           "插入)(?:了)?"),
         e("(?:put on|plug "
           "in|connect)\\s+(?:my\\s+)?(?:bluetooth\\s+|wireless\\s+)?(?:headphones|earphones|earbuds)|(?:my\\s+)?(?:"
           "headphones|earphones|earbuds)\\s+(?:are\\s+|get\\s+)?(?:connect(?:ed|s)?|plugged in)")},
        {"headphones.disconnected",
         z("(?:摘下|摘掉|拔掉|拔下|取下|断开)(?:了)?(?:蓝牙|有线|无线)?耳机|(?:蓝牙)?耳机(?:断开|拔出|拔掉|断了)(?:了)?"
           "(?:连接)?"),
         e("(?:take "
           "off|unplug|disconnect)\\s+(?:my\\s+)?(?:headphones|earphones|earbuds)|(?:my\\s+)?(?:headphones|earphones|"
           "earbuds)\\s+(?:are\\s+|get\\s+)?(?:disconnect(?:ed|s)?|unplugged)")},
        {"bluetooth.connected",
         z("(?:连上|连接(?:上)?|接上)(?:了)?(?:(车载)蓝牙|车上的蓝牙|蓝牙(?:设备)?\\s*" + kQuote + "|蓝牙(?:设备)?)"),
         e("(?:connects?|connected)\\s+to\\s+(?:the\\s+|my\\s+)?(?:(car)(?:'s)?\\s+bluetooth|bluetooth(?:\\s+device)?"
           "\\s*" +
           kQuote + "|bluetooth(?:\\s+device)?)|(?:the\\s+|my\\s+)?(car)\\s+bluetooth\\s+connects")},
        {"bluetooth.disconnected",
         z("(?:断开)(?:了)?(?:(车载)蓝牙|车上的蓝牙|蓝牙(?:设备)?\\s*" + kQuote +
           "|蓝牙(?:设备)?)(?:连接)?|(车载)蓝牙断开(?:了)?"),
         e("(?:disconnects?|disconnected)\\s+from\\s+(?:the\\s+|my\\s+)?(?:(car)(?:'s)?\\s+bluetooth|bluetooth(?:\\s+"
           "device)?\\s*" +
           kQuote + "|bluetooth(?:\\s+device)?)|(?:the\\s+|my\\s+)?(car)\\s+bluetooth\\s+disconnects")},
        {"charger.connected",
         z("(?:插上|接上|连上|连接|插入)(?:了)?(?:充电器|充电线|电源)|开始充电|充电器(?:插上|连接|接上)(?:了)?"),
         e("(?:plug "
           "in|connect)\\s+(?:the\\s+|my\\s+)?(?:charger|phone)|(?:the\\s+|my\\s+)?(?:charger|phone)\\s+is\\s+plugged "
           "in|starts?\\s+charging|charging\\s+starts")},
        {"charger.disconnected",
         z("(?:拔掉|拔下|拔出|断开)(?:了)?(?:充电器|充电线|电源)|停止充电|充电器(?:拔掉|断开|拔下)(?:了)?"),
         e("unplug\\s+(?:the\\s+|my\\s+)?(?:charger|phone)|(?:the\\s+|my\\s+)?charger\\s+is\\s+(?:unplugged|"
           "disconnected)|stops?\\s+charging|charging\\s+stops")},
        {"battery.low", z("电量(?:低于|不足|少于|低到|降到)\\s*(" + kNum + ")\\s*%|电量(?:低|不足|过低)(?:了)?"),
         e("(?:the\\s+|my\\s+)?battery\\s+(?:is\\s+|gets\\s+|goes\\s+|drops\\s+|falls\\s+)?(?:below|under)\\s+([0-9]+)"
           "\\s*%|(?:the\\s+|my\\s+)?battery\\s+(?:is\\s+|gets\\s+|runs\\s+)?low")},
        {"location.arrived", z("(?:回到|到达|到了|回|到)\\s*(家|家里|公司|单位|学校|" + kQuote + ")"),
         e("(?:get|arrive|come|am|reach)\\s+(?:back\\s+)?(?:to\\s+|at\\s+)?(?:the\\s+)?(home|work|office|school|" +
           kQuote + ")")},
        {"location.left", z("(?:离开|出了)\\s*(家|家里|公司|单位|学校|" + kQuote + ")|(出门)"),
         e("(?:leave|left)\\s+(?:the\\s+)?(home|work|office|school|" + kQuote + ")")},
        {"wifi.connected",
         z("(?:连上|连接(?:上)?|接入|连到)(?:了)?\\s*(?:" + kQuote +
           "\\s*)?.{0,18}?\\s*(?:wifi|wi-fi|无线网络|无线网)(?:网络)?\\s*(?:" + kQuote + ")?"),
         e("(?:connects?|joins?|connected)\\s+to\\s+(?:the\\s+|my\\s+)?(?:" + kQuote +
           "\\s*)?[a-z ]{0,20}?\\s*(?:wifi|wi-fi)(?:\\s+network)?\\s*(?:" + kQuote + ")?")},
        {"call.missed", z("(?:错过|漏接)(?:了)?(?:(.+?)的)?(?:电话|来电)|有(?:(.+?)的)?未接来电"),
         e("miss\\s+a\\s+call(?:\\s+from\\s+" + name + ")?|there(?:'s|\\s+is)\\s+a\\s+missed\\s+call(?:\\s+from\\s+" +
           name + ")?")},
        {"sms.received", z("收到(?:了)?(?:(.+?)(?:发来)?的)?(?:短信|消息|信息)"),
         e("(?:get|receive|got)\\s+(?:a|an)\\s+(?:text|sms|message|text message)(?:\\s+from\\s+" + name + ")?")},
        {"app.opened", re(zpre + "(?:打开|启动)(?:了)?\\s*(.+?)\\s*(的时候|时)"),
         e("open\\s+(?:the\\s+)?(?:" + kQuote + "|([A-Za-z][\\w'-]*))(?:\\s+app)?")},
    };
  }();
  for (const EventPattern& p : kPatterns) {
    for (int lang = 0; lang < 2; ++lang) {
      const std::regex& r = lang == 0 ? p.zh : p.en;
      std::smatch m;
      std::string scan = s;
      while (std::regex_search(scan, m, r)) {
        Groups g;
        for (size_t i = 0; i < m.size(); ++i) g.push_back(m[i].matched ? m[i].str() : std::string());
        if (lang == 0 && g[1].empty() && g.back().empty()) {  // neither 当 before nor 时 after: not an event
          scan = m.suffix().str();
          continue;
        }
        const size_t pos = s.find(g[0]);
        s = s.substr(0, pos) + " " + s.substr(pos + g[0].size());
        scan = s;
        // Filter values: the inner groups (between the zh prefix and suffix; all of them for en).
        std::vector<std::string> inner;
        for (size_t i = lang == 0 ? 2 : 1; i + (lang == 0 ? 1 : 0) < g.size(); ++i)
          if (!g[i].empty()) inner.push_back(trim(g[i]));
        json t = {{"type", "event"}, {"event", p.event}};
        json filter = json::object();
        const std::string ev = p.event;
        const std::string first = inner.empty() ? "" : inner[0];
        if (ev == "bluetooth.connected" || ev == "bluetooth.disconnected") {
          if (!first.empty()) filter["device"] = (first == "车载" || lower(first) == "car") ? "car" : first;
        } else if (ev == "battery.low") {
          if (!first.empty()) filter["below"] = parse_number(first);
        } else if (ev == "location.arrived" || ev == "location.left") {
          filter["place"] = first == "出门" || first.empty() ? "home" : place_name(first);
        } else if (ev == "wifi.connected") {
          if (!first.empty()) filter["ssid"] = first;
        } else if (ev == "call.missed" || ev == "sms.received") {
          if (!first.empty()) filter["from"] = first;
        } else if (ev == "app.opened") {
          filter["app"] = first;
        }
        if (!filter.empty()) t["filter"] = filter;
        d.events.push_back(t);
      }
    }
  }
  return Status::ok();
}

Result<Action> Parser::action_of(const std::string& phrase) {
  const std::string& p = phrase;
  static const std::regex news =
      re("(?:播报|播放|读|念|讲)(?:一下)?(?:今天的|今日)?(?:新闻|早报|资讯)(?:简报)?|\\b(?:read|tell|give)\\s+(?:me\\s+"
         ")?(?:the\\s+)?(?:latest\\s+)?news");
  static const std::regex fav =
      re("(?:播放|放|听)(?:我)?(?:收藏|喜欢)的(?:歌曲|歌|音乐)|(?:播放|放)(?:我的)?收藏(?:歌单|列表)?|\\bplay\\s+(?:"
         "my\\s+)?(?:favou?rites?|favou?rite\\s+(?:songs|music|playlist))");
  static const std::regex playlist =
      re("(?:播放|放)(?:歌单|播放列表)\\s*" + kQuote + "|\\bplay\\s+(?:the\\s+|my\\s+)?playlist\\s+" + kQuote +
         "|\\bplay\\s+(?:the\\s+|my\\s+)?" + kQuote + "\\s+playlist");
  static const std::regex query =
      re("(?:播放|放|听)\\s*(?:一首|一些|点)?\\s*(.+?)的(?:歌曲|歌|音乐)|(?:播放|放)\\s*" + kQuote +
         "|\\bplay\\s+(?:some\\s+)?(?:songs\\s+by\\s+|music\\s+by\\s+)(.+)|\\bplay\\s+" + kQuote);
  static const std::regex music =
      re("(?:播放|放|听)(?:点|一些|一首)?\\s*(?:音乐|歌曲|歌)|\\bplay\\s+(?:some\\s+)?music");
  static const std::regex pause =
      re("(?:暂停|停止)(?:播放)?(?:音乐|媒体|视频|歌曲)?(?:播放)?|\\b(?:pause|stop)\\s+(?:the\\s+)?(?:music|media|"
         "playback|song)|\\bpause\\b");
  static const std::regex ringer =
      re("(?:把)?\\s*(?:手机|铃声)?\\s*(?:设为|设置为|设置成|设成|调成|调为|调到|切换到|切换成|切换为|切到|改成|改为|"
         "转为|开启|打开|变成)?\\s*(静音|振动|震动|响铃|正常)\\s*(?:模式)?|\\b(?:switch|set|put|turn)\\s+(?:my\\s+|"
         "the\\s+)?(?:phone|ringer)\\s+(?:to\\s+|on\\s+|in\\s+)?(silent|vibrate|normal)(?:\\s+mode)?|\\b(silence)\\s+(?"
         ":my\\s+|the\\s+)?phone|\\bturn\\s+on\\s+(silent|vibrate)\\s+mode");
  static const std::regex volume =
      re("(?:把)?\\s*(媒体|音乐|铃声|闹钟)?\\s*音量\\s*(?:调到|调成|调为|设为|设置为|设成|改成|改为|调至)\\s*(" + kNum +
         ")\\s*%?|\\bset\\s+(?:the\\s+)?(media|music|ring|ringer|alarm)?\\s*volume\\s+to\\s+([0-9]+)\\s*%?");
  static const std::string setting =
      "(wifi|wi-fi|无线网络|无线网|蓝牙|勿扰模式|免打扰模式|免打扰|勿扰|飞行模式|移动数据|数据流量|流量|手电筒|闪光灯)";
  static const std::string setting_en =
      "(wi-?fi|bluetooth|do not disturb|airplane mode|flight mode|mobile data|cellular data|the flashlight|flashlight)";
  static const std::regex toggle =
      re("(打开|开启|开|关闭|关掉|关上|关)\\s*(?:一下)?\\s*(?:手机的)?" + setting + "|(?:把)?\\s*" + setting +
         "\\s*(打开|开启|关闭|关掉|关上)|\\bturn\\s+(on|off)\\s+(?:the\\s+)?" + setting_en +
         "|\\bturn\\s+(?:the\\s+)?" + setting_en + "\\s+(on|off)|\\b(enable|disable)\\s+" + setting_en);
  static const std::regex brightness =
      re("(?:把)?\\s*(?:屏幕)?亮度\\s*(?:调到|调成|调为|设为|设置为|设成|改成|调至)\\s*(" + kNum +
         ")\\s*%?|\\bset\\s+(?:the\\s+)?(?:screen\\s+)?brightness\\s+to\\s+([0-9]+)\\s*%?");
  static const std::regex call =
      re("(?:给)\\s*(.+?)\\s*打(?:个|一个)?电话|(?:打电话给|呼叫|拨打)\\s*(.+?)(?:的电话)?|\\bcall\\s+(.+)");
  static const std::regex notify =
      re("(?:提醒我|通知我|提示我)\\s*(?:(?:要|该)\\s*)?(.+)|(?:发|显示|弹出)(?:一条|一个|个|条)?通知\\s*:?\\s*(.+)|"
         "\\bremind\\s+me\\s+(?:to\\s+|that\\s+|about\\s+)?(.+)|\\b(?:notify\\s+me|show\\s+(?:a\\s+)?notification)\\s*("
         "?::|that|saying)?\\s*(.+)");
  static const std::regex open_app =
      re("(?:打开|启动|开启)\\s*(.+?)\\s*(?:应用|app)?|\\b(?:open|launch|start)\\s+(?:the\\s+)?(.+?)(?:\\s+app)?");

  auto first_of = [](const Groups& g) {
    for (size_t i = 1; i < g.size(); ++i)
      if (!g[i].empty()) return trim(g[i]);
    return std::string();
  };
  if (auto g = full(p, weather_regex())) return weather_action(*g);
  if (full(p, news)) return Action{"news.read", json::object()};
  if (full(p, fav)) return Action{"music.play", {{"playlist", "favorites"}}};
  if (auto g = full(p, playlist)) return Action{"music.play", {{"playlist", first_of(*g)}}};
  if (full(p, music)) return Action{"music.play", json::object()};
  if (auto g = full(p, query)) return Action{"music.play", {{"query", first_of(*g)}}};
  if (full(p, pause)) return Action{"media.pause", json::object()};
  if (auto g = full(p, volume)) {
    const std::string st = lower(!(*g)[1].empty() ? (*g)[1] : (*g)[3]);
    const std::string stream = st == "铃声" || st == "ring" || st == "ringer" ? "ring"
                               : st == "闹钟" || st == "alarm"                ? "alarm"
                                                                              : "media";
    return Action{"phone.set_volume",
                  {{"stream", stream}, {"level", parse_number(!(*g)[2].empty() ? (*g)[2] : (*g)[4])}}};
  }
  if (auto g = full(p, brightness))
    return Action{"settings.set", {{"setting", "brightness"}, {"value", parse_number(first_of(*g))}}};
  if (auto g = full(p, ringer)) {
    const std::string m = lower(first_of(*g));
    const std::string mode = m == "静音" || m == "silent" || m == "silence" ? "silent"
                             : m == "振动" || m == "震动" || m == "vibrate" ? "vibrate"
                                                                            : "normal";
    return Action{"phone.set_ringer_mode", {{"mode", mode}}};
  }
  if (auto g = full(p, toggle)) {
    std::string verb, what;
    const Groups& x = *g;
    if (!x[1].empty()) {
      verb = x[1];
      what = x[2];
    } else if (!x[3].empty()) {
      what = x[3];
      verb = x[4];
    } else if (!x[5].empty()) {
      verb = x[5];
      what = x[6];
    } else if (!x[7].empty()) {
      what = x[7];
      verb = x[8];
    } else {
      verb = x[9];
      what = x[10];
    }
    verb = lower(verb);
    what = lower(what);
    const bool on = verb == "打开" || verb == "开启" || verb == "开" || verb == "on" || verb == "enable";
    std::string key = "wifi";
    if (what == "蓝牙" || what == "bluetooth")
      key = "bluetooth";
    else if (what.find("勿扰") != std::string::npos || what.find("免打扰") != std::string::npos ||
             what == "do not disturb")
      key = "do_not_disturb";
    else if (what == "飞行模式" || what == "airplane mode" || what == "flight mode")
      key = "airplane_mode";
    else if (what == "移动数据" || what == "数据流量" || what == "流量" || what == "mobile data" ||
             what == "cellular data")
      key = "mobile_data";
    else if (what == "手电筒" || what == "闪光灯" || what.find("flashlight") != std::string::npos)
      key = "flashlight";
    return Action{"settings.set", {{"setting", key}, {"value", on ? "on" : "off"}}};
  }
  if (auto g = full(p, notify)) return Action{"notification.show", {{"text", first_of(*g)}}};
  if (auto g = full(p, call)) return Action{"phone.call", {{"contact", first_of(*g)}}};
  if (auto g = full(p, open_app)) {
    const std::string app = first_of(*g);
    if (!app.empty()) return Action{"app.open", {{"app", app}}};
  }
  return Status::invalid_argument("could not understand: \"" + utf8_prefix(p, 80) + "\" (no known action matches it)");
}

Status Parser::plain_actions(const std::string& rest, Draft& d) {
  static const std::regex mark("\x01([0-9]+)\x01");
  size_t last = 0;
  for (std::sregex_iterator it(rest.begin(), rest.end(), mark), end; it != end; ++it) {
    PM_RETURN_IF_ERROR(plain_text_actions(rest.substr(last, size_t(it->position(0)) - last), d));
    d.actions.push_back(early_[std::stoul((*it)[1].str())]);
    last = size_t(it->position(0) + it->length(0));
  }
  return plain_text_actions(rest.substr(last), d);
}

Status Parser::plain_text_actions(const std::string& rest, Draft& d) {
  static const std::regex sep = re("并且|并|然后|接着|同时|再|\\s+and\\s+|\\s+then\\s+|&|;|、");
  const std::string cleaned = strip_fillers(trim(rest));
  if (cleaned.empty()) return Status::ok();
  // The pieces between 并/然后/and/then first; when one of them is not an action, the whole text
  // as one action (a message may contain "and": "remind me to buy milk and eggs").
  std::vector<Action> pieces;
  Status first_error = Status::ok();
  for (const std::string& piece : split(cleaned, sep)) {
    const std::string phrase = strip_fillers(piece);
    if (phrase.empty()) continue;
    Result<Action> a = action_of(phrase);
    if (!a.is_ok()) {
      first_error = a.status();
      break;
    }
    pieces.push_back(*a);
  }
  if (first_error.is_ok()) {
    d.actions.insert(d.actions.end(), pieces.begin(), pieces.end());
    return Status::ok();
  }
  if (Result<Action> whole = action_of(cleaned); whole.is_ok()) {
    d.actions.push_back(*whole);
    return Status::ok();
  }
  return first_error;
}

Result<std::vector<Rule>> Parser::build(Draft& d) {
  std::string source;
  for (const std::string& s : d.source) source += (source.empty() ? "" : (is_chinese_text(s) ? "，" : ", ")) + s;
  Rule r;
  r.name = utf8_prefix(trim(source), 60);
  std::vector<std::string> days;
  if (d.weekdays)
    for (int i : *d.weekdays) days.push_back(kDayNames[size_t(i)]);
  bool days_used = false;
  if (d.every_minutes) {
    json t = {{"type", "interval"}, {"every_minutes", *d.every_minutes}};
    if (!d.ranges.empty()) {
      t["between"] = {d.ranges[0].first.text(), d.ranges[0].second.text()};
      d.ranges.erase(d.ranges.begin());
    }
    r.triggers.push_back(t);
  }
  for (const HM& tm : d.times) {
    json t = {{"type", "time"}, {"at", tm.text()}};
    if (d.date) {
      t["date"] = date_of(*d.date);
    } else if (d.weekdays && !d.daily) {
      t["weekdays"] = days;
      days_used = true;
    } else if (!d.daily) {
      // No date and no repetition: the next time this clock time comes round.
      const int now_min = now_.hour * 60 + now_.minute;
      t["date"] = date_of(today_ + (tm.h * 60 + tm.m > now_min ? 0 : 1));
    }
    r.triggers.push_back(t);
  }
  for (const auto& [day, tm] : d.moments)
    r.triggers.push_back({{"type", "time"}, {"at", tm.text()}, {"date", date_of(day)}});
  for (const json& e : d.events) r.triggers.push_back(e);
  for (const auto& [a, b] : d.ranges) {
    json c = {{"type", "time_between"}, {"after", a.text()}, {"before", b.text()}};
    if (d.weekdays && !days_used) {
      c["weekdays"] = days;
      days_used = true;
    }
    r.conditions.push_back(c);
  }
  if (d.weekdays && !days_used) {
    if (r.triggers.empty())
      return Status::invalid_argument("could not understand at what time of day: \"" + r.name +
                                      "\" (add a time such as 早上7点 / 7am)");
    r.conditions.push_back({{"type", "time_between"}, {"after", "00:00"}, {"before", "23:59"}, {"weekdays", days}});
  }
  if (d.date && d.times.empty())
    return Status::invalid_argument("could not understand at what time of day: \"" + r.name +
                                    "\" (add a time such as 下午3点 / 3pm)");
  for (json& c : d.conditions) r.conditions.push_back(c);
  r.actions = d.actions;
  if (r.triggers.empty() && r.actions.empty())
    return Status::invalid_argument("could not understand: \"" + r.name + "\"");
  if (r.triggers.empty())
    return Status::invalid_argument("could not understand when to do this: \"" + r.name +
                                    "\" (give a time, an interval or an event)");
  if (r.actions.empty()) return Status::invalid_argument("could not understand what to do: \"" + r.name + "\"");
  return std::vector<Rule>{r};
}

}  // namespace

std::string format_date(int year, int month, int day) {
  char b[16];
  std::snprintf(b, sizeof b, "%04d-%02d-%02d", year, month, day);
  return b;
}

Result<int> parse_utc_offset(std::string_view text) {
  const std::string t(text);
  if (t == "Z" || t == "UTC" || t == "utc" || t == "GMT") return 0;
  static const std::regex r("^(?:UTC|GMT)?([+-])([0-9]{1,2})(?::?([0-9]{2}))?$");
  std::smatch m;
  if (!std::regex_match(t, m, r))
    return Status::invalid_argument("\"" + t + "\" is not a UTC offset (expected +08:00, -05:00 or UTC)");
  const int h = std::stoi(m[2]), mi = m[3].matched ? std::stoi(m[3]) : 0;
  if (h > 14 || mi > 59) return Status::invalid_argument("\"" + t + "\" is not a UTC offset (hours 0-14)");
  return (m[1] == "-" ? -1 : 1) * (h * 60 + mi);
}

Result<LocalTime> parse_iso_local_time(std::string_view text) {
  const std::string t(text);
  static const std::regex r(
      "^([0-9]{4})-([0-9]{2})-([0-9]{2})[T "
      "]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$");
  std::smatch m;
  if (!std::regex_match(t, m, r))
    return Status::invalid_argument("\"" + t + "\" is not an ISO 8601 time (expected e.g. 2026-11-24T09:00:00+08:00)");
  LocalTime lt;
  lt.year = std::stoi(m[1]);
  lt.month = std::stoi(m[2]);
  lt.day = std::stoi(m[3]);
  lt.hour = std::stoi(m[4]);
  lt.minute = std::stoi(m[5]);
  lt.second = m[6].matched ? std::stoi(m[6]) : 0;
  int y, mo, d;
  civil_from_days(days_from_civil(lt.year, lt.month, lt.day), y, mo, d);
  if (lt.month < 1 || lt.month > 12 || lt.day < 1 || y != lt.year || mo != lt.month || d != lt.day || lt.hour > 23 ||
      lt.minute > 59 || lt.second > 60)
    return Status::invalid_argument("\"" + t + "\" is not a valid date and time");
  if (m[7].matched) {
    Result<int> off = parse_utc_offset(m[7].str());
    if (!off.is_ok()) return off.status();
    lt.utc_offset_minutes = *off;
  }
  return lt;
}

LocalTime to_offset(const LocalTime& t, int utc_offset_minutes) {
  const int64_t minutes = days_from_civil(t.year, t.month, t.day) * 1440 + t.hour * 60 + t.minute -
                          t.utc_offset_minutes + utc_offset_minutes;
  LocalTime out = t;
  int64_t days = minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440);
  const int64_t rem = minutes - days * 1440;
  civil_from_days(days, out.year, out.month, out.day);
  out.hour = int(rem / 60);
  out.minute = int(rem % 60);
  out.utc_offset_minutes = utc_offset_minutes;
  return out;
}

Result<ParsedRequest> parse_request(std::string_view text, const LocalTime& now, const ToolRegistry& registry) {
  Parser p(now, registry);
  return p.parse(text);
}

}  // namespace pm::automation
