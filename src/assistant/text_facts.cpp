#include "assistant/text_facts.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <memory>

namespace pm::assistant {
namespace {

// A compiled UTF-8 pattern (compiled once, shared read-only; matching uses its own match data).
class Pattern {
 public:
  explicit Pattern(const char* pattern, bool caseless = true) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP | (caseless ? PCRE2_CASELESS : 0u), &err, &offset, nullptr);
  }
  ~Pattern() { pcre2_code_free(code_); }
  Pattern(const Pattern&) = delete;
  Pattern& operator=(const Pattern&) = delete;

  // Every non-overlapping match, left to right.
  std::vector<std::string> find_all(std::string_view text) const {
    std::vector<std::string> out;
    for (RegexMatch& m : matches(text)) out.push_back(std::move(m.groups[0]));
    return out;
  }

  std::vector<RegexMatch> matches(std::string_view text) const {
    std::vector<RegexMatch> out;
    if (!code_) return out;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_, nullptr);
    size_t at = 0;
    while (at <= text.size()) {
      const int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), at, 0, md, nullptr);
      if (rc < 0) break;
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      if (ov[1] == ov[0]) {  // empty match: step one byte forward to a character boundary
        at = ov[1] + 1;
        while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
        continue;
      }
      RegexMatch m;
      m.begin = ov[0];
      m.end = ov[1];
      for (int g = 0; g < rc; ++g)
        m.groups.emplace_back(ov[2 * g] == PCRE2_UNSET ? std::string_view()
                                                       : text.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g]));
      const size_t n_groups = pcre2_get_ovector_count(md);
      while (m.groups.size() < n_groups) m.groups.emplace_back();
      out.push_back(std::move(m));
      at = ov[1];
    }
    pcre2_match_data_free(md);
    return out;
  }

 private:
  pcre2_code* code_ = nullptr;
};

constexpr const char* kCnNum = "[0-9０-９零〇一二两三四五六七八九十]";
constexpr const char* kWeekday =
    "(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)";
constexpr const char* kMonth =
    "(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|"
    "aug|sep|sept|oct|nov|dec)";

std::string time_pattern() {
  const std::string n = kCnNum;
  const std::string wd = kWeekday;
  const std::string mo = kMonth;
  std::string zh_day = "(?:(?:" + n + "{2,4}年)?" + n + "{1,2}月" + n + "{1,3}[日号]|" + n +
                       "{1,3}号|(?:下下|下|上|这|本)?(?:周|星期|礼拜)[一二三四五六日天末]|"
                       "今天|明天|后天|大后天|昨天|前天|今晚|明晚|明早|周末|月底|月初|下个?月|下周|这周|本周|" +
                       n + "+天(?:后|以后|之后|内))";
  std::string zh_time = "(?:(?:凌晨|早上|上午|中午|下午|傍晚|晚上|夜里)?" + n + "{1,3}(?:点|:|：)(?:半|一刻|" + n +
                        "{1,2}分?)?|(?:凌晨|早上|上午|中午|下午|傍晚|晚上))";
  std::string en_day = "(?:\\b(?:next|this|last|coming)\\s+(?:" + wd + "|week|weekend|month)\\b|\\b(?:on\\s+)?" + wd +
                       "\\b|\\btoday\\b|\\btonight\\b|\\btomorrow\\b|\\byesterday\\b|\\b" + mo +
                       "\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?\\b|\\b\\d{1,2}\\s+" + mo +
                       "\\b|\\b\\d{4}-\\d{2}-\\d{2}\\b|\\b\\d{1,2}/\\d{1,2}\\b)";
  std::string en_time =
      "(?:\\b\\d{1,2}(?::\\d{2})?\\s*(?:am|pm|a\\.m\\.|p\\.m\\.)|\\b\\d{1,2}:\\d{2}\\b|\\b(?:in "
      "the\\s+)?(?:morning|afternoon|evening|noon)\\b)";
  // A day phrase optionally followed by a time phrase (and the other way round), as one phrase.
  // English first: "9:40pm" is an English time, not the Chinese "9:40" followed by "pm".
  return "(?:" + en_time + "(?:\\s+(?:on\\s+)?" + en_day + ")?|" + en_day + "(?:\\s+(?:at\\s+)?" + en_time + ")?|" +
         zh_day + "\\s*" + zh_time + "?|" + zh_time + ")";
}

