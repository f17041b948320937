#include "assistant/answer.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "assistant/text_facts.h"
#include "store/utf8.h"

namespace pm::assistant {
namespace {

using nlohmann::json;

// Question words the store's analyzer keeps as search words but that never name what is asked
// about ("What time is my flight?": the records say "flight", not "time").
const std::vector<std::string>& question_words() {
  static const std::vector<std::string> kWords = {
      "time",     "date",      "day",    "know",    "remember", "happen", "happens", "happened",  "going",
      "anything", "something", "record", "records", "whats",    "whens",  "wheres",  "whos",      "hows",
      "ever",     "last",      "next",   "tell",    "remind",   "时间",   "日期",    "哪天",      "几号",
      "几时",     "记录",      "知道",   "告诉",    "是否",     "一下",   "情况",    "怎么样",    "如何",
      "哪里",     "在哪",      "在哪里", "什么",    "多少钱",   "多久",   "为什么",  "我的",      "你的",
      "有什么",   "安排",      "事情",   "什么事",  "schedule", "plans",  "events",  "happening", "planned"};
  return kWords;
}

std::string str_field(const json& rec, const char* key) {
  auto it = rec.find(key);
  return it != rec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "2026-11-20 16:30" / "2026年11月20日 16:30" on the timestamp's own wall clock.
std::string format_local(const store::Timestamp& t, bool zh, bool with_time = true) {
  const int64_t day = store::local_day(t.epoch_s, t.offset_s);
  const int64_t sod = t.epoch_s + t.offset_s - day * 86400;
  const store::CivilDate d = store::civil_from_days(day);
  char buf[64];
  if (zh)
    std::snprintf(buf, sizeof buf, "%d年%d月%d日", d.year, d.month, d.day);
  else
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  std::string out = buf;
  if (with_time) {
    std::snprintf(buf, sizeof buf, " %02d:%02d", int(sod / 3600), int(sod / 60 % 60));
    out += buf;
  }
  return out;
}

std::string hhmm(const store::Timestamp& t) {
  const int64_t day = store::local_day(t.epoch_s, t.offset_s);
  const int64_t sod = t.epoch_s + t.offset_s - day * 86400;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", int(sod / 3600), int(sod / 60 % 60));
  return buf;
}

// When a record happens: a calendar event's start-end, otherwise the record's time.
std::string when_of(const json& rec, bool zh) {
  const std::string start = str_field(rec, "start");
  if (!start.empty()) {
    Result<store::Timestamp> s = store::parse_iso8601(start);
    if (!s.is_ok()) return start;
    Result<store::Timestamp> e = store::parse_iso8601(str_field(rec, "end"));
    const int64_t sod = (s->epoch_s + s->offset_s) % 86400;
    const bool all_day = sod == 0 && (!e.is_ok() || (e->epoch_s - s->epoch_s) % 86400 == 0);
    if (all_day) return format_local(*s, zh, false);
    std::string out = format_local(*s, zh);
    if (e.is_ok() && e->epoch_s > s->epoch_s) {
      const bool same_day = store::local_day(e->epoch_s, s->offset_s) == store::local_day(s->epoch_s, s->offset_s);
      store::Timestamp e_local{e->epoch_s, s->offset_s};
      out += "–" + (same_day ? hhmm(e_local) : format_local(e_local, zh));
    }
    return out;
  }
  Result<store::Timestamp> t = store::parse_iso8601(str_field(rec, "time"));
  return t.is_ok() ? format_local(*t, zh) : str_field(rec, "time");
}

using TermSet = std::unordered_set<std::string>;

TermSet index_terms(store::TextAnalyzer& analyzer, std::string_view text) {
  TermSet out;
  analyzer.index_terms(text, [&](std::string_view term, int, int, bool) {
    out.emplace(term);
    return 0;
  });
  return out;
}

bool term_in(const store::QueryTerm& q, const TermSet& terms) {
  for (const auto& phrase : q.alternatives) {
    bool all = !phrase.empty();
    for (const auto& t : phrase) all = all && terms.count(t) > 0;
    if (all) return true;
  }
  return false;
}

// One thing the question asks about: any of its alternatives (the word as asked, its
// translation); an alternative matches when all of its terms do.
using Concept = std::vector<std::vector<store::QueryTerm>>;

bool concept_in(const Concept& c, const TermSet& terms) {
  for (const auto& alt : c) {
    bool all = !alt.empty();
    for (const auto& q : alt) all = all && term_in(q, terms);
    if (all) return true;
  }
  return false;
}

int count_matched(const std::vector<Concept>& concepts, const TermSet& terms) {
  int n = 0;
  for (const auto& c : concepts) n += concept_in(c, terms) ? 1 : 0;
  return n;
}

// Words of personal records that often differ in language from the question asked about them
// (a Chinese question about an English calendar entry): Chinese, English.
const std::vector<std::pair<std::string, std::string>>& cross_language_words() {
  static const std::vector<std::pair<std::string, std::string>> k = {{"牙医", "dentist"},
                                                                     {"预约", "appointment"},
                                                                     {"医生", "doctor"},
                                                                     {"航班", "flight"},
                                                                     {"飞机", "flight"},
                                                                     {"会议", "meeting"},
                                                                     {"生日", "birthday"},
                                                                     {"礼物", "gift"},
                                                                     {"密码", "password"},
                                                                     {"房租", "rent"},
                                                                     {"护照", "passport"},
                                                                     {"健身", "gym"},
                                                                     {"瑜伽", "yoga"},
                                                                     {"读书会", "book club"},
                                                                     {"晚餐", "dinner"},
                                                                     {"午饭", "lunch"},
                                                                     {"电影", "movie"},
                                                                     {"幻灯片", "slides"},
                                                                     {"预算", "budget"},
                                                                     {"报告", "report"},
                                                                     {"停车", "parking"},
                                                                     {"钥匙", "keys"},
                                                                     {"猫", "cat"},
                                                                     {"火锅", "hotpot"},
                                                                     {"收据", "receipt"},
                                                                     {"白板", "whiteboard"},
                                                                     {"发布", "launch"},
                                                                     {"上线", "launch"},
                                                                     {"客户", "client"},
                                                                     {"演示", "demo"},
                                                                     {"血检", "blood test"},
                                                                     {"验血", "blood test"},
                                                                     {"日本", "japan"},
                                                                     {"京都", "kyoto"},
                                                                     {"网球", "tennis"},
                                                                     {"书单", "reading list"},
                                                                     {"购物清单", "shopping list"},
                                                                     {"行李", "packing"},
                                                                     {"站会", "stand-up"}};
  return k;
}

std::string term_text(const store::QueryTerm& q) {
  if (q.alternatives.empty()) return "";
  std::string s;
  for (const auto& t : q.alternatives.front()) s += t;
  return s;
}

// The plan text without the translations that were appended to the question (its last words).
std::string understand_text(const std::string& plan_text, const std::map<std::string, std::string>& translate) {
  std::string text = plan_text;
  bool stripped = true;
  while (stripped) {
    stripped = false;
    for (const auto& [from, to] : translate) {
      const std::string tail = " " + to;
      if (text.size() > tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0) {
        text.resize(text.size() - tail.size());
        stripped = true;
      }
    }
    text = trim(text);
  }
  return text;
}

bool has_filters(const store::QueryPlan& p) {
  if (p.time || !p.sources.empty()) return true;
  for (const auto& person : p.people)
    if (person.filter) return true;
  return false;
}

}  // namespace

Result<Retrieval> retrieve(store::Store& st, std::string_view question, const AskOptions& options) {
  const std::string q = trim(question);
  if (q.empty()) return Status::invalid_argument("the question is empty");
  if (q.size() > kMaxQuestionBytes)
    return Status::invalid_argument("the question is " + std::to_string(q.size()) + " bytes; at most " +
                                    std::to_string(kMaxQuestionBytes) + " are accepted");
  if (const size_t bad = store::find_invalid_utf8(q); bad != std::string::npos)
    return Status::invalid_argument("the question is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  Retrieval r;
  r.question = q;
  r.chinese = has_cjk(q);
  Result<store::TextAnalyzer*> analyzer = st.analyzer();
  if (!analyzer.is_ok()) return analyzer.status();
  store::TextAnalyzer& an = **analyzer;
  store::SearchOptions so;
  so.k = std::max(1, options.k);
  if (!options.allowed_sources.empty()) so.k *= 4;  // room for hits from sources the asker may not read
  so.now = options.now;
  so.embedder = options.embedder;

  // Content terms: the analyzer's query terms of what query understanding left, without the
  // question words above.
  std::set<std::string> drop;
  for (const std::string& w : question_words())
    for (const store::QueryTerm& t : an.query_terms(w))
      if (t.alternatives.size() == 1 && t.alternatives[0].size() == 1) drop.insert(t.alternatives[0][0]);
  // Runs one search and the relevance gate over its hits.
  auto search_and_gate = [&](const std::string& query, const std::map<std::string, std::string>& translate) -> Status {
    Result<store::SearchResult> sr = store::search(st, query, so);
    if (!sr.is_ok()) return sr.status();
    r.search = std::move(*sr);
    r.content_terms.clear();
    r.retrieved.clear();
    r.relevant.clear();
    r.translations.clear();
    std::vector<Concept> content;
    std::vector<std::string> seen;
    // The question's own words only (the appended translations are alternatives of them).
    const std::string own_text =
        translate.empty() ? r.search.plan.text : understand_text(r.search.plan.text, translate);
    for (store::QueryTerm& t : an.query_terms(own_text)) {
      if (t.alternatives.size() == 1 && t.alternatives[0].size() == 1 && drop.count(t.alternatives[0][0])) continue;
      const std::string shown = term_text(t);
      if (std::find(seen.begin(), seen.end(), shown) != seen.end()) continue;
      seen.push_back(shown);
      r.content_terms.push_back(shown);
      Concept c;
      c.push_back({std::move(t)});
      if (auto it = translate.find(shown); it != translate.end()) {
        c.push_back(an.query_terms(it->second));
        r.translations.push_back(shown + " -> " + it->second);
      }
      content.push_back(std::move(c));
    }
    const int needed = int(content.size()) / 2 + 1;  // strict majority
    r.filters_only = content.empty() && has_filters(r.search.plan);

    if (!options.allowed_sources.empty()) {  // records the asker may not read are never seen
      std::vector<store::SearchHit>& hits = r.search.hits;
      hits.erase(std::remove_if(hits.begin(), hits.end(),
                                [&](const store::SearchHit& h) {
                                  return std::find(options.allowed_sources.begin(), options.allowed_sources.end(),
                                                   h.source) == options.allowed_sources.end();
                                }),
                 hits.end());
      if (hits.size() > size_t(std::max(1, options.k))) hits.resize(size_t(std::max(1, options.k)));
    }
    for (const store::SearchHit& h : r.search.hits) {
      Result<json> rec = st.get(h.id);
      if (!rec.is_ok()) continue;  // forgotten between search and fetch
      Evidence e;
      e.id = h.id;
      e.source = h.source;
      e.score = h.score;
      e.record = std::move(*rec);
      const std::string title = str_field(e.record, "title");
      const std::string text = str_field(e.record, "text");
      const std::string sender = str_field(e.record, "sender");
      const std::string location = str_field(e.record, "location");
      const TermSet all = index_terms(an, title + "\n" + text + "\n" + sender + "\n" + location);
      e.matched_terms = count_matched(content, all);
      e.relevant = content.empty() ? r.filters_only : e.matched_terms >= needed;
      // The sentence that answers: the title or a sentence of the text, most content terms first.
      std::vector<std::string> candidates;
      if (!title.empty()) candidates.push_back(title);
      for (std::string& s : split_sentences(text)) candidates.push_back(std::move(s));
      int best = -1;
      for (const std::string& c : candidates) {
        const int m = count_matched(content, index_terms(an, c));
        if (m > best) {
          best = m;
          e.sentence = c;
        }
      }
      if (e.source == "calendar" && !title.empty() && e.sentence != title) e.sentence = title + " — " + e.sentence;
      e.when = when_of(e.record, r.chinese);
      e.times = find_time_phrases(text);
      e.place = location;
      if (sender != "me") e.person = sender;
      // Identical content (the instances of a recurring event, repeated messages) is used once.
      const bool repeat = std::any_of(r.relevant.begin(), r.relevant.end(), [&](const Evidence& x) {
        return x.source == e.source && str_field(x.record, "title") == title && str_field(x.record, "text") == text &&
               str_field(x.record, "sender") == sender;
      });
      r.retrieved.push_back(e);
      if (e.relevant && !repeat && int(r.relevant.size()) < std::max(1, options.max_evidence))
        r.relevant.push_back(std::move(e));
    }
    return Status::ok();
  };
  // "我的" (my) never names what is sought, but the word breaker can glue it to the next word
  // ("我的航班" as one unit): taken out before searching.
  std::string query = q;
  for (size_t at; (at = query.find("我的")) != std::string::npos;) query.replace(at, 6, " ");
  if (Status s = search_and_gate(query, {}); !s.is_ok()) return s;
  if (r.found()) return r;
  // Nothing relevant: try once more with the question's words that have a known translation
  // (cross_language_words) added, each word matching in either language.
  std::map<std::string, std::string> translate;
  for (const auto& [zh, en] : cross_language_words()) {
    for (const auto& [from, to] : {std::pair{zh, en}, std::pair{en, zh}}) {
      const std::vector<store::QueryTerm> t = an.query_terms(from);
      if (t.size() == 1) translate.emplace(term_text(t[0]), to);
    }
  }
  std::string extra;
  for (const store::QueryTerm& t : an.query_terms(r.search.plan.text))
    if (auto it = translate.find(term_text(t)); it != translate.end()) extra += " " + it->second;
  if (extra.empty()) return r;
  Retrieval first = r;
  if (Status s = search_and_gate(query + extra, translate); !s.is_ok()) return s;
  if (!r.found()) {
    first.translations = r.translations;
    return first;
  }
  return r;
}

std::string not_found_text(const Retrieval& r) {
  std::string q = r.question;
  while (!q.empty() && (q.back() == '?' || q.back() == '.')) q.pop_back();
  for (std::string_view p : {"？", "。"})
    while (q.size() >= p.size() && q.compare(q.size() - p.size(), p.size(), p) == 0) q.resize(q.size() - p.size());
  if (r.chinese) return "没有找到能回答“" + q + "”的记录。";
  return "I could not find anything in your records that answers \"" + q + "\".";
}

Answer extractive_answer(const Retrieval& r) {
  Answer a;
  if (!r.found()) {
    a.text = not_found_text(r);
    a.mode = "not_found";
    return a;
  }
  a.mode = "extractive";
  const bool zh = r.chinese;
  a.text = zh ? "根据你的记录：" : "From your records:";
  for (const Evidence& e : r.relevant) {
    std::vector<std::string> details;
    if (!e.when.empty()) details.push_back((zh ? "时间：" : "when: ") + e.when);
    if (!e.place.empty()) details.push_back((zh ? "地点：" : "where: ") + e.place);
    if (!e.person.empty()) details.push_back((zh ? "来自：" : "from: ") + e.person);
    if (!e.times.empty()) {
      std::string t;
      for (const std::string& x : e.times) t += (t.empty() ? "" : (zh ? "、" : ", ")) + x;
      details.push_back((zh ? "提到的时间：" : "times mentioned: ") + t);
    }
    std::string line = "\n- " + e.sentence;
    if (!details.empty()) {
      std::string d;
      for (const std::string& x : details) d += (d.empty() ? "" : (zh ? "；" : "; ")) + x;
      line += zh ? "（" + d + "）" : " (" + d + ")";
    }
    line += " [" + e.id + "]";
    a.text += line;
    a.citations.push_back(e.id);
  }
  return a;
}

std::vector<ChatMessage> grounded_prompt(const Retrieval& r) {
  const bool zh = r.chinese;
  std::string system =
      zh ? "你是用户手机上的私人助理。只能根据下面列出的记录回答用户的问题，不要编造任何记录中没有的信息。"
           "每使用一条记录，就在句末用方括号写出它的编号，例如 [sms-0001]。如果这些记录不能回答问题，就说没有找到。"
           "用中文简短回答。"
         : "You are the user's private assistant on their phone. Answer the question using ONLY the records listed "
           "below; never add facts that are not in them. After each statement, cite the id of the record it comes "
           "from in square brackets, like [sms-0001]. If the records do not answer the question, say that you could "
           "not find it. Answer briefly in English.";
  std::string user = zh ? "记录：\n" : "Records:\n";
  for (const Evidence& e : r.relevant) {
    std::string line = "[" + e.id + "] " + e.source;
    if (!e.when.empty()) line += " | " + std::string(zh ? "时间 " : "when ") + e.when;
    if (!e.person.empty()) line += " | " + std::string(zh ? "来自 " : "from ") + e.person;
    if (!e.place.empty()) line += " | " + std::string(zh ? "地点 " : "where ") + e.place;
    const std::string title = str_field(e.record, "title");
    const std::string text = str_field(e.record, "text");
    if (!title.empty()) line += " | " + title;
    if (!text.empty()) line += " | " + text.substr(0, 2000);
    user += line + "\n";
  }
  user += zh ? "\n问题：" : "\nQuestion: ";
  user += r.question;
  return {ChatMessage("system", system), ChatMessage("user", user)};
}

std::vector<std::string> keep_known_citations(std::string& text, const std::vector<std::string>& allowed) {
  std::vector<std::string> cited;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open_len = 0;
    std::string_view close;
    if (text[i] == '[') {
      open_len = 1;
      close = "]";
    } else if (text.compare(i, 3, "【") == 0) {
      open_len = 3;
      close = "】";
    }
    if (!open_len) {
      out += text[i++];
      continue;
    }
    const size_t end = text.find(close, i + open_len);
    if (end == std::string::npos || end - i > 600) {
      out += text.substr(i, open_len);
      i += open_len;
      continue;
    }
    // "[a, b]" cites a and b; only known ids are kept (in the text and the list).
    const std::string inner = text.substr(i + open_len, end - i - open_len);
    std::vector<std::string> kept;
    size_t p = 0;
    while (p <= inner.size()) {
      size_t q = inner.find_first_of(",;，", p);
      std::string id = trim(inner.substr(p, q == std::string::npos ? std::string::npos : q - p));
      if (!id.empty() && std::find(allowed.begin(), allowed.end(), id) != allowed.end()) kept.push_back(id);
      if (q == std::string::npos) break;
      p = q + (static_cast<unsigned char>(inner[q]) >= 0x80 ? 3 : 1);
    }
    if (!kept.empty()) {
      std::string joined;
      for (const std::string& id : kept) {
        joined += (joined.empty() ? "" : ", ") + id;
        if (std::find(cited.begin(), cited.end(), id) == cited.end()) cited.push_back(id);
      }
      out += "[" + joined + "]";
    }
    i = end + close.size();
  }
  text = out;
  return cited;
}

Result<Answer> model_answer(const Retrieval& r, const ChatModel& model, const GenerateOptions& options,
                            const TextCallback& on_text) {
  if (!r.found()) {
    Answer a;
    a.text = not_found_text(r);
    a.mode = "not_found";
    return a;
  }
  Result<GenerateResult> g = chat_once(model, grounded_prompt(r), options, on_text);
  if (!g.is_ok()) return g.status();
  Answer a;
  a.mode = "model";
  a.text = trim(g->text);
  std::vector<std::string> ids;
  for (const Evidence& e : r.relevant) ids.push_back(e.id);
  a.citations = keep_known_citations(a.text, ids);
  if (a.text.empty()) {
    // The model said nothing usable (it ended at once, or only with invented citations): the
    // extractive answer from the same records instead, so the user is never left with nothing.
    Answer fallback = extractive_answer(r);
    fallback.note = "the model gave no answer; extractive answer shown";
    return fallback;
  }
  return a;
}

json answer_json(const Retrieval& r, const Answer& a) {
  json records = json::array();
  for (const Evidence& e : r.relevant)
    records.push_back({{"id", e.id},
                       {"source", e.source},
                       {"score", e.score},
                       {"sentence", e.sentence},
                       {"when", e.when},
                       {"times", e.times},
                       {"place", e.place},
                       {"person", e.person},
                       {"record", e.record}});
  json retrieved = json::array();
  for (const Evidence& e : r.retrieved)
    retrieved.push_back(
        {{"id", e.id}, {"score", e.score}, {"matched_terms", e.matched_terms}, {"relevant", e.relevant}});
  return {{"answer", a.text},
          {"citations", a.citations},
          {"records", records},
          {"found", r.found()},
          {"mode", a.mode},
          {"note", a.note},
          {"language", r.chinese ? "zh" : "en"},
          {"content_terms", r.content_terms},
          {"translations", r.translations},
          {"understood", r.search.plan.understood},
          {"retrieved", retrieved}};
}

}  // namespace pm::assistant
