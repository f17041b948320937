#include "server/server.h"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "assistant/answer.h"
#include "assistant/automation/rule.h"
#include "assistant/automation/rule_parser.h"
#include "assistant/automation/rule_store.h"
#include "assistant/automation/tool_store.h"
#include "assistant/translate.h"
#include "generate/grammar/engine_cache.h"
#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"
#include "generate/tool_calls.h"
#include "store/record.h"
#include "store/search.h"
#include "store/time_util.h"
#include "store/utf8.h"

namespace pm::server {
namespace {

const char* kJson = "application/json";

void send_json(httplib::Response& res, int status, const Json& j) {
  res.status = status;
  res.set_content(j.dump(), kJson);
}

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.http_status;
  res.set_content(error_json(e).dump(), kJson);
}

ApiError api_error(int status, std::string type, std::string message, std::string code = "") {
  ApiError e;
  e.http_status = status;
  e.type = std::move(type);
  e.message = std::move(message);
  e.code = std::move(code);
  return e;
}

// A scheduler refusal as an HTTP answer: 429 when full, 503 when shutting down, 400 otherwise.
void send_submit_error(httplib::Response& res, const Status& st) {
  if (st.code() == StatusCode::kResourceExhausted) {
    res.set_header("Retry-After", "1");
    send_error(res, api_error(429, "rate_limit_error", st.message(), "queue_full"));
  } else if (st.code() == StatusCode::kCancelled) {
    send_error(res, api_error(503, "server_error", st.message(), "shutting_down"));
  } else if (st.code() == StatusCode::kOutOfRange) {
    send_error(res, api_error(400, "invalid_request_error", st.message(), "context_length_exceeded"));
  } else {
    send_error(res, api_error(400, "invalid_request_error", st.message()));
  }
}

std::string iso_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Json usage_json(int64_t prompt, int64_t completion, int64_t cached) {
  return Json{{"prompt_tokens", prompt},
              {"completion_tokens", completion},
              {"total_tokens", prompt + completion},
              {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

Json tool_calls_json(const std::vector<ParsedToolCall>& calls) {
  Json out = Json::array();
  for (const auto& c : calls)
    out.push_back({{"id", new_id("call_")},
                   {"type", "function"},
                   {"function", {{"name", c.name}, {"arguments", c.arguments.dump()}}}});
  return out;
}

}  // namespace

int64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long long size = 0, rss = 0;
  const int n = std::fscanf(f, "%lld %lld", &size, &rss);
  std::fclose(f);
  return n == 2 ? rss * int64_t(sysconf(_SC_PAGESIZE)) : 0;
}

Result<std::unique_ptr<Server>> Server::create(const ServerConfig& config, const ServedModel& served) {
  if (!config.allow_remote && !is_loopback(config.host))
    return Status::invalid_argument("--host " + config.host +
                                    ": binding a non-loopback address exposes the API to the network; "
                                    "add --allow-remote to do it on purpose");
  if (config.db_dir.empty())
    return Status::invalid_argument("--db DIR is required: the apps allowed to call the server live there");
  if (config.port < 0 || config.port > 65535)
    return Status::invalid_argument("--port must be 0..65535, got " + std::to_string(config.port));
  std::unique_ptr<Server> s(new Server());
  s->config_ = config;
  s->served_ = served;
  // The store first (it checks the passphrase, or makes a new store encrypted); then the same page
  // key, unlocked once, for the files beside it: apps, automation rules, the access log.
  store::StoreOptions store_options;
  store_options.passphrase = config.store_passphrase;
  PM_ASSIGN_OR_RETURN(s->store_, store::Store::open(config.db_dir, store_options));
  PM_ASSIGN_OR_RETURN(s->side_key_, app_registry_key(config.db_dir, config.store_passphrase));
  PM_ASSIGN_OR_RETURN(s->apps_, AppRegistry::open(config.db_dir, s->side_key_));
  Result<std::unique_ptr<AccessLog>> log = AccessLog::open(config.db_dir, s->side_key_);
  if (log.is_ok()) {
    s->access_log_ = std::move(*log);
  } else if (s->side_key_) {
    return log.status();  // never fall back to writing an encrypted store's log in the clear
  } else {
    std::fprintf(stderr, "pocketmind serve: %s (access log only on stderr)\n", log.status().message().c_str());
  }
  if (served.model != nullptr) {
    if (served.tokenizer == nullptr)
      return Status::invalid_argument("the model has no tokenizer: it cannot serve text");
    PM_ASSIGN_OR_RETURN(s->scheduler_,
                        Scheduler::create(*served.model, *served.tokenizer, served.pool, config.scheduler));
  }
  s->http_ = std::make_unique<httplib::Server>();
  const int threads = config.http_threads;
  s->http_->new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  s->http_->set_payload_max_length(config.max_body_bytes);
  s->http_->set_read_timeout(30, 0);
  s->started_unix_ = int64_t(std::time(nullptr));
  s->routes();
  return s;
}

Server::~Server() {
  stop();
  if (scheduler_) scheduler_->shutdown();
}

Status Server::bind() {
  if (config_.port == 0) {
    port_ = http_->bind_to_any_port(config_.host);
  } else {
    port_ = http_->bind_to_port(config_.host, config_.port) ? config_.port : -1;
  }
  if (port_ <= 0)
    return Status::io_error("cannot listen on " + config_.host + ":" + std::to_string(config_.port) +
                            " (in use, or not an address of this machine)");
  return Status::ok();
}

void Server::run() { http_->listen_after_bind(); }

void Server::stop() {
  if (scheduler_) scheduler_->shutdown();  // running streams end, so the HTTP threads can finish
  if (http_) http_->stop();
}

void Server::log_access(const std::string& line) {
  std::lock_guard<std::mutex> lock(log_mu_);
  std::fprintf(stderr, "pocketmind serve: %s\n", line.c_str());
  if (access_log_) {
    Status st = access_log_->append(iso_now(), line);
    if (!st.is_ok()) std::fprintf(stderr, "pocketmind serve: %s\n", st.message().c_str());
  }
}

void Server::deny(const httplib::Request& req, httplib::Response& res, int status, const std::string& app,
                  const std::string& reason) {
  log_access("denied " + std::to_string(status) + " " + req.method + " " + req.path + " from " + req.remote_addr +
             (app.empty() ? "" : " app=" + app) + ": " + reason);
  send_error(res, api_error(status, status == 401 ? "authentication_error" : "permission_error", reason,
                            status == 401 ? "invalid_api_key" : "insufficient_scope"));
}

bool Server::authorize(const httplib::Request& req, httplib::Response& res, const std::string& scope, AppInfo& app) {
  const std::string h = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (h.empty()) {
    deny(req, res, 401, "", "missing bearer token (Authorization: Bearer pm-...; create one with pocketmind apps add)");
    return false;
  }
  if (h.size() <= prefix.size() || h.compare(0, prefix.size(), prefix) != 0) {
    deny(req, res, 401, "", "the Authorization header must be \"Bearer <token>\"");
    return false;
  }
  Result<std::optional<AppInfo>> found = apps_->authenticate(h.substr(prefix.size()));
  if (!found.is_ok()) {
    send_error(res, api_error(500, "server_error", found.status().message()));
    return false;
  }
  if (!*found) {
    deny(req, res, 401, "", "unknown token");
    return false;
  }
  app = std::move(**found);
  if (!scope.empty() && !has_scope(app.scopes, scope)) {
    deny(req, res, 403, app.name, "app \"" + app.name + "\" lacks the scope \"" + scope + "\"");
    return false;
  }
  return true;
}

Result<std::shared_ptr<GrammarEngine>> Server::json_engine(const Json& schema) {
  PM_ASSIGN_OR_RETURN(std::string gbnf, json_schema_value_to_gbnf(schema));
  return grammar_cache()->get(gbnf);
}

GrammarCache* Server::grammar_cache() {
  std::lock_guard<std::mutex> lock(grammar_mu_);
  if (!grammars_) grammars_ = std::make_unique<GrammarCache>(*served_.tokenizer);
  return grammars_.get();
}

void Server::routes() {
  httplib::Server& h = *http_;
  h.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, api_error(500, "server_error", what));
  });
  h.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    Json j = {{"status", "ok"}, {"model", served_.model || served_.embedder ? config_.model_name : ""}};
    if (scheduler_) {
      const SchedulerMetrics m = scheduler_->metrics();
      j["slots"] = m.n_slots;
      j["active_slots"] = m.active_slots;
    }
    send_json(res, 200, j);
  });
  h.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) { metrics(req, res); });
  h.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
    AppInfo app;
    if (!authorize(req, res, "", app)) return;
    Json data = Json::array();
    if (served_.model || served_.embedder)
      data.push_back(
          {{"id", config_.model_name}, {"object", "model"}, {"created", started_unix_}, {"owned_by", "pocketmind"}});
    send_json(res, 200, {{"object", "list"}, {"data", data}});
  });
  h.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { chat(req, res); });
  h.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { completion(req, res); });
  h.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) { embeddings(req, res); });
  h.Post("/v1/pocketmind/ingest", [this](const httplib::Request& req, httplib::Response& res) { ingest(req, res); });
  h.Post("/v1/pocketmind/search", [this](const httplib::Request& req, httplib::Response& res) { search(req, res); });
  h.Post("/v1/pocketmind/forget", [this](const httplib::Request& req, httplib::Response& res) { forget(req, res); });
  h.Post("/v1/pocketmind/ask", [this](const httplib::Request& req, httplib::Response& res) { ask(req, res); });
  h.Get("/v1/pocketmind/automations", [this](const httplib::Request& req, httplib::Response& res) { automations(req, res); });
  h.Post("/v1/pocketmind/automations/parse",
         [this](const httplib::Request& req, httplib::Response& res) { automations(req, res); });
  h.Post("/v1/pocketmind/translate",
         [this](const httplib::Request& req, httplib::Response& res) { translate(req, res); });
  h.Get("/v1/pocketmind/tools", [this](const httplib::Request& req, httplib::Response& res) { tools(req, res); });
  h.Post("/v1/pocketmind/tools", [this](const httplib::Request& req, httplib::Response& res) { tools(req, res); });
  h.Delete(R"(/v1/pocketmind/tools/([^/]+))",
           [this](const httplib::Request& req, httplib::Response& res) { tools(req, res); });
  h.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404)
      send_error(res, api_error(404, "invalid_request_error", "no route " + req.method + " " + req.path, "not_found"));
    else if (res.status == 413)
      send_error(res, api_error(413, "invalid_request_error", "the request body is too large", "payload_too_large"));
    else
      send_error(res, api_error(res.status, "invalid_request_error", "HTTP " + std::to_string(res.status)));
  });
}

