#include "assistant/translate.h"

#include <algorithm>
#include <chrono>

#include "assistant/text_facts.h"
#include "store/utf8.h"

namespace pm::assistant {
namespace {

size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;  // a stray continuation byte or invalid lead: one byte
}

// Bytes of `s` that form whole characters (a trailing partial character is left out).
size_t complete_prefix(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = utf8_len(static_cast<unsigned char>(s[i]));
    if (i + n > s.size()) break;
    i += n;
  }
  return i;
}

bool one_of(std::string_view ch, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), ch) != set.end();
}

bool is_terminal(std::string_view ch) { return one_of(ch, {"。", "！", "？", "；", "!", "?", ";", "．"}); }
bool is_closer(std::string_view ch) { return one_of(ch, {"”", "’", "」", "』", "）", "》", "\"", "'", ")", "]"}); }
bool is_space(std::string_view ch) {
  return ch == " " || ch == "\t" || ch == "\r" || ch == "\n" || ch == "\xE3\x80\x80";
}
bool is_cjk_char(std::string_view ch) { return ch.size() == 3 && has_cjk(ch); }

}  // namespace

std::vector<std::string> Segmenter::feed(std::string_view chunk) {
  buf_.append(chunk);
  return scan(false);
}

std::vector<std::string> Segmenter::finish() {
  std::vector<std::string> out = scan(true);
  std::string rest = trim(std::string_view(buf_).substr(start_));
  if (!rest.empty()) out.push_back(std::move(rest));
  buf_.clear();
  start_ = pos_ = 0;
  return out;
}

std::vector<std::string> Segmenter::scan(bool final) {
  std::vector<std::string> out;
  const size_t limit = final ? buf_.size() : complete_prefix(buf_);
  auto char_at = [&](size_t i) { return std::string_view(buf_).substr(i, std::min(utf8_len(buf_[i]), limit - i)); };
  auto emit = [&](size_t end) {
    std::string s = trim(std::string_view(buf_).substr(start_, end - start_));
    if (!s.empty()) out.push_back(std::move(s));
    start_ = pos_ = end;
  };
  // The end of a segment whose last terminal character ends at `j`: repeats and closers are
  // absorbed. npos: the next character is needed first.
  auto absorb = [&](size_t j) -> size_t {
    while (j < limit) {
      const std::string_view c = char_at(j);
      if (!is_terminal(c) && !is_closer(c)) return j;
      j += c.size();
    }
    return final ? j : std::string::npos;
  };
  auto weight = [&](size_t end) {
    int w = 0;
    for (size_t i = start_; i < end;) {
      const std::string_view c = char_at(i);
      if (is_cjk_char(c))
        w += 2;
      else if (!is_space(c))
        w += 1;
      i += c.size();
    }
    return w;
  };
  while (pos_ < limit) {
    const std::string_view c = char_at(pos_);
    const size_t next = pos_ + c.size();
    if (c == "\n") {
      emit(next);
      continue;
    }
    if (is_terminal(c)) {
      const size_t end = absorb(next);
      if (end == std::string::npos) break;  // wait for the next character
      emit(end);
      continue;
    }
    if (c == ".") {
      if (next >= limit && !final) break;  // decimal point, ellipsis or sentence end: need the next char
      const bool ellipsis = (pos_ > 0 && buf_[pos_ - 1] == '.') || (next < limit && buf_[next] == '.');
      const bool followed_ok =
          next >= limit || is_space(char_at(next)) || is_closer(char_at(next)) || is_cjk_char(char_at(next));
      if (!ellipsis && followed_ok && !ends_with_abbreviation(std::string_view(buf_).substr(start_, pos_ - start_))) {
        const size_t end = absorb(next);
        if (end == std::string::npos) break;
        emit(end);
        continue;
      }
      pos_ = next;
      continue;
    }
    if (c == "，" || c == "、" || c == ",") {
      if (c == ",") {
        if (next >= limit && !final) break;
        if (next < limit && !is_space(char_at(next))) {
          pos_ = next;
          continue;
        }
      }
      if (weight(pos_) >= options_.clause_min_weight) {
        emit(next);
        continue;
      }
    }
    pos_ = next;
  }
  return out;
}

