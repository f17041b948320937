#include "server/openai.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace pm::server {
namespace {

Result<Json> parse_object(const std::string& body, ApiError& error) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    error = bad_request("", "the request body is not valid JSON");
    return Status::invalid_argument(error.message);
  }
  if (!j.is_object()) {
    error = bad_request("", "the request body must be a JSON object");
    return Status::invalid_argument(error.message);
  }
  return j;
}

// Each helper sets `error` and returns false on a bad field.
bool get_string(const Json& j, const char* key, std::string& out, ApiError& error, bool required = false) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) error = bad_request(key, std::string("'") + key + "' is required");
    return !required;
  }
  if (!it->is_string()) {
    error = bad_request(key, std::string("'") + key + "' must be a string");
    return false;
  }
  out = it->get<std::string>();
  return true;
}

bool get_number(const Json& j, const char* key, float lo, float hi, float& out, ApiError& error) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number()) {
    error = bad_request(key, std::string("'") + key + "' must be a number");
    return false;
  }
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "'%s' must be between %g and %g", key, double(lo), double(hi));
    error = bad_request(key, buf);
    return false;
  }
  out = float(v);
  return true;
}

bool get_bool(const Json& j, const char* key, bool& out, ApiError& error) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_boolean()) {
    error = bad_request(key, std::string("'") + key + "' must be true or false");
    return false;
  }
  out = it->get<bool>();
  return true;
}

bool parse_sampling(const Json& j, SamplingFields& s, ApiError& error) {
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 1000000) {
      error = bad_request(key, std::string("'") + key + "' must be an integer from 1 to 1000000");
      return false;
    }
    s.max_tokens = int32_t(it->get<int64_t>());
  }
  if (!get_number(j, "temperature", 0, 2, s.temperature, error)) return false;
  if (!get_number(j, "top_p", 0, 1, s.top_p, error)) return false;
  if (!get_number(j, "presence_penalty", -2, 2, s.presence_penalty, error)) return false;
  if (!get_number(j, "frequency_penalty", -2, 2, s.frequency_penalty, error)) return false;
  if (!get_bool(j, "ignore_eos", s.ignore_eos, error)) return false;
  if (auto it = j.find("seed"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) {
      error = bad_request("seed", "'seed' must be an integer");
      return false;
    }
    s.seed = it->is_number_unsigned() ? it->get<uint64_t>() : uint64_t(it->get<int64_t>());
  }
  if (auto it = j.find("n"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() != 1) {
      error = bad_request("n", "only 'n': 1 is supported");
      return false;
    }
  }
  if (auto it = j.find("stop"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      s.stop = {it->get<std::string>()};
    } else if (it->is_array() && it->size() <= 4) {
      for (const Json& e : *it) {
        if (!e.is_string() || e.get<std::string>().empty()) {
          error = bad_request("stop", "'stop' entries must be non-empty strings");
          return false;
        }
        s.stop.push_back(e.get<std::string>());
      }
    } else {
      error = bad_request("stop", "'stop' must be a string or an array of at most 4 strings");
      return false;
    }
    for (const auto& st : s.stop)
      if (st.empty()) {
        error = bad_request("stop", "'stop' must not be empty");
        return false;
      }
  }
  return true;
}

bool parse_stream(const Json& j, bool& stream, bool& include_usage, ApiError& error) {
  if (!get_bool(j, "stream", stream, error)) return false;
  if (auto it = j.find("stream_options"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) {
      error = bad_request("stream_options", "'stream_options' must be an object");
      return false;
    }
    if (!get_bool(*it, "include_usage", include_usage, error)) {
      error.param = "stream_options.include_usage";
      return false;
    }
  }
  return true;
}

Status fail(const ApiError& e) { return Status::invalid_argument(e.message); }

}  // namespace

Json error_json(const ApiError& e) {
  Json err = {{"message", e.message}, {"type", e.type}};
  err["param"] = e.param.empty() ? Json(nullptr) : Json(e.param);
  err["code"] = e.code.empty() ? Json(nullptr) : Json(e.code);
  return Json{{"error", err}};
}

ApiError bad_request(std::string param, std::string message) {
  ApiError e;
  e.http_status = 400;
  e.param = std::move(param);
  e.message = std::move(message);
  return e;
}