void Server::metrics(const httplib::Request& req, httplib::Response& res) {
  AppInfo app;
  if (!authorize(req, res, "", app)) return;
  Json j = {{"rss_bytes", resident_bytes()}};
  if (scheduler_) {
    const SchedulerMetrics m = scheduler_->metrics();
    j["queue_depth"] = m.queue_depth;
    j["active_slots"] = m.active_slots;
    j["slots"] = m.n_slots;
    j["requests_total"] = m.requests_total;
    j["rejected_total"] = m.rejected_total;
    j["generated_tokens_total"] = m.generated_tokens_total;
    j["prompt_tokens_evaluated_total"] = m.prompt_tokens_evaluated_total;
    j["prompt_tokens_cached_total"] = m.prompt_tokens_cached_total;
    j["tokens_per_s"] = m.decode_seconds_total > 0 ? double(m.generated_tokens_total) / m.decode_seconds_total : 0.0;
  }
  send_json(res, 200, j);
}

namespace {

// The state one streamed chat / completion keeps between writes.
struct StreamState {
  std::shared_ptr<Job> job;
  std::string id;
  int64_t created = 0;
  std::string model;
  bool chat = true;
  bool include_usage = false;
  // Tool calls: text and whole calls are split as the text arrives.
  std::vector<ToolSpec> tools;
  ToolCallSyntax syntax = ToolCallSyntax::kHermes;
  std::unique_ptr<ToolCallStream> tool_stream;
  std::string forced_opener;
  std::vector<std::string> events;  // SSE events not yet written
  int n_calls = 0;
};

Json chunk(const StreamState& s, Json delta, const Json& finish) {
  if (s.chat)
    return Json{{"id", s.id},
                {"object", "chat.completion.chunk"},
                {"created", s.created},
                {"model", s.model},
                {"choices", Json::array({Json{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish}}})}};
  return Json{
      {"id", s.id},
      {"object", "text_completion"},
      {"created", s.created},
      {"model", s.model},
      {"choices",
       Json::array({Json{
           {"index", 0}, {"text", delta.value("content", "")}, {"logprobs", nullptr}, {"finish_reason", finish}}})}};
}

