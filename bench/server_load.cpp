// Load test of `pocketmind serve` (a program that prints numbers, not a test): starts a server on
// 127.0.0.1 over MODEL, then runs
//   phase 1: one streaming client for --single-seconds,
//   phase 2: --clients streaming clients at once for --seconds,
// and reports tokens/s of each phase, errors by kind (429s counted apart: they are deliberate
// when clients > parallel + queue), and RSS at start / middle / end.
//   server_load MODEL [--clients 16] [--seconds 60] [--single-seconds 10] [--parallel 4] [--queue 16]
//               [--max-tokens 32] [--threads N] [--json]
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "formats/gguf.h"
#include "generate/chat_template.h"
#include "models/model.h"
#include "server/auth.h"
#include "server/server.h"

using namespace pm;
using Json = nlohmann::ordered_json;

namespace {

struct PhaseResult {
  int clients = 0;
  double seconds = 0;
  int64_t tokens = 0;
  int64_t requests_ok = 0;
  std::map<std::string, int64_t> errors;
  double tokens_per_s() const { return seconds > 0 ? double(tokens) / seconds : 0; }
};

PhaseResult run_phase(int port, const std::string& token, int clients, double seconds, int max_tokens) {
  PhaseResult out;
  out.clients = clients;
  std::mutex mu;
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(120, 0);
      int n = 0;
      while (std::chrono::steady_clock::now() < until) {
        Json body = {
            {"messages",
             {{{"role", "system"}, {"content", "You are a helpful assistant."}},
              {{"role", "user"}, {"content", "Client " + std::to_string(i) + " request " + std::to_string(n++)}}}},
            {"max_tokens", max_tokens},
            {"ignore_eos", true},
            {"stream", true},
            {"stream_options", {{"include_usage", true}}}};
        auto res =
            c.Post("/v1/chat/completions", {{"Authorization", "Bearer " + token}}, body.dump(), "application/json");
        std::lock_guard<std::mutex> lock(mu);
        if (!res) {
          ++out.errors["transport: " + httplib::to_string(res.error())];
          continue;
        }
        if (res->status != 200) {
          ++out.errors["http " + std::to_string(res->status)];
          if (res->status == 429) std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        const size_t at = res->body.rfind("\"usage\":");
        if (at == std::string::npos || res->body.find("data: [DONE]") == std::string::npos) {
          ++out.errors["malformed stream"];
          continue;
        }
        const size_t ct = res->body.find("\"completion_tokens\":", at);
        out.tokens += std::atoll(res->body.c_str() + ct + 20);
        ++out.requests_ok;
      }
    });
  for (auto& t : threads) t.join();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

Json phase_json(const PhaseResult& p) {
  Json errors = Json::object();
  for (const auto& [k, v] : p.errors) errors[k] = v;
  return {{"clients", p.clients},
          {"seconds", p.seconds},
          {"tokens", p.tokens},
          {"requests_ok", p.requests_ok},
          {"tokens_per_s", p.tokens_per_s()},
          {"errors", errors}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr,
                 "usage: server_load MODEL [--clients 16] [--seconds 60] [--single-seconds 10] [--parallel 4] "
                 "[--queue 16] [--max-tokens 32] [--threads N] [--json]\n");
    return argc < 2 ? 1 : 0;
  }
  const std::string path = argv[1];
  int clients = 16, parallel = 4, queue = 16, max_tokens = 32, threads = 0;
  double seconds = 60, single_seconds = 10;
  bool json = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> double {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "server_load: %s needs a value\n", a.c_str());
        std::exit(1);
      }
      return std::atof(argv[++i]);
    };
    if (a == "--clients")
      clients = int(next());
    else if (a == "--seconds")
      seconds = next();
    else if (a == "--single-seconds")
      single_seconds = next();
    else if (a == "--parallel")
      parallel = int(next());
    else if (a == "--queue")
      queue = int(next());
    else if (a == "--max-tokens")
      max_tokens = int(next());
    else if (a == "--threads")
      threads = int(next());
    else if (a == "--json")
      json = true;
    else {
      std::fprintf(stderr, "server_load: unknown argument %s\n", a.c_str());
      return 1;
    }
  }
  if (clients < 1 || clients > 256 || seconds <= 0 || seconds > 3600 || single_seconds < 0 || max_tokens < 1) {
    std::fprintf(stderr, "server_load: --clients 1..256, --seconds 0..3600, --max-tokens >= 1\n");
    return 1;
  }
  Result<std::unique_ptr<GgufFile>> f = GgufFile::open(path);
  if (!f.is_ok()) {
    std::fprintf(stderr, "server_load: %s\n", f.status().message().c_str());
    return 1;
  }
  std::shared_ptr<const GgufFile> gguf = std::move(*f);
  Result<std::unique_ptr<Tokenizer>> tok = Tokenizer::from_gguf(*gguf);
  Result<std::unique_ptr<Model>> model = load_model(gguf);
  if (!tok.is_ok() || !model.is_ok()) {
    std::fprintf(stderr, "server_load: %s\n", (tok.is_ok() ? model.status() : tok.status()).message().c_str());
    return 1;
  }
  ThreadPool pool(threads);
  server::ServedModel served;
  served.model = model->get();
  served.tokenizer = tok->get();
  served.pool = &pool;
  Result<std::string> tmpl = gguf->get_string_or("tokenizer.chat_template", "");
  served.chat_template = chat_template_for(tmpl.is_ok() ? *tmpl : "", (*model)->info().arch);
  server::ServerConfig config;
  config.db_dir = (std::filesystem::temp_directory_path() / ("pm_server_load_" + std::to_string(::getpid()))).string();
  config.scheduler.n_parallel = parallel;
  config.scheduler.queue_size = queue;
  const int64_t train = (*model)->info().n_ctx_train;
  config.scheduler.n_ctx = train > 0 && train < 1024 ? train : 1024;
  auto reg = server::AppRegistry::open(config.db_dir);
  if (!reg.is_ok()) {
    std::fprintf(stderr, "server_load: %s\n", reg.status().message().c_str());
    return 1;
  }
  const std::string token = *(*reg)->add("load", {"chat"});
  auto s = server::Server::create(config, served);
  const Status bound = s.is_ok() ? (*s)->bind() : s.status();
  if (!bound.is_ok()) {
    std::fprintf(stderr, "server_load: cannot start the server: %s\n", bound.message().c_str());
    return 1;
  }
  std::thread server_thread([&] { (*s)->run(); });
  const int port = (*s)->port();
  const int64_t rss_start = server::resident_bytes();
  const PhaseResult single = run_phase(port, token, 1, single_seconds, max_tokens);
  int64_t rss_middle = 0;
  std::thread sampler([&] {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds / 2));
    rss_middle = server::resident_bytes();
  });
  const PhaseResult many = run_phase(port, token, clients, seconds, max_tokens);
  sampler.join();
  const int64_t rss_end = server::resident_bytes();
  (*s)->stop();
  server_thread.join();
  std::error_code ec;
  std::filesystem::remove_all(config.db_dir, ec);
  const double speedup = single.tokens_per_s() > 0 ? many.tokens_per_s() / single.tokens_per_s() : 0;
  if (json) {
    std::printf("%s\n", Json{{"model", path},
                             {"parallel", parallel},
                             {"queue", queue},
                             {"max_tokens", max_tokens},
                             {"single", phase_json(single)},
                             {"concurrent", phase_json(many)},
                             {"aggregate_speedup", speedup},
                             {"rss_bytes", {{"start", rss_start}, {"middle", rss_middle}, {"end", rss_end}}}}
                            .dump(2)
                            .c_str());
    return 0;
  }
  std::printf("single client:   %8.1f tokens/s (%lld tokens, %lld requests)\n", single.tokens_per_s(),
              (long long)single.tokens, (long long)single.requests_ok);
  std::printf("%3d clients:     %8.1f tokens/s aggregate (%lld tokens, %lld requests), %.2fx single\n", clients,
              many.tokens_per_s(), (long long)many.tokens, (long long)many.requests_ok, speedup);
  for (const auto& [k, v] : many.errors) std::printf("  errors: %-30s %lld\n", k.c_str(), (long long)v);
  std::printf("RSS: start %.1f MiB, middle %.1f MiB, end %.1f MiB\n", rss_start / 1048576.0, rss_middle / 1048576.0,
              rss_end / 1048576.0);
  return 0;
}
