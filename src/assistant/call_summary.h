// Call summaries (`pocketmind summarize-call`): a transcript in, {summary, caller, topics[],
// action_items[{text, due?}], callback_needed} out.
//
// Transcripts: a .txt file or one call record (a JSON Lines record, DESIGN.md) whose `text`
// holds the transcript. Speaker labels are a short name followed by a colon at the start of a
// line or right after the end of a sentence ("赵敏：周末有空吗？我：有的。", "James: ... Me: ...");
// transcripts without labels are one unnamed speaker. The user is "我", "Me" or "I".
//
// Without a model (extractive):
//   caller          the first labelled speaker who is not the user (else the record's sender)
//   topics          the first sentence of each of the caller's first three turns
//   action_items    sentences holding an action phrase (记得, 别忘了, 提醒, 回电, 麻烦, 帮我, 请,
//                   remember to, don't forget, call me back, please send, can you, need to ...);
//                   `due` is the first time phrase in the sentence resolved against --now with
//                   the store's query understanding (明天下午3点, 下周三, next Tuesday, 3pm); without a
//                   clock time the hour follows the part of the day named (中午/noon 12:00,
//                   下午/afternoon 15:00, 晚上/evening/tonight 19:00, otherwise 09:00); a bare weekday
//                   already past this week means next week's
//   callback_needed a callback phrase from the caller (回电, 给我回个电话, call me back, call back,
//                   give me a call ...) or a missed call (未接 / missed in the record's title)
//   summary         "Call with X: <caller's first sentence> ..." (Chinese when the transcript is)
// With a model: the transcript and these instructions in a chat prompt, output constrained to
// call_summary_schema() and validated; due times the model gives as phrases are resolved as above.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "assistant/chat_model.h"
#include "core/status.h"
#include "store/time_util.h"

namespace pm::assistant {

inline constexpr size_t kMaxTranscriptBytes = 256 * 1024;

struct Turn {
  std::string speaker;  // "" when unlabelled
  std::string text;
};

struct Transcript {
  std::vector<Turn> turns;
  std::string record_id;  // when read from a call record
  std::string sender;     // the record's sender
  std::string title;      // the record's title ("未接来电", "Missed call from ...")
  bool chinese = false;
};

// Parses a transcript file's content: a JSON object (a call record) or plain text. `origin`
// names the file in errors.
Result<Transcript> parse_transcript(std::string_view content, std::string_view origin);

bool is_user_speaker(std::string_view speaker);

struct ActionItem {
  std::string text;
  std::optional<std::string> due;  // ISO 8601, resolved against now
  std::string due_phrase;          // as written ("明天下午3点")
};

struct CallSummary {
  std::string summary;
  std::string caller;
  std::vector<std::string> topics;
  std::vector<ActionItem> action_items;
  bool callback_needed = false;
  std::vector<std::string> phone_numbers;  // pulled from the transcript
  std::vector<std::string> times;          // time phrases in the transcript
  bool chinese = false;
};

// Resolves the first time phrase of `text` against `now` (see the header comment); nullopt when
// there is none. `phrase` receives the phrase as written.
std::optional<store::Timestamp> resolve_due(std::string_view text, const store::Timestamp& now, std::string* phrase);

CallSummary summarize_extractive(const Transcript& t, const store::Timestamp& now);

// The JSON Schema the model's output is held to.
const std::string& call_summary_schema();

// Validates a model's JSON output against the schema's shape (names the field that is wrong)
// and resolves due phrases.
Result<CallSummary> parse_summary_output(std::string_view text, const Transcript& t, const store::Timestamp& now);

Result<CallSummary> summarize_with_model(const Transcript& t, const store::Timestamp& now, const ChatModel& model,
                                         GenerateOptions options);

// {summary, caller, topics[], action_items[{text, due?}], callback_needed} (+ phone_numbers, times).
nlohmann::json summary_json(const CallSummary& s);

// One reminder rule per action item with a due time, in DESIGN.md's rule form: a dated time
// trigger and a notification.show action.
nlohmann::json reminder_rules(const CallSummary& s);

}  // namespace pm::assistant