void start_tool_stream(StreamState& s) {
  StreamState* sp = &s;
  s.tool_stream = std::make_unique<ToolCallStream>(s.syntax, &s.tools, [sp](const ToolStreamEvent& e) {
    if (!e.is_call) {
      if (!e.text.empty()) sp->events.push_back(sse_event(chunk(*sp, Json{{"content", e.text}}, nullptr)));
      return true;
    }
    Json call = {{"index", sp->n_calls++},
                 {"id", new_id("call_")},
                 {"type", "function"},
                 {"function", {{"name", e.call.name}, {"arguments", e.call.arguments.dump()}}}};
    sp->events.push_back(sse_event(chunk(*sp, Json{{"tool_calls", Json::array({call})}}, nullptr)));
    return true;
  });
  if (!s.forced_opener.empty()) (void)s.tool_stream->push(s.forced_opener);
}

// Writes the whole stream; returns false when the client went away (the job is then cancelled).
bool write_stream(StreamState& s, httplib::DataSink& sink) {
  auto write = [&](const std::string& text) {
    if (!sink.is_writable() || !sink.write(text.data(), text.size())) {
      s.job->cancel();
      return false;
    }
    return true;
  };
  auto flush = [&] {
    for (const std::string& e : s.events)
      if (!write(e)) return false;
    s.events.clear();
    return true;
  };
  if (s.chat && !write(sse_event(chunk(s, Json{{"role", "assistant"}, {"content", ""}}, nullptr)))) return false;
  std::string piece;
  for (;;) {
    const bool more = s.job->wait_text(piece, 200);
    if (!piece.empty()) {
      if (s.tool_stream)
        (void)s.tool_stream->push(piece);
      else
        s.events.push_back(sse_event(chunk(s, Json{{"content", piece}}, nullptr)));
      if (!flush()) return false;
    } else if (more && !sink.is_writable()) {
      s.job->cancel();  // the client went away while the model was quiet
      return false;
    }
    if (!more) break;
  }
  s.job->wait_done();
  if (s.tool_stream) (void)s.tool_stream->finish();
  if (!flush()) return false;
  if (!s.job->status().is_ok()) {
    ApiError e = api_error(500, "server_error", s.job->status().message());
    return write(sse_event(error_json(e))) && write(kSseDone);
  }
  const GenerateResult& r = s.job->result();
  if (!write(sse_event(chunk(s, Json::object(), openai_finish_reason(r.finish, s.n_calls > 0))))) return false;
  if (s.include_usage) {
    Json u = chunk(s, Json::object(), nullptr);
    u["choices"] = Json::array();
    u["usage"] = usage_json(r.n_prompt_tokens, int64_t(r.tokens.size()), s.job->n_prompt_cached());
    if (!write(sse_event(u))) return false;
  }
  return write(kSseDone);
}

void stream_job(httplib::Response& res, std::shared_ptr<StreamState> state) {
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [state](size_t, httplib::DataSink& sink) {
        write_stream(*state, sink);
        sink.done();
        return true;
      },
      [state](bool) { state->job->cancel(); });  // no-op when it already finished
}

}  // namespace

