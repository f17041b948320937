#include "store/text_analyzer.h"

#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include <unordered_set>

#include "store/porter.h"
#include "store/utf8.h"

namespace pm::store {
namespace {

bool is_cjk(char32_t cp) {
  if (cp < 0x2E80) return false;
  UErrorCode err = U_ZERO_ERROR;
  const UScriptCode sc = uscript_getScript(UChar32(cp), &err);
  return sc == USCRIPT_HAN || sc == USCRIPT_HIRAGANA || sc == USCRIPT_KATAKANA || sc == USCRIPT_HANGUL ||
         sc == USCRIPT_BOPOMOFO;
}

// Words a query may contain that say nothing about the records sought.
const std::unordered_set<std::string>& stopwords() {
  static const std::unordered_set<std::string> kWords = {
      // English (after case folding; matched before stemming)
      "a", "an", "the", "is", "are", "was", "were", "be", "been", "am", "to", "of", "in", "on", "at", "for", "and",
      "or", "but", "what", "whats", "when", "where", "who", "whom", "which", "why", "how", "did", "do", "does", "done",
      "me", "my", "mine", "i", "you", "your", "it", "its", "that", "this", "these", "those", "with", "about", "any",
      "some", "have", "has", "had", "show", "find", "tell", "get", "give", "list", "all", "there", "by", "from", "as",
      "into", "than", "then", "so", "if", "can", "could", "would", "should", "will", "we", "our", "us", "they", "them",
      "their", "he", "she", "his", "her", "him", "please", "say", "said", "says", "s", "t", "up", "out", "one", "again",
      // Chinese function words and question words
      "的", "了", "是", "在", "我", "你", "他", "她", "它", "和", "与", "跟", "吗", "呢", "吧", "啊", "呀", "么", "嘛",
      "有", "给", "说", "发", "把", "被", "都", "也", "就", "还", "要", "会", "个", "去", "来", "过", "哪", "几", "谁",
      "啥", "这", "那", "上", "下", "着", "对", "从", "到", "让", "并", "或", "地", "得", "之", "什么", "哪里", "哪儿",
      "时候", "什么时候", "怎么", "怎样", "多少", "一下", "那个", "这个", "那些", "这些", "关于", "我们", "你们",
      "他们", "她们", "提到", "说过", "有没有", "是不是", "哪个", "哪些", "几点", "一个", "所有", "全部", "查找",
      "搜索", "找", "帮我", "请", "的话", "还有", "以及", "或者", "可以", "需要"};
  return kWords;
}

}  // namespace

struct TextAnalyzer::Impl {
  std::unique_ptr<icu::BreakIterator> words;
  const icu::Normalizer2* nfkc_cf = nullptr;

  // Scratch buffers reused across calls.
  std::u16string u16;
  std::vector<int32_t> byte_at;  // [u16.size() + 1] byte offset in the UTF-8 text of each UTF-16 unit

  // One word-like piece of the text: a non-CJK word, or one CJK character.
  struct Piece {
    bool cjk = false;
    int start = 0, end = 0;  // bytes in the original text
    std::string norm;        // normalized (case-folded, NFKC; stemmed for English words)
    std::string folded;      // normalized, before stemming (what query stopwords are matched against)
    int word_id = 0;         // CJK: which dictionary word it belongs to
  };
  std::vector<Piece> pieces;

  std::string normalize(std::u16string_view s) {
    bool ascii = true;
    for (char16_t c : s) ascii = ascii && c < 0x80;
    std::string out;
    if (ascii) {
      out.reserve(s.size());
      for (char16_t c : s) out += char(c >= 'A' && c <= 'Z' ? c + 32 : c);
      return out;
    }
    UErrorCode err = U_ZERO_ERROR;
    icu::UnicodeString src(false, s.data(), int32_t(s.size()));  // read-only alias
    icu::UnicodeString dst = nfkc_cf->normalize(src, err);
    if (U_FAILURE(err)) return "";
    dst.toUTF8String(out);
    return out;
  }

