// Streaming translation (`pocketmind translate`): text arrives in pieces, complete segments are
// cut off as soon as they end, and each is translated by one warm model session.
//
// Segmenter (incremental; feeding a text in any split, down to one byte at a time, yields the same
// segments as feeding it whole):
//   ends a segment after  。！？；!?;  (with any repeats and closing quotes/brackets that follow:
//                         "好吗？！”" stays one segment), after a newline, and after '.'
//                         followed by whitespace (or the end, at finish()) — not in "3.5",
//                         "www.a.com", after an ellipsis ("...", "…"), after an abbreviation
//                         (Mr. Mrs. Ms. Dr. Prof. St. vs. etc. e.g. i.e. a.m. p.m., single-letter
//                         initials "J.")
//   ends a clause after   ，、, (English ',' only before whitespace, so not in "3,000") once the
//                         segment is long enough: weight >= clause_min_weight, where a CJK
//                         character weighs 2 and any other non-space character 1 (default 24:
//                         about 12 Chinese characters or 5 English words)
//   A decision that depends on the next character waits for it; finish() flushes the rest.
// Translator: one Session holding a chat-templated conversation (system: translate into the
//   target language; then for each segment a user turn with the segment and the assistant turn
//   with its translation). Each new segment's turn is appended to what the session already holds
//   (only the new tokens are evaluated; KV cache / recurrent state reused). When the context
//   would overflow, the conversation restarts from the system prompt and the last two exchanges.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "assistant/chat_model.h"
#include "core/status.h"
#include "runtime/session.h"

namespace pm::assistant {

struct SegmenterOptions {
  int clause_min_weight = 24;
};

class Segmenter {
 public:
  explicit Segmenter(SegmenterOptions options = {}) : options_(options) {}
  // Appends `chunk` (any bytes of UTF-8 text, possibly splitting a character) and returns the
  // segments it completed, trimmed, in order.
  std::vector<std::string> feed(std::string_view chunk);
  // The end of the input: returns what is left as a last segment (none when only whitespace).
  std::vector<std::string> finish();
  // Text received but not yet part of a complete segment.
  std::string_view pending() const { return std::string_view(buf_).substr(start_); }

 private:
  std::vector<std::string> scan(bool final);
  SegmenterOptions options_;
  std::string buf_;   // received text
  size_t start_ = 0;  // where the current segment starts in buf_
  size_t pos_ = 0;    // next byte to examine
};

enum class TargetLanguage { kEnglish, kChinese };
// "en" / "english" / "zh" / "chinese" / "中文" / "英文"; errors name the accepted values.
Result<TargetLanguage> parse_target_language(std::string_view s);

// The system prompt of a translation conversation (the Translator's and the server's
// /v1/pocketmind/translate): translate each user message into `target`, reply with it only.
std::string translation_system_prompt(TargetLanguage target);

struct TranslateOptions {
  TargetLanguage target = TargetLanguage::kEnglish;
  GenerateOptions generate;  // per segment (max_tokens, sampler); end-of-turn stops are added
};

struct SegmentTranslation {
  std::string source;
  std::string translation;
  double latency_ms = 0;        // from the call to the last token of this segment
  double ttft_ms = 0;           // to its first token
  int64_t n_prompt_tokens = 0;  // tokens evaluated for it (its turn only, while warm)
  int64_t n_generated_tokens = 0;
  double generate_ms = 0;
  bool restarted = false;  // the conversation was restarted to fit the context
};

class Translator {
 public:
  static Result<std::unique_ptr<Translator>> create(const ChatModel& model, const TranslateOptions& options);
  // Translates one segment, streaming its translation through on_text.
  Result<SegmentTranslation> translate(std::string_view segment, const TextCallback& on_text = nullptr);
  int64_t tokens_in_session() const;

 private:
  Translator(const ChatModel& model, const TranslateOptions& options, std::unique_ptr<Session> session);
  std::string render(bool add_generation_prompt) const;
  ChatModel model_;
  TranslateOptions options_;
  std::unique_ptr<Session> session_;
  std::vector<ChatMessage> messages_;  // system + exchanges
  std::string evaluated_;              // the text whose tokens the session holds
};

}  // namespace pm::assistant