void Server::chat(const httplib::Request& req, httplib::Response& res) {
  AppInfo app;
  if (!authorize(req, res, "chat", app)) return;
  ApiError err;
  Result<ChatCompletionRequest> parsed = parse_chat_request(req.body, err);
  if (!parsed.is_ok()) return send_error(res, err);
  ChatCompletionRequest& r = *parsed;
  // Personal data an app declares it carries must be data it may read.
  for (const std::string& src : r.personal_sources)
    if (!has_scope(app.scopes, "search:" + src))
      return deny(
          req, res, 403, app.name,
          "app \"" + app.name + "\" sends personal data from \"" + src + "\" without the scope \"search:" + src + "\"");
  if (r.tools.is_string()) {  // "registered": the third-party tools of the tool registry, OpenAI-shaped
    Result<automation::ToolRegistry> registry = automation::load_tool_registry(config_.db_dir, side_key_);
    if (!registry.is_ok()) return send_error(res, api_error(500, "server_error", registry.status().message()));
    Json list = Json::array();
    for (const automation::ToolDef& t : registry->tools())
      if (!t.builtin)
        list.push_back({{"type", "function"},
                        {"function", {{"name", t.name}, {"description", t.description},
                                      {"parameters", Json::parse(t.schema.dump())}}}});
    if (list.empty())
      return send_error(res, bad_request("tools", "'tools' is \"registered\" but no tools are registered "
                                                  "(POST /v1/pocketmind/tools)"));
    r.tools = std::move(list);
  }
  if (!scheduler_ && !config_.cloud.enabled())
    return send_error(res, api_error(503, "server_error", "no chat model is loaded (serve -m MODEL)", "no_model"));

  ChatRequest cr;
  cr.messages = r.messages;
  const bool use_tools = !r.tools.is_null() && r.tool_choice != ChatCompletionRequest::ToolChoice::kNone;
  std::vector<ToolSpec> specs;
  if (use_tools) {
    Result<std::vector<ToolSpec>> t = parse_tools(r.tools);
    if (!t.is_ok()) return send_error(res, bad_request("tools", t.status().message()));
    specs = std::move(*t);
    if (!r.tool_choice_name.empty()) {
      std::vector<ToolSpec> only;
      for (const auto& sp : specs)
        if (sp.name == r.tool_choice_name) only.push_back(sp);
      if (only.empty())
        return send_error(res, bad_request("tool_choice", "'tool_choice' names \"" + r.tool_choice_name +
                                                              "\", which is not in 'tools'"));
      specs = std::move(only);
    }
    cr.tools = r.tools;
  }
  std::vector<TokenId> prompt;
  if (served_.tokenizer) {
    const RenderedChat rendered = render_conversation(served_.chat_template, cr);
    prompt = served_.tokenizer->encode(rendered.text, /*add_special=*/true, /*parse_special=*/true);
  }
  const int64_t local_ctx = scheduler_ ? scheduler_->n_ctx() : 0;
  const RouteDecision route = decide_route(config_.cloud, r, int64_t(prompt.size()), local_ctx);
  if (route.cloud) {
    Json body = Json::parse(req.body, nullptr, false);
    body.erase("pocketmind");
    body["stream"] = false;
    body.erase("stream_options");
    if (!config_.cloud.model.empty()) body["model"] = config_.cloud.model;
    Result<Json> remote = forward_chat(config_.cloud, body);
    if (remote.is_ok()) {
      log_access("app=" + app.name + " chat routed to the cloud: " + route.reason);
      res.set_header("X-Pocketmind-Route", "cloud");
      if (!r.stream) return send_json(res, 200, *remote);
      // The remote answered whole: send it as one stream.
      const Json& choice = (*remote)["choices"][0];
      Json delta = choice.contains("message") ? choice["message"] : Json::object();
      Json c = {
          {"id", remote->value("id", new_id("chatcmpl-"))},
          {"object", "chat.completion.chunk"},
          {"created", remote->value("created", int64_t(std::time(nullptr)))},
          {"model", remote->value("model", config_.cloud.model)},
          {"choices", Json::array({Json{
                          {"index", 0}, {"delta", delta}, {"finish_reason", choice.value("finish_reason", "stop")}}})}};
      std::string text = sse_event(c);
      if (r.include_usage && remote->contains("usage")) {
        Json u = c;
        u["choices"] = Json::array();
        u["usage"] = (*remote)["usage"];
        text += sse_event(u);
      }
      text += kSseDone;
      res.set_content(text, "text/event-stream");
      return;
    }
    log_access("app=" + app.name + " cloud failed, answering locally: " + remote.status().message());
    res.set_header("X-Pocketmind-Route-Fallback", remote.status().message());
  } else if (route.reason != "local") {
    res.set_header("X-Pocketmind-Route-Reason", route.reason);
  }
  res.set_header("X-Pocketmind-Route", "local");
  if (!scheduler_)
    return send_error(
        res, api_error(503, "server_error", "no local model is loaded and the cloud did not answer", "no_model"));

  auto job = std::make_shared<Job>();
  job->options = generate_options(r.sampling);
  for (const std::string& st : chat_stop_strings(served_.chat_template.format)) job->options.stop.push_back(st);
  std::string forced_opener;
  const ToolCallSyntax syntax = tool_call_syntax_for(served_.chat_template);
  if (use_tools) {
    // The same tool list on every request of an app: compiled once, its masks stay warm.
    Result<std::string> gbnf = tool_call_grammar(specs, syntax);
    Result<std::shared_ptr<GrammarEngine>> engine = gbnf.is_ok() ? grammar_cache()->get(*gbnf) : gbnf.status();
    if (!engine.is_ok()) return send_error(res, bad_request("tools", engine.status().message()));
    const std::string opener = tool_call_opener(syntax);
    job->options.grammar = *engine;
    job->options.grammar_triggers = {opener};
    job->options.render_special = syntax == ToolCallSyntax::kMistral;
    if (r.tool_choice == ChatCompletionRequest::ToolChoice::kRequired) {
      const std::vector<TokenId> more = served_.tokenizer->encode(opener, false, true);
      prompt.insert(prompt.end(), more.begin(), more.end());
      job->options.grammar_prefix = opener;
      forced_opener = opener;
    }
  } else if (r.json_schema || r.json_object) {
    Result<std::shared_ptr<GrammarEngine>> engine =
        json_engine(r.json_schema ? *r.json_schema : Json{{"type", "object"}});
    if (!engine.is_ok()) return send_error(res, bad_request("response_format", engine.status().message()));
    job->options.grammar = *engine;
  }
  if (served_.model->info().recurrent) {
    // Turn boundaries: the state after each earlier message is kept for the next request.
    for (size_t i = 1; i < cr.messages.size(); ++i) {
      ChatRequest head = cr;
      head.messages.resize(i);
      head.add_generation_prompt = false;
      const std::vector<TokenId> t =
          served_.tokenizer->encode(render_conversation(served_.chat_template, head).text, true, true);
      if (t.size() < prompt.size() && std::equal(t.begin(), t.end(), prompt.begin()))
        job->checkpoints.push_back(int64_t(t.size()));
    }
  }
  job->prompt = std::move(prompt);
  Status st = scheduler_->submit(job);
  if (!st.is_ok()) return send_submit_error(res, st);

  auto state = std::make_shared<StreamState>();
  state->job = job;
  state->id = new_id("chatcmpl-");
  state->created = int64_t(std::time(nullptr));
  state->model = r.model.empty() ? config_.model_name : r.model;
  state->include_usage = r.include_usage;
  state->tools = specs;
  state->syntax = syntax;
  state->forced_opener = forced_opener;
  if (r.stream) {
    if (use_tools) start_tool_stream(*state);
    return stream_job(res, state);
  }
  job->wait_done();
  if (!job->status().is_ok()) return send_error(res, api_error(500, "server_error", job->status().message()));
  const GenerateResult& g = job->result();
  Json message = {{"role", "assistant"}};
  bool has_calls = false;
  if (use_tools) {
    const ParsedToolOutput out = parse_tool_calls(forced_opener + g.text, syntax, &specs);
    message["content"] = out.content.empty() ? Json(nullptr) : Json(out.content);
    if (!out.calls.empty()) {
      message["tool_calls"] = tool_calls_json(out.calls);
      has_calls = true;
    }
  } else {
    message["content"] = g.text;
  }
  send_json(res, 200,
            {{"id", state->id},
             {"object", "chat.completion"},
             {"created", state->created},
             {"model", state->model},
             {"choices", Json::array({Json{{"index", 0},
                                           {"message", message},
                                           {"logprobs", nullptr},
                                           {"finish_reason", openai_finish_reason(g.finish, has_calls)}}})},
             {"usage", usage_json(g.n_prompt_tokens, int64_t(g.tokens.size()), job->n_prompt_cached())}});
}

