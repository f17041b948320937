#include "assistant/call_summary.h"

#include <algorithm>

#include "assistant/text_facts.h"
#include "store/query.h"
#include "store/record.h"
#include "store/utf8.h"

namespace pm::assistant {
namespace {

using nlohmann::json;

// A speaker label: at the start or after a sentence end / newline, a name of letters (Han or
// Latin, with spaces, dots, apostrophes) of at most ~24 characters, then a colon.
const char* kLabelPattern =
    "(?:^|(?<=[。！？!?\\n.…]))[ \\t]*((?:\\p{Han}|[A-Za-z])(?:\\p{Han}|[A-Za-z .'\\-]){0,23}?)[ \\t]*[:：]";

const std::vector<std::string>& action_phrases() {
  static const std::vector<std::string> k = {
      "记得",           "别忘了",       "不要忘了",    "别忘记",        "提醒",      "回电",         "回个电话",
      "回电话",         "打给我",       "麻烦",        "帮我",          "帮忙",      "请你",         "请您",
      "尽快",           "发给我",       "发我",        "带上",          "需要你",    "要记得",       "回复",
      "remember to",    "don't forget", "dont forget", "do not forget", "remind",    "call me back", "call back",
      "please",         "can you",      "could you",   "need to",       "make sure", "send me",      "get back to me",
      "give me a call", "let me know",  "i'll",        "i will"};
  return k;
}

const std::vector<std::string>& callback_phrases() {
  static const std::vector<std::string> k = {"回电",           "回个电话",      "回电话",        "给我回",
                                             "打给我",         "给我打电话",    "call me back",  "call us back",
                                             "call him back",  "call her back", "call back",     "give me a call",
                                             "return my call", "ring me back",  "get back to me"};
  return k;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c + 32);
  return out;
}

bool contains_any(std::string_view text, const std::vector<std::string>& phrases) {
  const std::string low = lower_ascii(text);
  for (const std::string& p : phrases)
    if (low.find(p) != std::string::npos) return true;
  return false;
}

bool is_bare_weekday(std::string_view phrase) {
  const std::string low = lower_ascii(phrase);
  if (low.find("next") != std::string::npos || low.find("this") != std::string::npos ||
      low.find("下") != std::string::npos || low.find("这") != std::string::npos || low.find("本") != std::string::npos)
    return false;
  for (std::string_view w :
       {"周", "星期", "礼拜", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})
    if (low.find(w) != std::string::npos) return true;
  return false;
}

std::string first_sentence(std::string_view text, size_t max_bytes = 160) {
  std::vector<std::string> s = split_sentences(text);
  std::string out = s.empty() ? std::string() : s.front();
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "…";
  }
  return out;
}

// A sentence that says something: weight >= 12 (CJK characters 2, other non-space characters 1)
// and not a self-introduction ("Hi, this is Anna ...", "我是小王").
bool is_substantial(std::string_view sentence) {
  int weight = 0;
  for (size_t i = 0; i < sentence.size();) {
    const auto c = static_cast<unsigned char>(sentence[i]);
    const size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if (n == 3 && has_cjk(sentence.substr(i, 3)))
      weight += 2;
    else if (c != ' ' && c != '\t')
      weight += 1;
    i += n;
  }
  if (weight < 12) return false;
  return regex_find_all("\\b(?:this is|it's|it is)\\s+[A-Z]|我是", sentence, /*caseless=*/false).empty() &&
         regex_find_all("^\\s*(?:hi|hello|hey)\\b.*\\b(?:this is|it's)\\b", sentence).empty();
}

std::vector<Turn> split_turns(std::string_view text) {
  std::vector<Turn> turns;
  const std::vector<RegexMatch> labels = regex_find_all(kLabelPattern, text);
  if (labels.empty()) {
    const std::string t = trim(text);
    if (!t.empty()) turns.push_back({"", t});
    return turns;
  }
  if (labels.front().begin > 0) {
    const std::string pre = trim(text.substr(0, labels.front().begin));
    if (!pre.empty()) turns.push_back({"", pre});
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    const size_t end = i + 1 < labels.size() ? labels[i + 1].begin : text.size();
    std::string body = trim(text.substr(labels[i].end, end - labels[i].end));
    std::string speaker = trim(labels[i].groups[1]);
    if (body.empty()) continue;
    if (!turns.empty() && turns.back().speaker == speaker)
      turns.back().text += " " + body;
    else
      turns.push_back({speaker, body});
  }
  return turns;
}

}  // namespace

