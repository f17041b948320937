// Cloud fallback: an OpenAI-compatible remote endpoint (a vLLM or llama.cpp server, or another
// pocketmind) that takes the chat requests the local model should not: a context longer than a
// local slot holds, or an app that asks for it ("pocketmind": {"route": "cloud"}).
// Privacy rule: a request that carries personal data from the store (its "pocketmind.sources")
// is forwarded only when the user enabled every one of those sources (--cloud-sources).
// The remote is called with connect / read timeouts; any failure means a local answer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/openai.h"

namespace pm::server {

struct CloudConfig {
  std::string url;    // "http://host:port" or "http://host:port/v1"; "" = no cloud
  std::string model;  // the remote's model name (replaces the request's "model")
  std::string api_key;
  std::vector<std::string> allowed_sources;  // personal-data sources that may be sent
  int connect_timeout_ms = 2000;
  int read_timeout_ms = 60000;
  bool enabled() const { return !url.empty(); }
};

// Why a request goes (or does not go) to the cloud.
struct RouteDecision {
  bool cloud = false;
  std::string reason;  // "app asked", "context too long", "source sms not enabled for the cloud", ...
};
RouteDecision decide_route(const CloudConfig& cloud, const ChatCompletionRequest& request, int64_t prompt_tokens,
                           int64_t local_n_ctx);

// Posts the request body (already rewritten: model, no stream, no extension fields) to the remote's
// /v1/chat/completions. The reply when it is 200 and a chat completion; else an error saying why.
Result<Json> forward_chat(const CloudConfig& cloud, const Json& body);

}  // namespace pm::server