void Server::completion(const httplib::Request& req, httplib::Response& res) {
  AppInfo app;
  if (!authorize(req, res, "completions", app)) return;
  ApiError err;
  Result<CompletionRequest> parsed = parse_completion_request(req.body, err);
  if (!parsed.is_ok()) return send_error(res, err);
  if (!scheduler_)
    return send_error(res, api_error(503, "server_error", "no text model is loaded (serve -m MODEL)", "no_model"));
  auto job = std::make_shared<Job>();
  job->options = generate_options(parsed->sampling);
  job->prompt = served_.tokenizer->encode(parsed->prompt, /*add_special=*/true, /*parse_special=*/false);
  Status st = scheduler_->submit(job);
  if (!st.is_ok()) return send_submit_error(res, st);
  auto state = std::make_shared<StreamState>();
  state->job = job;
  state->chat = false;
  state->id = new_id("cmpl-");
  state->created = int64_t(std::time(nullptr));
  state->model = parsed->model.empty() ? config_.model_name : parsed->model;
  state->include_usage = parsed->include_usage;
  if (parsed->stream) return stream_job(res, state);
  job->wait_done();
  if (!job->status().is_ok()) return send_error(res, api_error(500, "server_error", job->status().message()));
  const GenerateResult& g = job->result();
  Json out = chunk(*state, Json{{"content", g.text}}, openai_finish_reason(g.finish, false));
  out["usage"] = usage_json(g.n_prompt_tokens, int64_t(g.tokens.size()), job->n_prompt_cached());
  send_json(res, 200, out);
}

void Server::embeddings(const httplib::Request& req, httplib::Response& res) {
  AppInfo app;
  if (!authorize(req, res, "embeddings", app)) return;
  ApiError err;
  Result<EmbeddingRequest> parsed = parse_embedding_request(req.body, err);
  if (!parsed.is_ok()) return send_error(res, err);
  if (!served_.embedder)
    return send_error(
        res, api_error(503, "server_error", "no embedding model is loaded (serve -m an embedding model)", "no_model"));
  std::vector<float> vectors;
  Status st;
  {
    std::lock_guard<std::mutex> lock(store_mu_);  // one embedding batch at a time over the model's threads
    st = served_.embedder->embed(parsed->input, &vectors);
  }
  if (!st.is_ok()) return send_error(res, api_error(400, "invalid_request_error", st.message()));
  const size_t dim = size_t(served_.embedder->dim());
  Json data = Json::array();
  int64_t n_tokens = 0;
  for (size_t i = 0; i < parsed->input.size(); ++i) {
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", std::vector<float>(vectors.begin() + i * dim, vectors.begin() + (i + 1) * dim)}});
    n_tokens += int64_t(served_.embedder->tokenize(parsed->input[i]).size());
  }
  send_json(res, 200,
            {{"object", "list"},
             {"data", data},
             {"model", parsed->model.empty() ? config_.model_name : parsed->model},
             {"usage", {{"prompt_tokens", n_tokens}, {"total_tokens", n_tokens}}}});
}

void Server::ingest(const httplib::Request& req, httplib::Response& res) {
  AppInfo app;
  if (!authorize(req, res, "", app)) return;
  // One record per line (JSON Lines), or a JSON array of records.
  std::vector<std::string> lines;
  const Json whole = Json::parse(req.body, nullptr, false);
  if (!whole.is_discarded() && whole.is_array()) {
    for (const Json& r : whole) lines.push_back(r.dump());
  } else {
    size_t start = 0;
    while (start < req.body.size()) {
      size_t end = req.body.find('\n', start);
      if (end == std::string::npos) end = req.body.size();
      std::string line = req.body.substr(start, end - start);
      if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(std::move(line));
      start = end + 1;
    }
  }
  if (lines.empty())
    return send_error(res, bad_request("body", "no records: send JSON Lines or a JSON array of records"));
  std::vector<store::Record> records;
  for (size_t i = 0; i < lines.size(); ++i) {
    Result<store::Record> rec = store::parse_record(lines[i]);
    if (!rec.is_ok())
      return send_error(res, bad_request("records[" + std::to_string(i) + "]",
                                         "record " + std::to_string(i + 1) + ": " + rec.status().message()));
    if (!has_scope(app.scopes, "write:" + rec->source))
      return deny(req, res, 403, app.name,
                  "app \"" + app.name + "\" lacks the scope \"write:" + rec->source + "\" (record " + rec->id + ")");
    records.push_back(std::move(*rec));
  }
  int64_t added = 0, replaced = 0, unchanged = 0;
  std::lock_guard<std::mutex> lock(store_mu_);
  Status st = store_->begin();
  for (size_t i = 0; st.is_ok() && i < records.size(); ++i) {
    Result<store::UpsertOutcome> o = store_->upsert(records[i], "api:" + app.name);
    if (!o.is_ok()) {
      st = o.status();
      break;
    }
    if (*o == store::UpsertOutcome::kAdded)
      ++added;
    else if (*o == store::UpsertOutcome::kReplaced)
      ++replaced;
    else
      ++unchanged;
  }
  if (st.is_ok()) st = store_->commit();
  if (!st.is_ok()) {
    (void)store_->rollback();
    return send_error(res, api_error(500, "server_error", st.message()));
  }
  send_json(res, 200, {{"added", added}, {"replaced", replaced}, {"unchanged", unchanged}});
}

namespace {

// The request's "now" (ISO 8601), against which relative times resolve; default: the clock.
Result<store::Timestamp> request_now(const Json& j) {
  if (!j.contains("now")) {
    store::Timestamp t;
    t.epoch_s = int64_t(std::time(nullptr));
    return t;
  }
  if (!j["now"].is_string()) return Status::invalid_argument("'now' must be an ISO 8601 string");
  Result<store::Timestamp> t = store::parse_iso8601(j["now"].get<std::string>());
  if (!t.is_ok()) return Status::invalid_argument("'now': " + t.status().message());
  return t;
}

}  // namespace