bool is_user_speaker(std::string_view speaker) {
  const std::string s = lower_ascii(trim(speaker));
  return s == "我" || s == "me" || s == "i" || s == "本人" || s == "user";
}

Result<Transcript> parse_transcript(std::string_view content, std::string_view origin) {
  const std::string where(origin);
  if (content.size() > kMaxTranscriptBytes)
    return Status::invalid_argument(where + ": " + std::to_string(content.size()) + " bytes; transcripts of at most " +
                                    std::to_string(kMaxTranscriptBytes) + " bytes are accepted");
  Transcript t;
  std::string text;
  const std::string trimmed = trim(content);
  if (trimmed.empty()) return Status::invalid_argument(where + ": the transcript is empty");
  if (trimmed.front() == '{') {
    // One call record (the first non-empty line when the file holds several).
    const std::string line = trimmed.substr(0, trimmed.find('\n'));
    Result<store::Record> r = store::parse_record(line);
    if (!r.is_ok()) return r.status().with_context(where + ": not a valid call record");
    if (r->source != "call")
      return Status::invalid_argument(where + ": record " + r->id + " has source \"" + r->source +
                                      "\"; a call record (source \"call\") is expected");
    if (!r->text || trim(*r->text).empty())
      return Status::invalid_argument(where + ": record " + r->id + ": field \"text\" holds no transcript");
    t.record_id = r->id;
    t.sender = r->sender.value_or("");
    t.title = r->title.value_or("");
    text = *r->text;
  } else {
    text = trimmed;
  }
  // Valid UTF-8 only (the regex engine and the JSON output need it).
  if (const size_t bad = store::find_invalid_utf8(text); bad != std::string::npos)
    return Status::invalid_argument(where + ": the transcript is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  t.turns = split_turns(text);
  if (t.turns.empty()) return Status::invalid_argument(where + ": the transcript is empty");
  t.chinese = has_cjk(text);
  return t;
}

std::optional<store::Timestamp> resolve_due(std::string_view text, const store::Timestamp& now, std::string* phrase) {
  for (const std::string& p : find_time_phrases(text)) {
    const store::QueryPlan plan = store::understand_query(p, now, {});
    if (!plan.time) continue;
    int64_t at = plan.time->begin_s;
    if (regex_find_all("[0-9０-９]|点|\\b[ap]\\.?m\\b|:", p).empty()) {
      // No clock time: a fixed hour for the part of the day named, else 09:00.
      const std::string low = lower_ascii(p);
      int hour = 9;
      if (low.find("中午") != std::string::npos || low.find("noon") != std::string::npos)
        hour = 12;
      else if (low.find("下午") != std::string::npos || low.find("afternoon") != std::string::npos)
        hour = 15;
      else if (low.find("晚") != std::string::npos || low.find("evening") != std::string::npos ||
               low.find("tonight") != std::string::npos || low.find("night") != std::string::npos)
        hour = 19;
      at = store::instant_of(store::local_day(at, now.offset_s), hour * 3600, now.offset_s);
    }
    if (at < now.epoch_s && is_bare_weekday(p)) at += 7 * 86400;  // "周一" said on a Thursday: next Monday
    if (phrase) *phrase = p;
    return store::Timestamp{at, now.offset_s};
  }
  return std::nullopt;
}

CallSummary summarize_extractive(const Transcript& t, const store::Timestamp& now) {
  CallSummary s;
  s.chinese = t.chinese;
  for (const Turn& turn : t.turns)
    if (!turn.speaker.empty() && !is_user_speaker(turn.speaker)) {
      s.caller = turn.speaker;
      break;
    }
  if (s.caller.empty() && !is_user_speaker(t.sender)) s.caller = t.sender;
  if (s.caller.empty()) {
    // An unlabelled message that introduces its speaker: "this is Anna", "我是小王".
    for (const RegexMatch& m :
         regex_find_all("(?:\\b[Tt]his is|\\b[Ii]t's|\\b[Ii]t "
                        "is)\\s+([A-Z][a-z]+(?:\\s+[A-Z][a-z]+)?)|我是(\\p{Han}{1,6}?)(?=[，。,！!\\s]|$)",
                        t.turns.front().text, /*caseless=*/false)) {
      s.caller = !m.groups[1].empty() ? m.groups[1] : m.groups[2];
      if (!s.caller.empty()) break;
    }
  }
  // Topics: the caller's first three substantial sentences (any speaker's when no one is
  // labelled): greetings, acknowledgements and self-introductions are skipped.
  for (const Turn& turn : t.turns) {
    if (is_user_speaker(turn.speaker)) continue;
    if (!s.caller.empty() && !turn.speaker.empty() && turn.speaker != s.caller) continue;
    for (const std::string& sentence : split_sentences(turn.text)) {
      if (s.topics.size() >= 3 || !is_substantial(sentence)) continue;
      std::string f = first_sentence(sentence);
      if (std::find(s.topics.begin(), s.topics.end(), f) == s.topics.end()) s.topics.push_back(f);
    }
  }
  std::string all;
  for (const Turn& turn : t.turns) {
    all += turn.text + "\n";
    const bool from_user = is_user_speaker(turn.speaker);
    for (const std::string& sentence : split_sentences(turn.text)) {
      if (!from_user && contains_any(sentence, callback_phrases())) s.callback_needed = true;
      if (!contains_any(sentence, action_phrases())) continue;
      ActionItem item;
      item.text = sentence;
      std::string phrase;
      if (std::optional<store::Timestamp> due = resolve_due(sentence, now, &phrase)) {
        item.due = store::format_iso8601(*due);
        item.due_phrase = phrase;
      }
      s.action_items.push_back(std::move(item));
    }
  }
  const std::string title = lower_ascii(t.title);
  if (title.find("未接") != std::string::npos || title.find("missed") != std::string::npos ||
      title.find("voicemail") != std::string::npos || title.find("语音留言") != std::string::npos)
    s.callback_needed = true;
  s.phone_numbers = find_phone_numbers(all);
  s.times = find_time_phrases(all);
  // Summary: who called, their first sentence, and what follows from it.
  const std::string who = s.caller.empty() ? (t.chinese ? "对方" : "the caller") : s.caller;
  const std::string opening = s.topics.empty() ? first_sentence(t.turns.front().text) : s.topics.front();
  if (t.chinese) {
    s.summary = "与" + who + "的通话：" + opening;
    if (!s.action_items.empty()) s.summary += " 待办 " + std::to_string(s.action_items.size()) + " 项。";
    if (s.callback_needed) s.summary += " 需要回电。";
  } else {
    s.summary = "Call with " + who + ": " + opening;
    if (!s.action_items.empty())
      s.summary += " " + std::to_string(s.action_items.size()) +
                   (s.action_items.size() == 1 ? " action item." : " action items.");
    if (s.callback_needed) s.summary += " Callback requested.";
  }
  return s;
}

const std::string& call_summary_schema() {
  static const std::string k = R"({
  "type": "object",
  "properties": {
    "summary": {"type": "string", "maxLength": 160},
    "caller": {"type": "string", "maxLength": 40},
    "topics": {"type": "array", "items": {"type": "string", "maxLength": 32}, "maxItems": 3},
    "action_items": {"type": "array", "maxItems": 4, "items": {
      "type": "object",
      "properties": {"text": {"type": "string", "maxLength": 100}, "due": {"type": "string", "maxLength": 32}},
      "required": ["text"]}},
    "callback_needed": {"type": "boolean"}
  },
  "required": ["summary", "caller", "topics", "action_items", "callback_needed"]
})";
  return k;
}

