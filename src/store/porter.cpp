#include "store/porter.h"

namespace pm::store {
namespace {

// The word being stemmed; `k` is one past its last letter. Helpers talk in the paper's terms:
// a word is [C](VC)^m[V], m is its "measure".
class Stemmer {
 public:
  explicit Stemmer(std::string w) : b_(std::move(w)) {}

  std::string run() {
    step1a();
    step1b();
    step1c();
    step2();
    step3();
    step4();
    step5();
    return b_;
  }

 private:
  std::string b_;

  bool consonant(size_t i) const {
    switch (b_[i]) {
      case 'a':
      case 'e':
      case 'i':
      case 'o':
      case 'u':
        return false;
      case 'y':
        return i == 0 || !consonant(i - 1);
      default:
        return true;
    }
  }
  // m of the first `len` letters.
  int measure(size_t len) const {
    int m = 0;
    size_t i = 0;
    while (i < len && consonant(i)) ++i;  // optional leading C
    while (i < len) {
      while (i < len && !consonant(i)) ++i;  // V
      if (i >= len) break;
      while (i < len && consonant(i)) ++i;  // C
      ++m;
    }
    return m;
  }
  bool has_vowel(size_t len) const {
    for (size_t i = 0; i < len; ++i)
      if (!consonant(i)) return true;
    return false;
  }
  bool double_consonant(size_t len) const { return len >= 2 && b_[len - 1] == b_[len - 2] && consonant(len - 1); }
  // *o: the stem ends consonant-vowel-consonant and the last consonant is not w, x or y.
  bool cvc(size_t len) const {
    if (len < 3 || !consonant(len - 1) || consonant(len - 2) || !consonant(len - 3)) return false;
    const char c = b_[len - 1];
    return c != 'w' && c != 'x' && c != 'y';
  }
  bool ends(std::string_view s) const {
    return b_.size() >= s.size() && b_.compare(b_.size() - s.size(), s.size(), s) == 0;
  }
  size_t stem_len(std::string_view suffix) const { return b_.size() - suffix.size(); }
  void replace(std::string_view suffix, std::string_view with) {
    b_.resize(stem_len(suffix));
    b_ += with;
  }

  struct Rule {
    std::string_view suffix, with;
  };
  // Applies the first rule whose suffix matches, when the stem before it has m > min_m.
  // Only the longest matching suffix counts, so a matching rule ends the step either way.
  void apply_first(std::initializer_list<Rule> rules, int min_m) {
    for (const Rule& r : rules) {
      if (!ends(r.suffix)) continue;
      if (measure(stem_len(r.suffix)) > min_m) replace(r.suffix, r.with);
      return;
    }
  }

  void step1a() {
    if (ends("sses"))
      replace("sses", "ss");
    else if (ends("ies"))
      replace("ies", "i");
    else if (ends("ss"))
      return;
    else if (ends("s"))
      replace("s", "");
  }

  void step1b() {
    if (ends("eed")) {
      if (measure(stem_len("eed")) > 0) replace("eed", "ee");
      return;
    }
    bool removed = false;
    if (ends("ed") && has_vowel(stem_len("ed")))
      replace("ed", ""), removed = true;
    else if (ends("ing") && has_vowel(stem_len("ing")))
      replace("ing", ""), removed = true;
    if (!removed) return;
    if (ends("at") || ends("bl") || ends("iz")) {
      b_ += 'e';
    } else if (double_consonant(b_.size())) {
      const char c = b_.back();
      if (c != 'l' && c != 's' && c != 'z') b_.pop_back();
    } else if (measure(b_.size()) == 1 && cvc(b_.size())) {
      b_ += 'e';
    }
  }

  void step1c() {
    if (ends("y") && has_vowel(stem_len("y"))) b_.back() = 'i';
  }

  void step2() {
    apply_first({{"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"}, {"anci", "ance"}, {"izer", "ize"},
                 {"bli", "ble"},     {"alli", "al"},     {"entli", "ent"}, {"eli", "e"},     {"ousli", "ous"},
                 {"ization", "ize"}, {"ation", "ate"},   {"ator", "ate"},  {"alism", "al"},  {"iveness", "ive"},
                 {"fulness", "ful"}, {"ousness", "ous"}, {"aliti", "al"},  {"iviti", "ive"}, {"biliti", "ble"},
                 {"logi", "log"}},
                0);
  }

  void step3() {
    apply_first(
        {{"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"}, {"ical", "ic"}, {"ful", ""}, {"ness", ""}},
        0);
  }

  void step4() {
    // "ion" only after s or t; longer suffixes first where they share an ending.
    static constexpr std::string_view kSuffixes[] = {"al",  "ance",  "ence", "er",  "ic",  "able", "ible",
                                                     "ant", "ement", "ment", "ent", "ion", "ou",   "ism",
                                                     "ate", "iti",   "ous",  "ive", "ize"};
    std::string_view match;
    for (std::string_view s : kSuffixes)
      if (ends(s) && s.size() > match.size()) match = s;
    if (match.empty()) return;
    const size_t len = stem_len(match);
    if (match == "ion" && (len == 0 || (b_[len - 1] != 's' && b_[len - 1] != 't'))) return;
    if (measure(len) > 1) b_.resize(len);
  }

  void step5() {
    if (ends("e")) {
      const size_t len = stem_len("e");
      const int m = measure(len);
      if (m > 1 || (m == 1 && !cvc(len))) b_.pop_back();
    }
    if (ends("ll") && measure(b_.size()) > 1) b_.pop_back();
  }
};

}  // namespace

std::string porter_stem(std::string_view word) {
  if (word.size() <= 2) return std::string(word);
  for (char c : word)
    if (c < 'a' || c > 'z') return std::string(word);
  return Stemmer(std::string(word)).run();
}

}  // namespace pm::store