void Server::search(const httplib::Request& req, httplib::Response& res) {
  AppInfo app;
  if (!authorize(req, res, "", app)) return;
  std::vector<std::string> allowed;
  for (const char* src : {"sms", "note", "calendar", "call", "photo", "contact", "email"})
    if (has_scope(app.scopes, std::string("search:") + src)) allowed.push_back(src);
  if (allowed.empty()) return deny(req, res, 403, app.name, "app \"" + app.name + "\" has no search:<source> scope");
  const Json j = Json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return send_error(res, bad_request("", "the request body must be a JSON object"));
  if (!j.contains("query") || !j["query"].is_string() || j["query"].get<std::string>().empty())
    return send_error(res, bad_request("query", "'query' must be a non-empty string"));
  int k = 10;
  if (j.contains("k")) {
    if (!j["k"].is_number_integer() || j["k"].get<int64_t>() < 1 || j["k"].get<int64_t>() > 100)
      return send_error(res, bad_request("k", "'k' must be an integer from 1 to 100"));
    k = int(j["k"].get<int64_t>());
  }
  store::SearchOptions o;
  o.k = k * 8;  // room for hits from sources the app may not see
  Result<store::Timestamp> now = request_now(j);
  if (!now.is_ok()) return send_error(res, bad_request("now", now.status().message()));
  o.now = *now;
  std::lock_guard<std::mutex> lock(store_mu_);
  Result<store::SearchResult> r = store::search(*store_, j["query"].get<std::string>(), o);
  if (!r.is_ok()) return send_error(res, bad_request("query", r.status().message()));
  Json hits = Json::array();
  for (const auto& h : r->hits) {
    if (std::find(allowed.begin(), allowed.end(), h.source) == allowed.end()) continue;
    if (int(hits.size()) >= k) break;
    hits.push_back({{"id", h.id}, {"source", h.source}, {"time", h.time}, {"score", h.score}, {"snippet", h.snippet}});
  }
  send_json(res, 200, {{"hits", hits}, {"sources", allowed}});
}

// POST /v1/pocketmind/ask {"question", "now"?, "k"?}: the extractive grounded answer over the
// records the app may read (scope "ask" plus search:<source>), {answer, citations[], records[]}.
void Server::ask(const httplib::Request& req, httplib::Response& res) {
  AppInfo app;
  if (!authorize(req, res, "ask", app)) return;
  assistant::AskOptions o;
  for (const char* src : {"sms", "note", "calendar", "call", "photo", "contact", "email"})
    if (has_scope(app.scopes, std::string("search:") + src)) o.allowed_sources.push_back(src);
  if (o.allowed_sources.empty())
    return deny(req, res, 403, app.name, "app \"" + app.name + "\" has no search:<source> scope to answer from");
  const Json j = Json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return send_error(res, bad_request("", "the request body must be a JSON object"));
  if (!j.contains("question") || !j["question"].is_string() || j["question"].get<std::string>().empty())
    return send_error(res, bad_request("question", "'question' must be a non-empty string"));
  if (j.contains("k")) {
    if (!j["k"].is_number_integer() || j["k"].get<int64_t>() < 1 || j["k"].get<int64_t>() > 50)
      return send_error(res, bad_request("k", "'k' must be an integer from 1 to 50"));
    o.k = int(j["k"].get<int64_t>());
  }
  Result<store::Timestamp> now = request_now(j);
  if (!now.is_ok()) return send_error(res, bad_request("now", now.status().message()));
  o.now = *now;
  std::lock_guard<std::mutex> lock(store_mu_);
  Result<assistant::Retrieval> r = assistant::retrieve(*store_, j["question"].get<std::string>(), o);
  if (!r.is_ok()) return send_error(res, bad_request("question", r.status().message()));
  send_json(res, 200, assistant::answer_json(*r, assistant::extractive_answer(*r)));
}

// GET /v1/pocketmind/automations: the saved rules. POST .../automations/parse {"text", "now"?}:
// rules from a request in plain language, validated, with their confirmation text (nothing saved).
void Server::automations(const httplib::Request& req, httplib::Response& res) {
  AppInfo app;
  if (!authorize(req, res, "automations", app)) return;
  namespace au = pm::automation;
  if (req.method == "GET") {
    Result<std::unique_ptr<au::RuleStore>> st = au::RuleStore::open(config_.db_dir, true, side_key_);
    if (!st.is_ok()) return send_error(res, api_error(500, "server_error", st.status().message()));
    Result<std::vector<au::StoredRule>> rules = (*st)->list();
    if (!rules.is_ok()) return send_error(res, api_error(500, "server_error", rules.status().message()));
    Json out = Json::array();
    for (const au::StoredRule& r : *rules)
      out.push_back({{"id", r.id}, {"enabled", r.enabled}, {"rule", Json::parse(r.json, nullptr, false)}});
    return send_json(res, 200, {{"rules", out}});
  }
  const Json j = Json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return send_error(res, bad_request("", "the request body must be a JSON object"));
  if (!j.contains("text") || !j["text"].is_string() || j["text"].get<std::string>().empty())
    return send_error(res, bad_request("text", "'text' must be a non-empty string"));
  au::LocalTime now;
  if (j.contains("now")) {
    if (!j["now"].is_string()) return send_error(res, bad_request("now", "'now' must be an ISO 8601 string"));
    Result<au::LocalTime> t = au::parse_iso_local_time(j["now"].get<std::string>());
    if (!t.is_ok()) return send_error(res, bad_request("now", "'now': " + t.status().message()));
    now = *t;
  } else {
    const std::time_t t = std::time(nullptr);
    std::tm local{};
    localtime_r(&t, &local);
    now = {local.tm_year + 1900, local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec,
           int(local.tm_gmtoff / 60)};
  }
  Result<au::ToolRegistry> registry = au::load_tool_registry(config_.db_dir, side_key_);
  if (!registry.is_ok()) return send_error(res, api_error(500, "server_error", registry.status().message()));
  Result<au::ParsedRequest> parsed = au::parse_request(j["text"].get<std::string>(), now, *registry);
  if (!parsed.is_ok()) return send_error(res, bad_request("text", parsed.status().message()));
  Json rules = Json::array();
  for (const au::Rule& r : parsed->rules) rules.push_back(Json::parse(au::rule_to_json(r).dump()));
  Json conflicts = Json::array();
  for (const au::Conflict& c : au::find_conflicts(parsed->rules)) conflicts.push_back(au::conflict_text(c, parsed->rules, parsed->zh));
  send_json(res, 200, {{"rules", rules}, {"confirmation", au::confirmation_text(parsed->rules, parsed->zh)},
                       {"conflicts", conflicts}});
}