void push_unique(std::vector<std::string>& v, std::string s) {
  s = trim(s);
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(std::move(s));
}

}  // namespace

std::string trim(std::string_view s) {
  auto strip_front = [&]() {
    while (!s.empty()) {
      if (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')
        s.remove_prefix(1);
      else if (s.substr(0, 3) == "\xE3\x80\x80")
        s.remove_prefix(3);  // U+3000
      else
        break;
    }
  };
  auto strip_back = [&]() {
    while (!s.empty()) {
      if (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')
        s.remove_suffix(1);
      else if (s.size() >= 3 && s.substr(s.size() - 3) == "\xE3\x80\x80")
        s.remove_suffix(3);
      else
        break;
    }
  };
  strip_front();
  strip_back();
  return std::string(s);
}

bool has_cjk(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0xE3 && c <= 0xE9 && i + 2 < text.size()) {
      // U+3400..U+9FFF are E3 90 80 .. E9 BF BF; E3 80..8F are punctuation (not ideographs).
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      if (c == 0xE3 && c1 < 0x90) continue;
      return true;
    }
  }
  return false;
}

bool ends_with_abbreviation(std::string_view before) {
  size_t b = before.size();
  while (b > 0 && ((before[b - 1] >= 'a' && before[b - 1] <= 'z') || (before[b - 1] >= 'A' && before[b - 1] <= 'Z')))
    --b;
  std::string w(before.substr(b));
  for (char& c : w) c = char(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (w.empty()) return false;
  if (w.size() == 1) return true;
  static const std::vector<std::string> kAbbrev = {
      "mr",  "mrs", "ms",  "dr",  "prof", "sr",  "jr",  "st",   "vs",  "etc", "inc", "ltd", "co", "no",    "jan",
      "feb", "mar", "apr", "jun", "jul",  "aug", "sep", "sept", "oct", "nov", "dec", "mt",  "ft", "approx"};
  return std::find(kAbbrev.begin(), kAbbrev.end(), w) != kAbbrev.end();
}

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    std::string t = trim(cur);
    if (!t.empty()) out.push_back(std::move(t));
    cur.clear();
  };
  for (size_t i = 0; i < text.size();) {
    const std::string_view rest = text.substr(i);
    bool end = false;
    size_t len = 1;
    for (std::string_view p : {"。", "！", "？", "；", "…"}) {
      if (rest.substr(0, p.size()) == p) {
        end = true;
        len = p.size();
        break;
      }
    }
    const char c = text[i];
    if (!end && (c == '!' || c == '?' || c == ';' || c == '\n')) end = true;
    if (!end && c == '.' && (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n') &&
        !(i > 0 && text[i - 1] == '.') && !ends_with_abbreviation(text.substr(0, i)))
      end = true;
    cur.append(text.substr(i, len));
    i += len;
    if (end) {
      // Keep closing quotes / brackets with the sentence they close.
      while (i < text.size()) {
        const std::string_view r = text.substr(i);
        size_t q = 0;
        for (std::string_view p : {"”", "’", "」", "』", "）", "\"", "'", ")"})
          if (r.substr(0, p.size()) == p) q = p.size();
        if (!q) break;
        cur.append(r.substr(0, q));
        i += q;
      }
      flush();
    }
  }
  flush();
  return out;
}

std::vector<std::string> find_time_phrases(std::string_view text) {
  static const Pattern pattern(time_pattern().c_str());
  std::vector<std::string> out;
  for (std::string& m : pattern.find_all(text)) push_unique(out, std::move(m));
  return out;
}

std::vector<RegexMatch> regex_find_all(const std::string& pattern, std::string_view text, bool caseless) {
  const Pattern p(pattern.c_str(), caseless);
  return p.matches(text);
}

std::vector<std::string> find_phone_numbers(std::string_view text) {
  static const Pattern pattern("(?<![0-9A-Za-z])\\+?\\d(?:[ \\-]?\\d){6,14}(?![0-9A-Za-z])");
  std::vector<std::string> out;
  for (std::string& m : pattern.find_all(text)) {
    size_t digits = 0;
    for (char c : m) digits += (c >= '0' && c <= '9');
    // Not a phone number: an ISO date (2026-11-08) or a run that is too short.
    if (digits < 7) continue;
    if (m.size() == 10 && m[4] == '-' && m[7] == '-') continue;
    push_unique(out, std::move(m));
  }
  return out;
}

}  // namespace pm::assistant
