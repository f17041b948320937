// Small pieces of text understanding shared by the assistant features (no model needed):
// language detection, sentence splitting, and pulling dates/times and phone numbers out of text
// (Chinese and English).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pm::assistant {

// True when `text` holds a CJK ideograph (the reply then follows in Chinese).
bool has_cjk(std::string_view text);

// Sentences of `text`, split after 。！？；!?; and newlines, and after '.' followed by a space
// or the end (not inside "3.5", not after an abbreviation such as "Dr."). Pieces are trimmed;
// empty ones dropped.
std::vector<std::string> split_sentences(std::string_view text);

// Date and time phrases as written: "9:40pm", "18:00", "11月21日", "下午3点", "下周三上午九点",
// "next Tuesday afternoon", "2026-11-08", "tomorrow", "明天". In order of appearance, no duplicates.
std::vector<std::string> find_time_phrases(std::string_view text);

// Phone numbers as written: "+86 138 0000 1111", "138-0000-1111", "010-64005555", "13800001111"
// (7 or more digits, optionally grouped by spaces or dashes, optionally starting with +).
std::vector<std::string> find_phone_numbers(std::string_view text);

// A match of a UTF-8 regular expression (PCRE2 syntax): byte offsets and the capture
// groups' text (group 0 = the whole match; "" for a group that did not take part).
struct RegexMatch {
  size_t begin = 0, end = 0;
  std::vector<std::string> groups;
};
// Every non-overlapping match, left to right; none when the pattern does not compile.
std::vector<RegexMatch> regex_find_all(const std::string& pattern, std::string_view text, bool caseless = true);

// True when the word that ends `before` (the text before a '.') is an abbreviation: Mr Mrs Ms Dr
// Prof St vs etc ..., or a single letter (initials "J.", the last letter of "e.g." / "p.m.").
bool ends_with_abbreviation(std::string_view before);

// Trims ASCII whitespace and ideographic spaces from both ends.
std::string trim(std::string_view s);

}  // namespace pm::assistant
