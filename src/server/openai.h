// The OpenAI wire format: request parsing with errors that name the field, response and stream
// chunk building, Server-Sent Events framing ("data: {...}\n\n", ended by "data: [DONE]\n\n"),
// and error objects {"error": {"message", "type", "param", "code"}}.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "generate/chat_template.h"
#include "generate/generator.h"

namespace pm::server {

using Json = nlohmann::ordered_json;

// An error for the client: HTTP status and OpenAI's error object.
struct ApiError {
  int http_status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the offending field ("" = none)
  std::string code;   // machine-readable ("" = none)
};
Json error_json(const ApiError& e);
ApiError bad_request(std::string param, std::string message);

// Sampling and stopping fields shared by /v1/chat/completions and /v1/completions.
struct SamplingFields {
  int32_t max_tokens = 256;
  float temperature = 1.0f;  // OpenAI's default
  float top_p = 1.0f;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;  // at most 4
  float presence_penalty = 0, frequency_penalty = 0;
  bool ignore_eos = false;  // extension (llama.cpp's name): keep going past end-of-generation tokens
};

struct ChatCompletionRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  Json tools;  // null when none; the string "registered" until the server expands it
  enum class ToolChoice { kAuto, kNone, kRequired } tool_choice = ToolChoice::kAuto;
  std::string tool_choice_name;     // {"type":"function","function":{"name":...}}: only that tool, forced
  std::optional<Json> json_schema;  // response_format json_schema: the schema
  bool json_object = false;         // response_format json_object
  SamplingFields sampling;
  bool stream = false;
  bool include_usage = false;                 // stream_options.include_usage
  std::string route;                          // extension "pocketmind": {"route": "local"|"cloud"}; "" = automatic
  std::vector<std::string> personal_sources;  // extension "pocketmind": {"sources": [...]}: personal data it carries
};

struct CompletionRequest {
  std::string model;
  std::string prompt;
  SamplingFields sampling;
  bool stream = false;
  bool include_usage = false;
};

struct EmbeddingRequest {
  std::string model;
  std::vector<std::string> input;
};

// Parse a request body (JSON). Errors are 400 with `param` set to the field.
Result<ChatCompletionRequest> parse_chat_request(const std::string& body, ApiError& error);
Result<CompletionRequest> parse_completion_request(const std::string& body, ApiError& error);
Result<EmbeddingRequest> parse_embedding_request(const std::string& body, ApiError& error);

// GenerateOptions from the sampling fields (stop strings of the chat format are added by the caller).
GenerateOptions generate_options(const SamplingFields& s);
// "stop" | "length" | "tool_calls" | "content_filter" from our finish reason.
const char* openai_finish_reason(FinishReason r, bool has_tool_calls);

// One SSE event.
std::string sse_event(const Json& j);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

// Random-looking ids: "chatcmpl-..." / "cmpl-..." / "call_...".
std::string new_id(const std::string& prefix);

}  // namespace pm::server
