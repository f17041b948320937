// pocketmind serve --host 127.0.0.1 --port N [-m MODEL] --db DIR [--allow-remote] [--parallel N] [--queue N]
//                  [--cloud-url URL --cloud-model NAME --cloud-key-env VAR --cloud-sources sms,...]
// pocketmind apps add|list|remove|log --db DIR [--passphrase-file FILE] ...
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli/common.h"
#include "cli/store_common.h"
#include "generate/chat_template.h"
#include "server/access_log.h"
#include "server/auth.h"
#include "server/server.h"
#include "store/embedder.h"

namespace pm::cli {
namespace {

struct ServeArgs {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string model;
  std::string db;
  std::string passphrase_file;
  bool allow_remote = false;
  int parallel = 4;
  int queue = 16;
  std::string cloud_url, cloud_model, cloud_key_env;
  std::vector<std::string> cloud_sources;
  int cloud_timeout_ms = 60000;
  LoadOptions load;
  bool json = false;
};

server::Server* g_server = nullptr;  // for the signal handler only
void on_signal(int) {
  if (g_server != nullptr) g_server->stop();
}

int run_serve(const ServeArgs& a) {
  const char* verb = "serve";
  server::ServerConfig config;
  config.host = a.host;
  config.port = a.port;
  config.allow_remote = a.allow_remote;
  config.db_dir = a.db;
  {
    Result<std::string> p = read_passphrase(a.passphrase_file);
    if (!p.is_ok()) return fail(verb, p.status());
    config.store_passphrase = std::move(*p);
  }
  config.scheduler.n_parallel = a.parallel;
  config.scheduler.queue_size = a.queue;
  config.scheduler.n_ctx = a.load.n_ctx;
  config.cloud.url = a.cloud_url;
  config.cloud.model = a.cloud_model;
  config.cloud.read_timeout_ms = a.cloud_timeout_ms;
  config.cloud.allowed_sources = a.cloud_sources;
  if (!a.cloud_key_env.empty()) {
    const char* key = std::getenv(a.cloud_key_env.c_str());
    if (key == nullptr) return fail(verb, "--cloud-key-env " + a.cloud_key_env + ": the variable is not set");
    config.cloud.api_key = key;
  }
  if (a.cloud_url.empty() && (!a.cloud_model.empty() || !a.cloud_sources.empty()))
    return fail(verb, "--cloud-model / --cloud-sources need --cloud-url");

  server::ServedModel served;
  LoadedModel m;
  std::unique_ptr<store::TextEmbedder> embedder;
  if (!a.model.empty()) {
    Result<LoadedModel> loaded = load(a.model, /*vocab_only=*/false, a.load);
    if (!loaded.is_ok()) return fail(verb, loaded.status());
    m = std::move(*loaded);
    if (dynamic_cast<const EmbeddingModel*>(m.model.get()) != nullptr) {
      Result<std::unique_ptr<store::TextEmbedder>> e = store::TextEmbedder::open(a.model, a.load.n_threads);
      if (!e.is_ok()) return fail(verb, e.status());
      embedder = std::move(*e);
      served.embedder = embedder.get();
    } else {
      Status st = need_tokenizer(m, a.model);
      if (!st.is_ok()) return fail(verb, st);
      served.model = m.model.get();
      served.tokenizer = m.tokenizer.get();
      served.pool = m.pool.get();
      if (config.scheduler.n_ctx == 0) config.scheduler.n_ctx = std::min<int64_t>(m.plan.n_ctx, 4096);
      std::string tmpl_text;
      if (m.gguf) {
        Result<std::string> t = m.gguf->get_string_or("tokenizer.chat_template", "");
        if (t.is_ok()) tmpl_text = *t;
      }
      served.chat_template = chat_template_for(tmpl_text, m.model->info().arch);
      const SpecialTokens& sp = m.tokenizer->special();
      if (sp.bos != kNoToken) served.chat_template.bos_token = m.tokenizer->token_to_piece(sp.bos, true);
      if (sp.eos != kNoToken) served.chat_template.eos_token = m.tokenizer->token_to_piece(sp.eos, true);
    }
    const std::string base = a.model.substr(a.model.find_last_of('/') + 1);
    config.model_name = base;
  }
  Result<std::unique_ptr<server::Server>> s = server::Server::create(config, served);
  if (!s.is_ok()) return fail(verb, s.status());
  Status st = (*s)->bind();
  if (!st.is_ok()) return fail(verb, st);
  std::fprintf(stderr, "listening on http://%s:%d\n", a.host.c_str(), (*s)->port());
  if (a.json) print_json({{"host", a.host}, {"port", (*s)->port()}, {"model", config.model_name}});
  std::fflush(stdout);
  std::fflush(stderr);
  g_server = s->get();
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  (*s)->run();
  g_server = nullptr;
  return 0;
}

struct AppsArgs {
  std::string db;
  std::string passphrase_file;
  std::string name;
  std::string scopes;
  int64_t tail = 0;
  bool json = false;
};

// DIR/apps.sqlite, encrypted with the store's key when DIR is an encrypted store.
Result<std::unique_ptr<server::AppRegistry>> open_apps(const AppsArgs& a) {
  Result<std::optional<store::StoreKey>> key = side_file_key(a.db, a.passphrase_file, server::kAppsFile, true);
  if (!key.is_ok()) return key.status();
  return server::AppRegistry::open(a.db, *key);
}

int run_apps_log(const AppsArgs& a) {
  const char* verb = "apps log";
  if (a.tail < 0) return fail(verb, "--tail: expected a number of lines >= 0");
  Result<store::StoreLogContents> log = read_log_of(a.db, a.passphrase_file, server::kAccessLogFiles);
  if (!log.is_ok()) return fail(verb, log.status());
  return print_log(verb, *log, a.tail, a.json, "lines", [](const std::string& line) {
    const size_t sp = line.find(' ');
    return nlohmann::json{{"time", sp == std::string::npos ? line : line.substr(0, sp)},
                          {"event", sp == std::string::npos ? "" : line.substr(sp + 1)}};
  });
}

int run_apps_add(const AppsArgs& a) {
  Result<std::vector<std::string>> scopes = server::parse_scopes(a.scopes);
  if (!scopes.is_ok()) return fail("apps add", scopes.status());
  Result<std::unique_ptr<server::AppRegistry>> reg = open_apps(a);
  if (!reg.is_ok()) return fail("apps add", reg.status());
  Result<std::string> token = (*reg)->add(a.name, *scopes);
  if (!token.is_ok()) return fail("apps add", token.status());
  if (a.json)
    print_json({{"name", a.name}, {"scopes", *scopes}, {"token", *token}});
  else
    std::printf("%s\n", token->c_str());
  std::fprintf(stderr, "apps add: app \"%s\" created; the token above is shown only this once\n", a.name.c_str());
  return 0;
}

int run_apps_list(const AppsArgs& a) {
  Result<std::unique_ptr<server::AppRegistry>> reg = open_apps(a);
  if (!reg.is_ok()) return fail("apps list", reg.status());
  Result<std::vector<server::AppInfo>> apps = (*reg)->list();
  if (!apps.is_ok()) return fail("apps list", apps.status());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& app : *apps) out.push_back({{"name", app.name}, {"scopes", app.scopes}, {"created", app.created}});
    print_json({{"apps", out}});
    return 0;
  }
  if (apps->empty()) std::printf("no apps\n");
  for (const auto& app : *apps) {
    std::string sc;
    for (const auto& s : app.scopes) sc += (sc.empty() ? "" : ",") + s;
    std::printf("%-24s %-20s %s\n", app.name.c_str(), app.created.c_str(), sc.c_str());
  }
  return 0;
}