Result<ChatCompletionRequest> parse_chat_request(const std::string& body, ApiError& error) {
  PM_ASSIGN_OR_RETURN(Json j, parse_object(body, error));
  ChatCompletionRequest r;
  if (!get_string(j, "model", r.model, error)) return fail(error);
  auto msgs = j.find("messages");
  if (msgs == j.end() || !msgs->is_array() || msgs->empty()) {
    error = bad_request("messages", "'messages' must be a non-empty array");
    return fail(error);
  }
  for (size_t i = 0; i < msgs->size(); ++i) {
    const Json& m = (*msgs)[i];
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      error = bad_request(param, param + " must be an object with a string 'role'");
      return fail(error);
    }
    const std::string role = m["role"].get<std::string>();
    if (role != "system" && role != "user" && role != "assistant" && role != "tool" && role != "developer") {
      error = bad_request(param + ".role", param + ".role: unknown role \"" + role + "\"");
      return fail(error);
    }
  }
  Json fixed = *msgs;
  for (Json& m : fixed)
    if (m["role"] == "developer") m["role"] = "system";
  Result<std::vector<ChatMessage>> parsed = chat_messages_from_json(fixed);
  if (!parsed.is_ok()) {
    error = bad_request("messages", parsed.status().message());
    return fail(error);
  }
  r.messages = std::move(*parsed);
  if (auto it = j.find("tools"); it != j.end() && !it->is_null()) {
    // pocketmind extension: "registered" offers the tools apps registered (/v1/pocketmind/tools).
    if (it->is_string() && *it == "registered") {
      r.tools = *it;
    } else if (!it->is_array()) {
      error = bad_request("tools", "'tools' must be an array (or \"registered\": the registered tools)");
      return fail(error);
    } else if (!it->empty()) {
      r.tools = *it;
    }
  }
  if (auto it = j.find("tool_choice"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      const std::string c = it->get<std::string>();
      if (c == "auto")
        r.tool_choice = ChatCompletionRequest::ToolChoice::kAuto;
      else if (c == "none")
        r.tool_choice = ChatCompletionRequest::ToolChoice::kNone;
      else if (c == "required")
        r.tool_choice = ChatCompletionRequest::ToolChoice::kRequired;
      else {
        error = bad_request("tool_choice", "'tool_choice' must be \"auto\", \"none\", \"required\" or a function");
        return fail(error);
      }
    } else if (it->is_object() && it->contains("function") && (*it)["function"].is_object() &&
               (*it)["function"].contains("name") && (*it)["function"]["name"].is_string()) {
      r.tool_choice = ChatCompletionRequest::ToolChoice::kRequired;
      r.tool_choice_name = (*it)["function"]["name"].get<std::string>();
    } else {
      error = bad_request("tool_choice",
                          "'tool_choice' must be \"auto\", \"none\", \"required\" or "
                          "{\"type\": \"function\", \"function\": {\"name\": ...}}");
      return fail(error);
    }
    if (r.tool_choice != ChatCompletionRequest::ToolChoice::kNone &&
        r.tool_choice != ChatCompletionRequest::ToolChoice::kAuto && r.tools.is_null()) {
      error = bad_request("tool_choice", "'tool_choice' asks for a tool call but 'tools' is empty");
      return fail(error);
    }
  }
  if (auto it = j.find("response_format"); it != j.end() && !it->is_null()) {
    const Json& f = *it;
    if (!f.is_object() || !f.contains("type") || !f["type"].is_string()) {
      error = bad_request("response_format", "'response_format' must be an object with a 'type'");
      return fail(error);
    }
    const std::string type = f["type"].get<std::string>();
    if (type == "json_schema") {
      if (!f.contains("json_schema") || !f["json_schema"].is_object() || !f["json_schema"].contains("schema") ||
          !f["json_schema"]["schema"].is_object()) {
        error =
            bad_request("response_format.json_schema.schema", "'response_format.json_schema.schema' must be an object");
        return fail(error);
      }
      r.json_schema = f["json_schema"]["schema"];
    } else if (type == "json_object") {
      r.json_object = true;
    } else if (type != "text") {
      error = bad_request("response_format.type", "'response_format.type' must be text, json_object or json_schema");
      return fail(error);
    }
  }
  if (!parse_sampling(j, r.sampling, error)) return fail(error);
  if (!parse_stream(j, r.stream, r.include_usage, error)) return fail(error);
  if (auto it = j.find("pocketmind"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) {
      error = bad_request("pocketmind", "'pocketmind' must be an object");
      return fail(error);
    }
    if (!get_string(*it, "route", r.route, error) || (!r.route.empty() && r.route != "local" && r.route != "cloud")) {
      error = bad_request("pocketmind.route", "'pocketmind.route' must be \"local\" or \"cloud\"");
      return fail(error);
    }
    if (auto s = it->find("sources"); s != it->end() && !s->is_null()) {
      if (!s->is_array()) {
        error = bad_request("pocketmind.sources", "'pocketmind.sources' must be an array of source names");
        return fail(error);
      }
      for (const Json& e : *s) {
        if (!e.is_string()) {
          error = bad_request("pocketmind.sources", "'pocketmind.sources' must be an array of source names");
          return fail(error);
        }
        r.personal_sources.push_back(e.get<std::string>());
      }
    }
  }
  return r;
}