  // Drops apostrophes: "alice's" -> "alice", "don't" -> "dont".
  static std::string drop_apostrophes(std::string w) {
    for (std::string_view apo : {"'s", "\xE2\x80\x99s"})
      if (w.size() > apo.size() && w.compare(w.size() - apo.size(), apo.size(), apo) == 0)
        w.resize(w.size() - apo.size());
    std::string out;
    out.reserve(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i] == '\'') continue;
      if (w.compare(i, 3, "\xE2\x80\x99") == 0) {
        i += 2;
        continue;
      }
      out += w[i];
    }
    return out;
  }

  // Splits text into pieces (fills `pieces`).
  void analyze(std::string_view text) {
    pieces.clear();
    u16.clear();
    byte_at.clear();
    u16.reserve(text.size());
    byte_at.reserve(text.size() + 1);
    std::vector<char32_t> cps;
    for (size_t pos = 0; pos < text.size();) {
      char32_t cp;
      size_t n = next_utf8(text, pos, &cp);
      if (n == 0) n = 1;  // invalid byte: U+FFFD (not a word character, never indexed)
      if (cp >= 0x10000) {
        u16.push_back(char16_t(0xD800 + ((cp - 0x10000) >> 10)));
        u16.push_back(char16_t(0xDC00 + ((cp - 0x10000) & 0x3FF)));
        byte_at.push_back(int32_t(pos));
        byte_at.push_back(int32_t(pos));
      } else {
        u16.push_back(char16_t(cp));
        byte_at.push_back(int32_t(pos));
      }
      pos += n;
    }
    byte_at.push_back(int32_t(text.size()));
    if (u16.empty()) return;

    icu::UnicodeString alias(false, u16.data(), int32_t(u16.size()));
    words->setText(alias);
    int word_id = 0;
    int32_t a = words->first();
    for (int32_t b = words->next(); b != icu::BreakIterator::DONE; a = b, b = words->next()) {
      if (words->getRuleStatus() < UBRK_WORD_NONE_LIMIT) continue;  // spaces, punctuation, symbols
      ++word_id;
      // Split the segment into runs of CJK / other characters.
      int32_t i = a;
      while (i < b) {
        UChar32 cp;
        int32_t j = i;
        U16_NEXT(u16.data(), j, b, cp);
        if (is_cjk(char32_t(cp))) {
          Piece p;
          p.cjk = true;
          p.start = byte_at[i];
          p.end = byte_at[j];
          p.word_id = word_id;
          if (cp >= 0x4E00 && cp <= 0x9FFF) {
            p.norm.assign(text.substr(p.start, p.end - p.start));
          } else {
            p.norm = normalize(std::u16string_view(u16.data() + i, j - i));
          }
          if (!p.norm.empty()) pieces.push_back(std::move(p));
          i = j;
          continue;
        }
        int32_t k = j;
        while (k < b) {
          int32_t next = k;
          U16_NEXT(u16.data(), next, b, cp);
          if (is_cjk(char32_t(cp))) break;
          k = next;
        }
        Piece p;
        p.start = byte_at[i];
        p.end = byte_at[k];
        p.folded = drop_apostrophes(normalize(std::u16string_view(u16.data() + i, k - i)));
        p.norm = porter_stem(p.folded);
        p.word_id = ++word_id;
        if (!p.norm.empty()) pieces.push_back(std::move(p));
        i = k;
      }
    }
  }

  // Adjacent CJK pieces (no gap in the text) form one run.
  static bool continues_run(const Piece& prev, const Piece& next) {
    return prev.cjk && next.cjk && prev.end == next.start;
  }
};

TextAnalyzer::TextAnalyzer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TextAnalyzer::~TextAnalyzer() = default;

Result<std::unique_ptr<TextAnalyzer>> TextAnalyzer::create() {
  auto impl = std::make_unique<Impl>();
  UErrorCode err = U_ZERO_ERROR;
  impl->words.reset(icu::BreakIterator::createWordInstance(icu::Locale("zh"), err));
  if (U_FAILURE(err) || !impl->words)
    return Status::internal(std::string("ICU word break iterator: ") + u_errorName(err));
  impl->nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(err);
  if (U_FAILURE(err)) return Status::internal(std::string("ICU NFKC_Casefold: ") + u_errorName(err));
  return std::unique_ptr<TextAnalyzer>(new TextAnalyzer(std::move(impl)));
}

int TextAnalyzer::index_terms(std::string_view text, const EmitFn& emit) {
  Impl& m = *impl_;
  m.analyze(text);
  const auto& ps = m.pieces;
  std::string term;
  for (size_t i = 0; i < ps.size();) {
    if (!ps[i].cjk) {
      if (int rc = emit(ps[i].norm, ps[i].start, ps[i].end, false)) return rc;
      ++i;
      continue;
    }
    size_t end = i + 1;  // the run is ps[i, end)
    while (end < ps.size() && Impl::continues_run(ps[end - 1], ps[end])) ++end;
    for (size_t c = i; c < end; ++c) {
      if (c + 1 < end) {
        term = ps[c].norm + ps[c + 1].norm;
        if (int rc = emit(term, ps[c].start, ps[c + 1].end, false)) return rc;
        if (int rc = emit(ps[c].norm, ps[c].start, ps[c].end, true)) return rc;
      } else {
        if (int rc = emit(ps[c].norm, ps[c].start, ps[c].end, false)) return rc;
      }
      // A dictionary word of >= 3 characters starting here.
      if (c == i || ps[c - 1].word_id != ps[c].word_id) {
        size_t w = c + 1;
        while (w < end && ps[w].word_id == ps[c].word_id) ++w;
        if (w - c >= 3) {
          term.clear();
          for (size_t x = c; x < w; ++x) term += ps[x].norm;
          if (int rc = emit(term, ps[c].start, ps[w - 1].end, true)) return rc;
        }
      }
    }
    i = end;
  }
  return 0;
}