// ---- translation ---------------------------------------------------------------------------------

namespace {

// One translation request: its segments, translated in order, each as one job on the scheduler.
// Each segment's prompt is the conversation so far (system prompt, the last kKeptExchanges
// exchanges, the new segment), so the slot that translated the previous segment holds a prefix of
// it and only the new turn is evaluated.
struct TranslationRun {
  Scheduler* scheduler = nullptr;
  const Tokenizer* tokenizer = nullptr;
  ChatTemplate chat_template;
  assistant::TargetLanguage target = assistant::TargetLanguage::kEnglish;
  std::vector<std::string> segments;
  int32_t max_tokens = 256;
  std::vector<ChatMessage> exchanges;  // user / assistant turns so far
  std::shared_ptr<Job> current;        // the job running now (cancelled when the client leaves)
  static constexpr size_t kKeptExchanges = 2;

  Result<std::string> translate(const std::string& segment) {
    const int64_t n_ctx = scheduler->n_ctx();
    std::vector<TokenId> prompt;
    for (size_t keep = std::min(exchanges.size() / 2, kKeptExchanges);; --keep) {
      ChatRequest cr;
      cr.messages.push_back(ChatMessage("system", assistant::translation_system_prompt(target)));
      cr.messages.insert(cr.messages.end(), exchanges.end() - int64_t(2 * keep), exchanges.end());
      cr.messages.push_back(ChatMessage("user", segment));
      cr.add_generation_prompt = true;
      prompt = tokenizer->encode(render_conversation(chat_template, cr).text, true, true);
      if (int64_t(prompt.size()) + max_tokens <= n_ctx) break;
      if (keep == 0)
        return Status::out_of_range("a segment of " + std::to_string(segment.size()) + " bytes does not fit the context of " +
                                    std::to_string(n_ctx) + " tokens with max_tokens " + std::to_string(max_tokens));
    }
    auto job = std::make_shared<Job>();
    job->options.max_tokens = max_tokens;
    job->options.sampler.temperature = 0;  // greedy: the same text gets the same translation
    job->options.stop = chat_stop_strings(chat_template.format);
    job->prompt = std::move(prompt);
    current = job;
    PM_RETURN_IF_ERROR(scheduler->submit(job));
    job->wait_done();
    if (!job->status().is_ok()) return job->status();
    std::string text = job->result().text;
    const size_t b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
    text = b == std::string::npos ? std::string() : text.substr(b, e - b + 1);
    exchanges.push_back(ChatMessage("user", segment));
    exchanges.push_back(ChatMessage("assistant", text));
    return text;
  }
};

}  // namespace

// POST /v1/pocketmind/translate {"to": "en"|"zh", "text", "stream"?, "max_tokens"?} (scope chat):
// the text is cut into sentences and long clauses (assistant/translate.h's Segmenter) and each is
// translated in order. Whole: {"to", "segments": [{"index", "source", "translation"}], "translation"}.
// Streaming: one SSE event {"index", "source", "translation"} per segment as soon as it is
// translated, then "data: [DONE]"; an error after the stream started is an event {"error": {...}}.
void Server::translate(const httplib::Request& req, httplib::Response& res) {
  AppInfo app;
  if (!authorize(req, res, "chat", app)) return;
  const Json j = Json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return send_error(res, bad_request("", "the request body must be a JSON object {\"to\", \"text\"}"));
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "to" && it.key() != "text" && it.key() != "stream" && it.key() != "max_tokens" && it.key() != "model")
      return send_error(res, bad_request(it.key(), "unknown field '" + it.key() + "' (to, text, stream, max_tokens)"));
  if (!j.contains("to") || !j["to"].is_string()) return send_error(res, bad_request("to", "'to' must be \"en\" or \"zh\""));
  Result<assistant::TargetLanguage> target = assistant::parse_target_language(j["to"].get<std::string>());
  if (!target.is_ok()) return send_error(res, bad_request("to", target.status().message()));
  if (!j.contains("text") || !j["text"].is_string() || j["text"].get<std::string>().empty())
    return send_error(res, bad_request("text", "'text' must be a non-empty string"));
  const std::string text = j["text"].get<std::string>();
  constexpr size_t kMaxTextBytes = 64 * 1024;
  if (text.size() > kMaxTextBytes)
    return send_error(res, bad_request("text", "'text' is " + std::to_string(text.size()) + " bytes (at most " +
                                                   std::to_string(kMaxTextBytes) + " per request)"));
  if (store::find_invalid_utf8(text) != std::string::npos)
    return send_error(res, bad_request("text", "'text' is not valid UTF-8"));
  bool stream = false;
  if (j.contains("stream")) {
    if (!j["stream"].is_boolean()) return send_error(res, bad_request("stream", "'stream' must be true or false"));
    stream = j["stream"].get<bool>();
  }
  auto run = std::make_shared<TranslationRun>();
  if (j.contains("max_tokens")) {
    if (!j["max_tokens"].is_number_integer() || j["max_tokens"].get<int64_t>() < 1 || j["max_tokens"].get<int64_t>() > 4096)
      return send_error(res, bad_request("max_tokens", "'max_tokens' (per segment) must be an integer 1-4096"));
    run->max_tokens = int32_t(j["max_tokens"].get<int64_t>());
  }
  if (!scheduler_ || !served_.tokenizer)
    return send_error(res, api_error(503, "server_error", "no chat model is loaded (serve -m MODEL)", "no_model"));
  assistant::Segmenter segmenter;
  run->segments = segmenter.feed(text);
  for (std::string& s : segmenter.finish()) run->segments.push_back(std::move(s));
  if (run->segments.empty()) return send_error(res, bad_request("text", "'text' holds only whitespace"));
  run->scheduler = scheduler_.get();
  run->tokenizer = served_.tokenizer;
  run->chat_template = served_.chat_template;
  run->target = *target;
  const std::string to = *target == assistant::TargetLanguage::kEnglish ? "en" : "zh";
  if (!stream) {
    Json segments = Json::array();
    std::string joined;
    for (size_t i = 0; i < run->segments.size(); ++i) {
      Result<std::string> t = run->translate(run->segments[i]);
      if (!t.is_ok()) {
        if (t.status().code() == StatusCode::kOutOfRange) return send_error(res, bad_request("text", t.status().message()));
        return send_submit_error(res, t.status());
      }
      if (!joined.empty() && !t->empty() && to == "en") joined += ' ';
      joined += *t;
      segments.push_back({{"index", i}, {"source", run->segments[i]}, {"translation", *t}});
    }
    return send_json(res, 200, {{"to", to}, {"segments", segments}, {"translation", joined}});
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [run](size_t, httplib::DataSink& sink) {
        for (size_t i = 0; i < run->segments.size(); ++i) {
          Result<std::string> t = run->translate(run->segments[i]);
          std::string event;
          if (!t.is_ok()) {
            event = sse_event({{"error", error_json(api_error(500, "server_error", t.status().message()))["error"]}});
            sink.write(event.data(), event.size());
            break;
          }
          event = sse_event({{"index", i}, {"source", run->segments[i]}, {"translation", *t}});
          if (!sink.write(event.data(), event.size())) return false;  // the client went away
        }
        sink.write(kSseDone, std::strlen(kSseDone));
        sink.done();
        return true;
      },
      [run](bool) {
        if (run->current) run->current->cancel();
      });
}

