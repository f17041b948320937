// Grounded answers over the personal-data store (`pocketmind ask`).
//
// 1. Retrieval: store::search() with its query understanding (times such as 上周 / next week,
//    sources, people become filters and boosts), the top `k` hits fetched in full.
// 2. Relevance gate — when is "nothing relevant" said:
//    The question's content terms are the analyzer's query terms (store/text_analyzer.h) of the
//    text that query understanding left (stopwords and question words such as what/when/什么时候/
//    哪里 dropped; times, sources and people already removed as filters). A retrieved record is
//    relevant when it contains a strict majority of them (more than half: 1 of 1, 2 of 2, 2 of 3,
//    3 of 4 ...), looked up in the index terms of its title, text, sender and location.
//    A question with no content terms (only filters, "上周妈妈发的短信") takes every hit that passed
//    the filters; one with neither content terms nor filters finds nothing. Hits contributed
//    only by the vector index must pass the same lexical gate.
//    When nothing passes, and some content words have a known translation (a short built-in list of
//    words personal records use, such as 牙医/dentist, 预约/appointment, 航班/flight), the search is
//    run once more with the translations added, each word then counting when found in either
//    language: "我的牙医预约是什么时候？" finds the English "Dentist appointment" event.
//    Nothing relevant -> "I could not find ..." / "没有找到…", no citations, and no model call.
// 3. Answer: extractive without a model (each relevant record's sentence that matches the most
//    content terms, with its dates/times, place and sender pulled out, cited by id); with a model,
//    a prompt holding only the relevant records labelled by id, asking for an answer from them
//    alone with citations like [sms-0001]; citations that are not retrieved ids are dropped.
// The answer's language follows the question's (Chinese when it holds a CJK ideograph).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "assistant/chat_model.h"
#include "core/status.h"
#include "store/search.h"
#include "store/store.h"

namespace pm::assistant {

inline constexpr size_t kMaxQuestionBytes = 2048;

struct AskOptions {
  int k = 8;                                      // records retrieved before the relevance gate
  int max_evidence = 3;                           // relevant records an answer uses
  store::Timestamp now;                           // what relative times resolve against
  const store::TextEmbedder* embedder = nullptr;  // hybrid retrieval when set
  // Sources the asker may read (an app's search:<source> scopes); empty: every source.
  std::vector<std::string> allowed_sources;
};

// One retrieved record and what the answer takes from it.
struct Evidence {
  std::string id;
  std::string source;
  double score = 0;       // search score
  nlohmann::json record;  // the stored record (record_to_json form)
  int matched_terms = 0;  // content terms it contains
  bool relevant = false;
  std::string sentence;            // its sentence (or title) that best matches the question
  std::string when;                // event time (calendar start-end) or record time, readable
  std::vector<std::string> times;  // time phrases in its text ("下周三上午九点", "9:40pm")
  std::string place;               // location field
  std::string person;              // sender (other than "me")
};

struct Retrieval {
  std::string question;
  bool chinese = false;                    // answer language
  store::SearchResult search;              // what the store returned (plan included)
  std::vector<std::string> content_terms;  // the gate's terms, for --explain / JSON
  std::vector<std::string> translations;   // cross-language words used ("牙医 -> dentist")
  bool filters_only = false;               // no content terms, answered from filters
  std::vector<Evidence> retrieved;         // every hit, in rank order (relevant flagged)
  std::vector<Evidence> relevant;          // the ones that passed the gate (at most max_evidence)
  bool found() const { return !relevant.empty(); }
};

Result<Retrieval> retrieve(store::Store& store, std::string_view question, const AskOptions& options);

struct Answer {
  std::string text;
  std::vector<std::string> citations;  // ids, each one of the relevant records
  std::string mode;                    // "extractive", "model" or "not_found"
  std::string note;                    // why the mode differs from what was asked ("" normally)
};

// "I could not find anything in your records about ..." / "没有找到与……相关的记录。"
std::string not_found_text(const Retrieval& r);

Answer extractive_answer(const Retrieval& r);

// Prompt messages for the model (system instructions + the records labelled by id + question).
std::vector<ChatMessage> grounded_prompt(const Retrieval& r);

// Generates with the model from the relevant records only; without relevant records the model is
// not called and the not-found answer is returned. `on_text` streams the raw generated text.
Result<Answer> model_answer(const Retrieval& r, const ChatModel& model, const GenerateOptions& options,
                            const TextCallback& on_text = nullptr);

// Citations "[id]" (also "[id1, id2]" and full-width 【id】) in `text` that are among `allowed`,
// in order of first appearance; the others are removed from `text`.
std::vector<std::string> keep_known_citations(std::string& text, const std::vector<std::string>& allowed);

// {answer, citations[], records[]} (+ mode, found, query understanding).
nlohmann::json answer_json(const Retrieval& r, const Answer& a);

}  // namespace pm::assistant