Result<TargetLanguage> parse_target_language(std::string_view s) {
  std::string l(s);
  for (char& c : l) c = char(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (l == "en" || l == "english" || l == "英文" || l == "英语") return TargetLanguage::kEnglish;
  if (l == "zh" || l == "chinese" || l == "zh-cn" || l == "中文" || l == "汉语") return TargetLanguage::kChinese;
  return Status::invalid_argument("target language \"" + std::string(s) + "\": expected en or zh");
}

std::string translation_system_prompt(TargetLanguage target) {
  return target == TargetLanguage::kEnglish
             ? "You are a translator. Translate each message from the user into English. Reply with the "
               "translation only, nothing else."
             : "你是翻译。把用户发来的每条消息翻译成简体中文。只输出译文，不要输出其他内容。";
}

Translator::Translator(const ChatModel& model, const TranslateOptions& options, std::unique_ptr<Session> session)
    : model_(model), options_(options), session_(std::move(session)) {
  messages_.push_back(ChatMessage("system", translation_system_prompt(options_.target)));
  for (const std::string& s : chat_stop_strings(model_.chat.format)) options_.generate.stop.push_back(s);
}

Result<std::unique_ptr<Translator>> Translator::create(const ChatModel& model, const TranslateOptions& options) {
  if (!model.model || !model.tokenizer) return Status::invalid_argument("translation needs a model (-m MODEL)");
  Result<std::unique_ptr<Session>> s = Session::create(*model.model, model.n_ctx, model.pool);
  if (!s.is_ok()) return s.status();
  return std::unique_ptr<Translator>(new Translator(model, options, std::move(*s)));
}

std::string Translator::render(bool add_generation_prompt) const {
  ChatRequest request;
  request.messages = messages_;
  request.add_generation_prompt = add_generation_prompt;
  return render_conversation(model_.chat, request).text;
}

int64_t Translator::tokens_in_session() const { return session_->n_past(); }

Result<SegmentTranslation> Translator::translate(std::string_view segment, const TextCallback& on_text) {
  const auto t0 = std::chrono::steady_clock::now();
  SegmentTranslation out;
  out.source = trim(segment);
  if (out.source.empty()) return out;
  if (const size_t bad = store::find_invalid_utf8(out.source); bad != std::string::npos)
    return Status::invalid_argument("the text to translate is not valid UTF-8 (byte " + std::to_string(bad) +
                                    " of segment \"" +
                                    std::string(store::utf8_prefix(out.source, std::min<size_t>(bad, 40))) + "...\")");
  messages_.push_back(ChatMessage("user", out.source));
  const Tokenizer& tok = *model_.tokenizer;
  const int64_t n_ctx = session_->n_ctx();
  const int64_t room = options_.generate.max_tokens;
  std::string full = render(true);
  std::vector<TokenId> delta;
  const bool warm = !evaluated_.empty() && full.compare(0, evaluated_.size(), evaluated_) == 0;
  if (warm) delta = tok.encode(std::string_view(full).substr(evaluated_.size()), false, true);
  if (!warm || session_->n_past() + int64_t(delta.size()) + room > n_ctx) {
    // Cold start, or the context would overflow: restart from the system prompt and recent turns.
    if (warm) {
      out.restarted = true;
      const size_t keep = 1 + 4;  // the last two exchanges before this segment
      if (messages_.size() > 1 + keep + 1) messages_.erase(messages_.begin() + 1, messages_.end() - int64_t(keep + 1));
      full = render(true);
    }
    session_->reset();
    delta = tok.encode(full, true, true);
    if (int64_t(delta.size()) + room > n_ctx) {
      messages_.erase(messages_.begin() + 1, messages_.end() - 1);
      full = render(true);
      delta = tok.encode(full, true, true);
      if (int64_t(delta.size()) >= n_ctx) {
        messages_.pop_back();
        return Status::out_of_range("a segment of " + std::to_string(out.source.size()) +
                                    " bytes does not fit the context of " + std::to_string(n_ctx) + " tokens");
      }
    }
  }
  Result<GenerateResult> g = generate(*session_, tok, delta, options_.generate, on_text);
  if (!g.is_ok()) {
    messages_.pop_back();
    session_->reset();
    evaluated_.clear();
    return g.status();
  }
  out.translation = trim(g->text);
  messages_.push_back(ChatMessage("assistant", g->text));
  evaluated_ = full + g->text;
  out.n_prompt_tokens = int64_t(delta.size());
  out.n_generated_tokens = int64_t(g->tokens.size());
  out.generate_ms = g->generate_ms;
  out.ttft_ms = g->ttft_ms;
  out.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace pm::assistant