// The third-party tool registry (assistant/automation/tool_store.h) of --db, scope "tools".
// GET: {"tools": [...]} (registered; ?builtin=1 adds the built-ins). POST {"name", "description",
// "parameters"}: registers a tool owned by the calling app (201). DELETE /v1/pocketmind/tools/NAME:
// only the app that registered it (403 otherwise; tools registered on the device cannot be removed
// over HTTP), 409 while saved rules use it.
void Server::tools(const httplib::Request& req, httplib::Response& res) {
  AppInfo app;
  if (!authorize(req, res, "tools", app)) return;
  namespace au = pm::automation;
  Result<std::unique_ptr<au::RuleStore>> st = au::RuleStore::open(config_.db_dir, true, side_key_);
  if (!st.is_ok()) return send_error(res, api_error(500, "server_error", st.status().message()));
  if (req.method == "GET") {
    Json out = Json::array();
    if (req.get_param_value("builtin") == "1")
      for (const au::ToolDef& t : au::builtin_tools()) out.push_back(Json::parse(au::tool_to_json(t).dump()));
    Result<std::vector<au::StoredTool>> stored = (*st)->list_tools();
    if (!stored.is_ok()) return send_error(res, api_error(500, "server_error", stored.status().message()));
    for (const au::StoredTool& t : *stored)
      out.push_back({{"name", t.name}, {"description", t.description},
                     {"parameters", Json::parse(t.schema_json, nullptr, false)}, {"builtin", false},
                     {"owner", t.owner}});
    return send_json(res, 200, {{"tools", out}});
  }
  if (req.method == "DELETE") {
    const std::string name = req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
    Result<std::vector<au::StoredTool>> stored = (*st)->list_tools();
    if (!stored.is_ok()) return send_error(res, api_error(500, "server_error", stored.status().message()));
    const au::StoredTool* found = nullptr;
    for (const au::StoredTool& t : *stored)
      if (t.name == name) found = &t;
    if (!found)
      return send_error(res, api_error(404, "invalid_request_error", "no registered tool named \"" + name + "\"",
                                       "not_found"));
    if (found->owner != app.name)
      return deny(req, res, 403, app.name,
                  "tool \"" + name + "\" was registered by " +
                      (found->owner.empty() ? std::string("the device owner") : "app \"" + found->owner + "\"") +
                      ", not by app \"" + app.name + "\"");
    Status s = au::unregister_tool(**st, name);
    if (!s.is_ok()) return send_error(res, api_error(409, "invalid_request_error", s.message(), "tool_in_use"));
    return send_json(res, 200, {{"name", name}, {"status", "removed"}});
  }
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return send_error(res, bad_request("", "the request body must be a JSON object {name, description, parameters}"));
  Result<au::ToolDef> tool = au::tool_from_json(j);
  if (!tool.is_ok()) return send_error(res, bad_request("", tool.status().message()));
  Status s = au::register_tool(**st, *tool, app.name, int64_t(std::time(nullptr)));
  if (!s.is_ok()) return send_error(res, bad_request("", s.message()));
  log_access("tool registered by app=" + app.name + ": " + tool->name);
  send_json(res, 201, Json::parse(au::tool_to_json(*tool, app.name).dump()));
}

void Server::forget(const httplib::Request& req, httplib::Response& res) {
  AppInfo app;
  if (!authorize(req, res, "forget", app)) return;
  const Json j = Json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_string() ||
      j["id"].get<std::string>().empty())
    return send_error(res, bad_request("id", "'id' must be a non-empty string"));
  const std::string id = j["id"].get<std::string>();
  std::lock_guard<std::mutex> lock(store_mu_);
  Result<nlohmann::json> rec = store_->get(id);
  if (!rec.is_ok()) {
    if (rec.status().code() == StatusCode::kNotFound)
      return send_error(res, api_error(404, "invalid_request_error", "no record with id \"" + id + "\"", "not_found"));
    return send_error(res, api_error(500, "server_error", rec.status().message()));
  }
  const std::string source = rec->value("source", "");
  if (!has_scope(app.scopes, "write:" + source))
    return deny(req, res, 403, app.name,
                "app \"" + app.name + "\" lacks the scope \"write:" + source + "\" to forget " + id);
  Result<int64_t> n = store_->forget_id(id);
  if (!n.is_ok()) return send_error(res, api_error(500, "server_error", n.status().message()));
  send_json(res, 200, {{"forgotten", *n}});
}

}  // namespace pm::server
