#include "server/cloud.h"

#include <httplib.h>

#include <algorithm>

namespace pm::server {

RouteDecision decide_route(const CloudConfig& cloud, const ChatCompletionRequest& r, int64_t prompt_tokens,
                           int64_t local_n_ctx) {
  RouteDecision d;
  std::string why;
  if (r.route == "local") return {false, "app asked for local"};
  if (r.route == "cloud")
    why = "app asked for the cloud";
  else if (prompt_tokens + r.sampling.max_tokens > local_n_ctx)
    why = "context too long for the local model (" + std::to_string(prompt_tokens) + " prompt tokens)";
  else
    return {false, "local"};
  if (!cloud.enabled()) return {false, why + ", but no cloud is configured"};
  for (const std::string& s : r.personal_sources)
    if (std::find(cloud.allowed_sources.begin(), cloud.allowed_sources.end(), s) == cloud.allowed_sources.end())
      return {false, why + ", but it carries personal data from \"" + s + "\", which is not enabled for the cloud"};
  return {true, why};
}

Result<Json> forward_chat(const CloudConfig& cloud, const Json& body) {
  // Split "scheme://host:port/base" into the origin and the base path.
  std::string origin = cloud.url, base;
  const size_t scheme = origin.find("://");
  const size_t slash = origin.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash != std::string::npos) {
    base = origin.substr(slash);
    origin.resize(slash);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string path =
      (base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0 ? base : base + "/v1") + "/chat/completions";
  httplib::Client client(origin);
  if (!client.is_valid()) return Status::invalid_argument("cloud: cannot use the URL \"" + cloud.url + "\"");
  client.set_connection_timeout(cloud.connect_timeout_ms / 1000, (cloud.connect_timeout_ms % 1000) * 1000);
  client.set_read_timeout(cloud.read_timeout_ms / 1000, (cloud.read_timeout_ms % 1000) * 1000);
  client.set_write_timeout(cloud.read_timeout_ms / 1000, (cloud.read_timeout_ms % 1000) * 1000);
  httplib::Headers headers;
  if (!cloud.api_key.empty()) headers.emplace("Authorization", "Bearer " + cloud.api_key);
  auto res = client.Post(path, headers, body.dump(), "application/json");
  if (!res) return Status::io_error("cloud: " + cloud.url + ": " + httplib::to_string(res.error()));
  if (res->status != 200)
    return Status::io_error("cloud: " + cloud.url + " answered HTTP " + std::to_string(res->status));
  Json j = Json::parse(res->body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty())
    return Status::corrupt("cloud: " + cloud.url + " did not answer with a chat completion");
  return j;
}

}  // namespace pm::server