Result<CallSummary> parse_summary_output(std::string_view text, const Transcript& t, const store::Timestamp& now) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid_argument("the model's output is not complete JSON");
  if (!j.is_object()) return Status::invalid_argument("the model's output is not a JSON object");
  auto need_string = [&](const char* key) -> Result<std::string> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
      return Status::invalid_argument(std::string("the model's output: field \"") + key + "\" missing or not a string");
    return it->get<std::string>();
  };
  CallSummary s;
  s.chinese = t.chinese;
  Result<std::string> summary = need_string("summary");
  if (!summary.is_ok()) return summary.status();
  Result<std::string> caller = need_string("caller");
  if (!caller.is_ok()) return caller.status();
  s.summary = *summary;
  s.caller = *caller;
  auto topics = j.find("topics");
  if (topics == j.end() || !topics->is_array())
    return Status::invalid_argument("the model's output: field \"topics\" missing or not an array");
  for (const json& x : *topics) {
    if (!x.is_string()) return Status::invalid_argument("the model's output: \"topics\" holds a non-string");
    s.topics.push_back(x.get<std::string>());
  }
  auto items = j.find("action_items");
  if (items == j.end() || !items->is_array())
    return Status::invalid_argument("the model's output: field \"action_items\" missing or not an array");
  for (const json& x : *items) {
    if (!x.is_object() || !x.contains("text") || !x["text"].is_string())
      return Status::invalid_argument("the model's output: an action item without a string \"text\"");
    ActionItem item;
    item.text = x["text"].get<std::string>();
    if (x.contains("due")) {
      if (!x["due"].is_string())
        return Status::invalid_argument("the model's output: an action item's \"due\" is not a string");
      const std::string due = x["due"].get<std::string>();
      if (Result<store::Timestamp> iso = store::parse_iso8601(due); iso.is_ok()) {
        item.due = store::format_iso8601(*iso);
        item.due_phrase = due;
      } else if (std::optional<store::Timestamp> r = resolve_due(due, now, &item.due_phrase)) {
        item.due = store::format_iso8601(*r);
      }
    }
    s.action_items.push_back(std::move(item));
  }
  auto cb = j.find("callback_needed");
  if (cb == j.end() || !cb->is_boolean())
    return Status::invalid_argument("the model's output: field \"callback_needed\" missing or not a boolean");
  s.callback_needed = cb->get<bool>();
  std::string all;
  for (const Turn& turn : t.turns) all += turn.text + "\n";
  s.phone_numbers = find_phone_numbers(all);
  s.times = find_time_phrases(all);
  return s;
}

