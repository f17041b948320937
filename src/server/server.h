// `pocketmind serve`: an OpenAI-compatible HTTP API (cpp-httplib) over one loaded model, plus the
// assistant endpoints under /v1/pocketmind/. Every route but /health needs a bearer token of an
// app (auth.h); scopes gate the model endpoints and each personal-data source. Denials are 401 /
// 403 with a reason, logged to stderr and the access log (server/access_log.h: DIR/access.log, or
// DIR/access.log.enc encrypted in an encrypted store, as are apps.sqlite and automations.sqlite).
//
//   GET  /health                    no auth
//   GET  /metrics                   tokens/s, queue depth, active slots, RSS (any app)
//   GET  /v1/models                 (any app)
//   POST /v1/chat/completions       scope chat (SSE when "stream": true)
//   POST /v1/completions            scope completions
//   POST /v1/embeddings             scope embeddings (an embedding model loaded with -m)
//   POST /v1/pocketmind/ingest      JSON Lines or a JSON array of records; write:<source> for each
//   POST /v1/pocketmind/search      {"query", "k", "now"}; hits only from sources with search:<source>
//   POST /v1/pocketmind/forget      {"id"}; scope forget and write:<the record's source>
//   POST /v1/pocketmind/ask, /automations   501 until the assistant layer is wired
#pragma once

#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "generate/chat_template.h"
#include "generate/grammar/engine_cache.h"
#include "server/access_log.h"
#include "server/auth.h"
#include "server/cloud.h"
#include "server/scheduler.h"
#include "store/embedder.h"
#include "store/store.h"

namespace httplib {
class Server;
class Request;
class Response;
}  // namespace httplib

namespace pm::server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 0;               // 0: any free port
  bool allow_remote = false;  // needed to bind anything but a loopback address
  std::string db_dir;         // apps, access log and the personal-data store (required)
  std::string store_passphrase;  // of an encrypted personal-data store ("" = plain)
  std::string model_name = "local";
  SchedulerOptions scheduler;
  CloudConfig cloud;
  size_t max_body_bytes = 8u << 20;
  int http_threads = 64;
};

// What the server runs (not owned; outlives the server). Either a generative model (chat,
// completions) or an embedding model (embeddings), or none (assistant endpoints only).
struct ServedModel {
  const Model* model = nullptr;
  const Tokenizer* tokenizer = nullptr;
  ThreadPool* pool = nullptr;
  ChatTemplate chat_template;
  const store::TextEmbedder* embedder = nullptr;
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> create(const ServerConfig& config, const ServedModel& served);
  ~Server();
  // Binds (the port is known afterwards) and serves until stop(); blocks.
  Status bind();
  int port() const { return port_; }
  void run();
  void stop();
  Scheduler* scheduler() { return scheduler_.get(); }

 private:
  Server() = default;
  void routes();
  // Checks the bearer token and (when non-empty) a scope; on failure fills res and logs.
  bool authorize(const httplib::Request& req, httplib::Response& res, const std::string& scope, AppInfo& app);
  void deny(const httplib::Request& req, httplib::Response& res, int status, const std::string& app,
            const std::string& reason);
  void log_access(const std::string& line);
  void chat(const httplib::Request& req, httplib::Response& res);
  void completion(const httplib::Request& req, httplib::Response& res);
  void embeddings(const httplib::Request& req, httplib::Response& res);
  void ingest(const httplib::Request& req, httplib::Response& res);
  void search(const httplib::Request& req, httplib::Response& res);
  void forget(const httplib::Request& req, httplib::Response& res);
  void ask(const httplib::Request& req, httplib::Response& res);
  void automations(const httplib::Request& req, httplib::Response& res);
  void tools(const httplib::Request& req, httplib::Response& res);
  void translate(const httplib::Request& req, httplib::Response& res);
  void metrics(const httplib::Request& req, httplib::Response& res);
  Result<std::shared_ptr<GrammarEngine>> json_engine(const Json& schema);

  ServerConfig config_;
  ServedModel served_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<AppRegistry> apps_;
  std::unique_ptr<Scheduler> scheduler_;
  std::mutex store_mu_;
  std::unique_ptr<store::Store> store_;
  std::mutex log_mu_;
  std::unique_ptr<AccessLog> access_log_;          // null when it cannot be opened (plain stores only)
  std::optional<store::StoreKey> side_key_;         // page key of an encrypted store, for its side files
  // Compiled grammars of response formats and tool lists, reused across requests.
  GrammarCache* grammar_cache();
  std::mutex grammar_mu_;
  std::unique_ptr<GrammarCache> grammars_;
  int port_ = 0;
  int64_t started_unix_ = 0;
};

// Resident set size of this process in bytes (/proc/self/statm), 0 when unknown.
int64_t resident_bytes();

}  // namespace pm::server