int run_apps_remove(const AppsArgs& a) {
  Result<std::unique_ptr<server::AppRegistry>> reg = open_apps(a);
  if (!reg.is_ok()) return fail("apps remove", reg.status());
  Status st = (*reg)->remove(a.name);
  if (!st.is_ok()) return fail("apps remove", st);
  if (a.json)
    print_json({{"removed", a.name}});
  else
    std::printf("removed %s\n", a.name.c_str());
  return 0;
}

}  // namespace

void add_server_verbs(CLI::App& app, int& result) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP API (and assistant endpoints) on this machine");
  cmd->add_option("--host", a->host, "address to bind (loopback unless --allow-remote)")->capture_default_str();
  cmd->add_option("--port", a->port, "port (0: any free port, printed on stderr)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("-m,--model", a->model, "model to serve (a chat model, or an embedding model for /v1/embeddings)");
  cmd->add_option("--db", a->db, "store directory: apps, access log, personal data")->required();
  add_passphrase_option(cmd, &a->passphrase_file);
  cmd->add_flag("--allow-remote", a->allow_remote, "allow binding a non-loopback address");
  cmd->add_option("--parallel", a->parallel, "generation slots sharing the model")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--queue", a->queue, "requests that may wait for a slot (more: 429)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--cloud-url", a->cloud_url, "OpenAI-compatible remote for requests the local model should not take");
  cmd->add_option("--cloud-model", a->cloud_model, "model name at the remote");
  cmd->add_option("--cloud-key-env", a->cloud_key_env, "environment variable holding the remote's API key");
  cmd->add_option("--cloud-sources", a->cloud_sources, "personal-data sources that may go to the cloud (sms,note,...)")
      ->delimiter(',');
  cmd->add_option("--cloud-timeout-ms", a->cloud_timeout_ms, "read timeout for the remote")
      ->capture_default_str()
      ->check(CLI::Range(100, 600000));
  add_model_options(cmd, a->load);
  cmd->add_flag("--json", a->json, "print {host, port, model} on stdout once listening");
  cmd->callback([a, &result] { result = run_serve(*a); });

  CLI::App* apps = app.add_subcommand("apps", "Apps allowed to call `pocketmind serve`: tokens and scopes");
  apps->require_subcommand(1);
  auto add = std::make_shared<AppsArgs>();
  CLI::App* c_add = apps->add_subcommand("add", "Create an app; prints its bearer token once");
  c_add->add_option("--db", add->db, "store directory")->required();
  add_passphrase_option(c_add, &add->passphrase_file);
  c_add->add_option("name", add->name, "app name")->required();
  c_add
      ->add_option(
          "--scopes", add->scopes,
          "comma-separated: chat, completions, embeddings, ask, automations, forget, search:SOURCE, write:SOURCE")
      ->required();
  c_add->add_flag("--json", add->json, "machine-readable output");
  c_add->callback([add, &result] { result = run_apps_add(*add); });
  auto list = std::make_shared<AppsArgs>();
  CLI::App* c_list = apps->add_subcommand("list", "List apps and their scopes (never tokens)");
  c_list->add_option("--db", list->db, "store directory")->required();
  add_passphrase_option(c_list, &list->passphrase_file);
  c_list->add_flag("--json", list->json, "machine-readable output");
  c_list->callback([list, &result] { result = run_apps_list(*list); });
  auto rm = std::make_shared<AppsArgs>();
  CLI::App* c_rm = apps->add_subcommand("remove", "Remove an app (its token stops working)");
  c_rm->add_option("--db", rm->db, "store directory")->required();
  add_passphrase_option(c_rm, &rm->passphrase_file);
  c_rm->add_option("name", rm->name, "app name")->required();
  c_rm->add_flag("--json", rm->json, "machine-readable output");
  c_rm->callback([rm, &result] { result = run_apps_remove(*rm); });
  auto lg = std::make_shared<AppsArgs>();
  CLI::App* c_log = apps->add_subcommand(
      "log", "Show the server's access log (denials, cloud routing, tool registrations), decrypted for an encrypted store");
  c_log->add_option("--db", lg->db, "store directory")->required();
  add_passphrase_option(c_log, &lg->passphrase_file);
  c_log->add_option("--tail", lg->tail, "only the last N lines (0: all)")->capture_default_str();
  c_log->add_flag("--json", lg->json, "machine-readable output: {file, encrypted, lines: [{time, event}], damaged}");
  c_log->callback([lg, &result] { result = run_apps_log(*lg); });
}

}  // namespace pm::cli