Result<CallSummary> summarize_with_model(const Transcript& t, const store::Timestamp& now, const ChatModel& model,
                                         GenerateOptions options) {
  Result<std::shared_ptr<GrammarEngine>> engine = json_schema_engine(model, call_summary_schema());
  if (!engine.is_ok()) return engine.status();
  options.grammar = *engine;
  std::string transcript;
  for (const Turn& turn : t.turns) transcript += (turn.speaker.empty() ? "" : turn.speaker + ": ") + turn.text + "\n";
  const std::string system =
      std::string(
          "You summarize phone calls for the user (\"Me\"/\"我\" in the transcript). Reply with one JSON object: "
          "summary (one or two sentences), caller (the other person's name), topics (short phrases), "
          "action_items (things someone must do, each {text, due} where due is an ISO 8601 time if one was "
          "mentioned), callback_needed (true if the user must call back). The current time is ") +
      store::format_iso8601(now) + "." + (t.chinese ? " Write the text fields in Chinese." : "");
  const std::vector<ChatMessage> messages = {ChatMessage("system", system),
                                             ChatMessage("user", "Transcript:\n" + transcript)};
  Result<GenerateResult> g = chat_once(model, messages, options);
  if (!g.is_ok()) return g.status();
  if (g->finish == FinishReason::kContextFull)
    return Status::out_of_range("the model's JSON was cut off after " + std::to_string(g->tokens.size()) +
                                " tokens: the context filled up (raise -c if the model allows it)");
  if (g->finish == FinishReason::kLength)
    return Status::out_of_range("the model's JSON was cut off after " + std::to_string(g->tokens.size()) +
                                " tokens (raise -n)");
  return parse_summary_output(g->text, t, now);
}

json summary_json(const CallSummary& s) {
  json items = json::array();
  for (const ActionItem& a : s.action_items) {
    json j = {{"text", a.text}};
    if (a.due) {
      j["due"] = *a.due;
      j["due_phrase"] = a.due_phrase;
    }
    items.push_back(std::move(j));
  }
  return {{"summary", s.summary},
          {"caller", s.caller},
          {"topics", s.topics},
          {"action_items", items},
          {"callback_needed", s.callback_needed},
          {"phone_numbers", s.phone_numbers},
          {"times", s.times}};
}

json reminder_rules(const CallSummary& s) {
  json rules = json::array();
  for (const ActionItem& a : s.action_items) {
    if (!a.due) continue;
    // "2026-11-22T15:00:00+08:00" -> date "2026-11-22", at "15:00" (the wall clock it was written in).
    const std::string& due = *a.due;
    std::string name = a.text;
    if (name.size() > 60) {
      size_t cut = 60;
      while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
      name = name.substr(0, cut) + "…";
    }
    rules.push_back(
        {{"name", (s.chinese ? "提醒：" : "reminder: ") + name},
         {"mode", "single"},
         {"triggers", json::array({{{"type", "time"}, {"at", due.substr(11, 5)}, {"date", due.substr(0, 10)}}})},
         {"conditions", json::array()},
         {"actions", json::array({{{"tool", "notification.show"}, {"args", {{"text", a.text}}}}})}});
  }
  return rules;
}

}  // namespace pm::assistant