std::vector<QueryTerm> TextAnalyzer::query_terms(std::string_view text) {
  Impl& m = *impl_;
  m.analyze(text);
  const auto& ps = m.pieces;
  const auto& stop = stopwords();
  // Query words: a non-CJK piece, or the CJK pieces of one dictionary word.
  struct Word {
    size_t first, end;  // pieces [first, end)
    bool cjk, stop;
  };
  std::vector<Word> words;
  for (size_t i = 0; i < ps.size();) {
    size_t w = i + 1;
    if (ps[i].cjk)
      while (w < ps.size() && ps[w].cjk && ps[w].word_id == ps[i].word_id) ++w;
    std::string s;
    for (size_t x = i; x < w; ++x) s += ps[i].cjk ? ps[x].norm : ps[x].folded;
    words.push_back({i, w, ps[i].cjk, stop.count(s) > 0});
    i = w;
  }
  // A one-character CJK word the dictionary split off ("红烧|肉", "锅|店") joins the adjacent word
  // before it (else after it) into one unit searched as a phrase, so a single character is not
  // searched on its own when it was typed as part of a longer word.
  struct Unit {
    size_t first, end;
    std::vector<std::pair<size_t, size_t>> parts;  // the dictionary words of >= 2 characters in it
  };
  auto adjacent = [&](const Word& a, const Word& b) { return ps[a.end - 1].end == ps[b.first].start; };
  std::vector<Unit> units;
  std::vector<bool> unit_cjk;
  for (size_t i = 0; i < words.size(); ++i) {
    const Word& w = words[i];
    if (w.stop) continue;
    const bool single = w.cjk && w.end - w.first == 1;
    if (single && !units.empty() && unit_cjk.back() && i > 0 && !words[i - 1].stop && adjacent(words[i - 1], w)) {
      units.back().end = w.end;
      continue;
    }
    Unit u{w.first, w.end, {}};
    if (w.cjk && w.end - w.first >= 2) u.parts.emplace_back(w.first, w.end);
    // A leading single character takes the following adjacent word along.
    if (single && i + 1 < words.size() && words[i + 1].cjk && !words[i + 1].stop && adjacent(w, words[i + 1]) &&
        words[i + 1].end - words[i + 1].first >= 2) {
      u.end = words[i + 1].end;
      u.parts.emplace_back(words[i + 1].first, words[i + 1].end);
      ++i;
    }
    units.push_back(std::move(u));
    unit_cjk.push_back(w.cjk);
  }
  std::vector<QueryTerm> out;
  for (size_t k = 0; k < units.size(); ++k) {
    const Unit& u = units[k];
    QueryTerm t;
    if (!unit_cjk[k]) {
      t.alternatives.push_back({ps[u.first].norm});
      out.push_back(std::move(t));
      continue;
    }
    std::string word;
    for (size_t x = u.first; x < u.end; ++x) word += ps[x].norm;
    const size_t n = u.end - u.first;
    t.alternatives.push_back({word});
    if (n >= 3) {
      std::vector<std::string> phrase;
      for (size_t x = u.first; x + 1 < u.end; ++x) phrase.push_back(ps[x].norm + ps[x + 1].norm);
      t.alternatives.push_back(std::move(phrase));
    }
    out.push_back(std::move(t));
    // The dictionary words inside a joined unit are searched too (a looser match ranks lower).
    for (const auto& [a, b] : u.parts) {
      if (a == u.first && b == u.end) continue;
      std::string part;
      for (size_t x = a; x < b; ++x) part += ps[x].norm;
      QueryTerm pt;
      pt.alternatives.push_back({part});
      if (b - a >= 3) {
        std::vector<std::string> phrase;
        for (size_t x = a; x + 1 < b; ++x) phrase.push_back(ps[x].norm + ps[x + 1].norm);
        pt.alternatives.push_back(std::move(phrase));
      }
      out.push_back(std::move(pt));
    }
  }
  return out;
}

std::string fts_match_expression(const std::vector<QueryTerm>& terms, bool all) {
  auto quote = [](const std::string& s) {
    std::string q = "\"";
    q += kLiteralMarker;
    for (char c : s) {
      if (c == '"') q += '"';  // cannot occur in a term; escaped anyway
      q += c;
    }
    return q + "\"";
  };
  std::string expr;
  for (const QueryTerm& t : terms) {
    if (t.alternatives.empty()) continue;
    if (!expr.empty()) expr += all ? " AND " : " OR ";
    if (t.alternatives.size() > 1) expr += "(";
    for (size_t a = 0; a < t.alternatives.size(); ++a) {
      if (a) expr += " OR ";
      for (size_t p = 0; p < t.alternatives[a].size(); ++p) expr += (p ? " + " : "") + quote(t.alternatives[a][p]);
    }
    if (t.alternatives.size() > 1) expr += ")";
  }
  return expr;
}

}  // namespace pm::store