Result<CompletionRequest> parse_completion_request(const std::string& body, ApiError& error) {
  PM_ASSIGN_OR_RETURN(Json j, parse_object(body, error));
  CompletionRequest r;
  if (!get_string(j, "model", r.model, error)) return fail(error);
  auto p = j.find("prompt");
  if (p != j.end() && p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    r.prompt = (*p)[0].get<std::string>();
  } else if (p != j.end() && p->is_string()) {
    r.prompt = p->get<std::string>();
  } else {
    error = bad_request("prompt", "'prompt' must be a string (or an array of one string)");
    return fail(error);
  }
  if (r.prompt.empty()) {
    error = bad_request("prompt", "'prompt' is empty");
    return fail(error);
  }
  r.sampling.max_tokens = 16;  // OpenAI's default for completions
  if (!parse_sampling(j, r.sampling, error)) return fail(error);
  if (!parse_stream(j, r.stream, r.include_usage, error)) return fail(error);
  return r;
}

Result<EmbeddingRequest> parse_embedding_request(const std::string& body, ApiError& error) {
  PM_ASSIGN_OR_RETURN(Json j, parse_object(body, error));
  EmbeddingRequest r;
  if (!get_string(j, "model", r.model, error)) return fail(error);
  auto in = j.find("input");
  if (in != j.end() && in->is_string()) {
    r.input.push_back(in->get<std::string>());
  } else if (in != j.end() && in->is_array() && !in->empty() && in->size() <= 2048) {
    for (const Json& e : *in) {
      if (!e.is_string()) {
        error =
            bad_request("input", "'input' must be a string or an array of strings (token arrays are not supported)");
        return fail(error);
      }
      r.input.push_back(e.get<std::string>());
    }
  } else {
    error = bad_request("input", "'input' must be a string or an array of 1 to 2048 strings");
    return fail(error);
  }
  for (const auto& s : r.input)
    if (s.empty()) {
      error = bad_request("input", "'input' must not contain empty strings");
      return fail(error);
    }
  if (auto f = j.find("encoding_format"); f != j.end() && !f->is_null() && *f != "float") {
    error = bad_request("encoding_format", "only 'encoding_format': \"float\" is supported");
    return fail(error);
  }
  return r;
}

GenerateOptions generate_options(const SamplingFields& s) {
  GenerateOptions o;
  o.max_tokens = s.max_tokens;
  o.sampler.temperature = s.temperature;
  o.sampler.top_p = s.top_p;
  o.sampler.top_k = 0;
  o.sampler.min_p = 0;
  o.sampler.presence_penalty = s.presence_penalty;
  o.sampler.frequency_penalty = s.frequency_penalty;
  static std::atomic<uint64_t> counter{0};
  o.sampler.seed =
      s.seed ? *s.seed : uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) + counter.fetch_add(1);
  o.stop = s.stop;
  o.stop_at_eog = !s.ignore_eos;
  return o;
}

const char* openai_finish_reason(FinishReason r, bool has_tool_calls) {
  if (has_tool_calls) return "tool_calls";
  switch (r) {
    case FinishReason::kLength:
    case FinishReason::kContextFull:
      return "length";
    default:
      return "stop";
  }
}

std::string sse_event(const Json& j) { return "data: " + j.dump() + "\n\n"; }

std::string new_id(const std::string& prefix) {
  static std::atomic<uint64_t> counter{0};
  const uint64_t t = uint64_t(std::chrono::system_clock::now().time_since_epoch().count());
  char buf[48];
  std::snprintf(buf, sizeof buf, "%016llx%04llx", (unsigned long long)t,
                (unsigned long long)(counter.fetch_add(1) & 0xffff));
  return prefix + buf;
}

}  // namespace pm::server
