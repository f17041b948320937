// pocketmind bench -m MODEL [-t THREADS] [-p N] [-n N] [-r REPS] [--depth D] [--parallel N] [--json]
// Prompt processing: N tokens in one batch. Generation: N tokens one at a time (as llama-bench
// counts them). Each is repeated and the median reported. Peak resident memory is the
// process's high-water mark (getrusage).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/common.h"
#include "runtime/session.h"

namespace pm::cli {
namespace {

struct BenchArgs {
  std::string model;
  LoadOptions load;
  int64_t n_prompt = 512;
  int64_t n_gen = 128;
  int64_t depth = 0;  // tokens already in the context before the measured run
  int reps = 3;
  std::vector<int64_t> curve;  // --curve 100,1000,10000: ms/token and RSS at each depth
  int parallel = 1;            // --parallel N: N conversations decoding together (Session::eval_step)
  bool json = false;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Current resident memory (not the peak), from /proc/self/status: all of it, and the part that
// is anonymous (KV caches, recurrent states, scratch, copied weights) as opposed to pages of the
// mapped model file (file-backed: clean, shared, given back under memory pressure; they grow as
// a conversation touches more rows of the embedding table).
struct Rss {
  uint64_t total = 0, anon = 0, file = 0;
};

Rss current_rss() {
  Rss r;
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return r;
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned long long kib = 0;
    if (std::sscanf(line, "VmRSS: %llu kB", &kib) == 1) r.total = kib * 1024;
    else if (std::sscanf(line, "RssAnon: %llu kB", &kib) == 1) r.anon = kib * 1024;
    else if (std::sscanf(line, "RssFile: %llu kB", &kib) == 1) r.file = kib * 1024;
  }
  std::fclose(f);
  return r;
}

uint64_t peak_rss_bytes() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return uint64_t(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

// The conversation-length curve: one session fed up to each depth in turn (in 256-token
// chunks), then n_gen single tokens timed there; resident memory read at each point.
int run_curve(const BenchArgs& a, LoadedModel& m) {
  using Clock = std::chrono::steady_clock;
  const ModelInfo& info = m.model->info();
  const int32_t n_vocab = int32_t(info.n_vocab);
  auto token = [&](int64_t i) { return TokenId((i * 7919 + 13) % n_vocab); };
  std::vector<int64_t> depths = a.curve;
  std::sort(depths.begin(), depths.end());
  const int64_t n_ctx = depths.back() + a.n_gen + 1;
  Result<std::unique_ptr<Session>> s = Session::create(*m.model, n_ctx, m.pool.get());
  if (!s.is_ok()) return fail("bench", s.status());
  Session& session = **s;
  nlohmann::json points = nlohmann::json::array();
  int64_t fed = 0;
  for (int64_t depth : depths) {
    while (fed < depth) {
      const int64_t n = std::min<int64_t>(256, depth - fed);
      std::vector<TokenId> chunk;
      for (int64_t i = 0; i < n; ++i) chunk.push_back(token(fed + i));
      Status st = session.eval(chunk);
      if (!st.is_ok()) return fail("bench", st);
      fed += n;
      if (!a.json) std::fprintf(stderr, "\rfeeding context: %lld / %lld tokens", (long long)fed, (long long)depths.back());
    }
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < a.n_gen; ++i) {
      const TokenId t = token(fed++);
      Status st = session.eval(&t, 1);
      if (!st.is_ok()) return fail("bench", st);
    }
    const double ms_per_token = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / double(std::max<int64_t>(a.n_gen, 1));
    const Rss rss = current_rss();  // (before the state is serialized: its bytes are not the session's)
    Result<std::vector<uint8_t>> state = session.state_bytes();
    points.push_back({{"depth", depth}, {"ms_per_token", ms_per_token}, {"rss_bytes", rss.total},
                      {"rss_anon_bytes", rss.anon}, {"rss_file_bytes", rss.file},
                      {"state_file_bytes", state.is_ok() ? state->size() : 0}});
    if (!a.json)
      std::printf("\rdepth %6lld: %8.2f ms/token  RSS %8.1f MiB (anonymous %8.1f, model file %8.1f)  state %9.1f KiB\n",
                  (long long)depth, ms_per_token, double(rss.total) / (1 << 20), double(rss.anon) / (1 << 20),
                  double(rss.file) / (1 << 20), state.is_ok() ? double(state->size()) / 1024 : 0.0);
  }
  if (a.json)
    print_json({{"model", a.model}, {"arch", info.arch}, {"recurrent", info.recurrent}, {"threads", m.pool->n_threads()},
                {"isa", active_kernels().isa}, {"n_gen", a.n_gen}, {"curve", points}, {"peak_rss_bytes", peak_rss_bytes()}});
  return 0;
}

int run_bench(const BenchArgs& a) {
  const char* verb = "bench";
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); };
  const auto load_start = Clock::now();
  Result<LoadedModel> m = load(a.model, false, a.load);
  if (!m.is_ok()) return fail(verb, m.status());
  const double load_ms = ms(load_start);
  if (!a.curve.empty()) return run_curve(a, *m);
  const ModelInfo& info = m->model->info();
  const int64_t n_ctx = a.depth + std::max(a.n_prompt, int64_t(1)) + a.n_gen + 1;
  const int32_t n_vocab = int32_t(info.n_vocab);
  // Deterministic pseudo-random tokens: benchmarks must not depend on a tokenizer.
  auto token = [&](int64_t i) { return TokenId((i * 7919 + 13) % n_vocab); };

  std::vector<double> pp_ms, tg_ms, ttft_ms, tg_par_ms;
  uint64_t state_bytes = 0;
  for (int rep = 0; rep < a.reps; ++rep) {
    Result<std::unique_ptr<Session>> s = Session::create(*m->model, n_ctx, m->pool.get());
    if (!s.is_ok()) return fail(verb, s.status());
    Session& session = **s;
    for (int64_t done = 0; done < a.depth;) {  // fill the context up to the requested depth
      const int64_t n = std::min<int64_t>(512, a.depth - done);
      std::vector<TokenId> chunk;
      for (int64_t i = 0; i < n; ++i) chunk.push_back(token(done + i));
      Status st = session.eval(chunk);
      if (!st.is_ok()) return fail(verb, st);
      done += n;
    }
    if (a.n_prompt > 0) {
      std::vector<TokenId> prompt;
      for (int64_t i = 0; i < a.n_prompt; ++i) prompt.push_back(token(a.depth + i));
      const auto t0 = Clock::now();
      Status st = session.eval(prompt);
      if (!st.is_ok()) return fail(verb, st);
      // Time to first token: the prompt plus choosing the first token (greedy).
      const float* l = session.logits();
      volatile TokenId best = TokenId(std::max_element(l, l + n_vocab) - l);
      (void)best;
      ttft_ms.push_back(ms(t0));
      pp_ms.push_back(ttft_ms.back());
    }
    if (a.n_gen > 0) {
      const auto t0 = Clock::now();
      for (int64_t i = 0; i < a.n_gen; ++i) {
        const TokenId t = token(a.depth + a.n_prompt + i);
        Status st = session.eval(&t, 1);
        if (!st.is_ok()) return fail(verb, st);
      }
      tg_ms.push_back(ms(t0));
    }
    Result<std::vector<uint8_t>> bytes = session.state_bytes();
    if (bytes.is_ok()) state_bytes = bytes->size();
    if (a.parallel > 1 && a.n_gen > 0) {
      // The same generation for `parallel` conversations at once: one forward pass per step
      // advances all of them (as a server batching its clients does).
      std::vector<std::unique_ptr<Session>> group;
      std::vector<Session*> step;
      for (int c = 0; c < a.parallel; ++c) {
        Result<std::unique_ptr<Session>> g = Session::create(*m->model, n_ctx, m->pool.get());
        if (!g.is_ok()) return fail(verb, g.status());
        std::vector<TokenId> prompt;
        for (int64_t i = 0; i < std::max<int64_t>(a.depth + a.n_prompt, 1); ++i) prompt.push_back(token(i + c));
        Status st = (*g)->eval(prompt);
        if (!st.is_ok()) return fail(verb, st);
        step.push_back(g->get());
        group.push_back(std::move(g).value());
      }
      const auto t0 = Clock::now();
      for (int64_t i = 0; i < a.n_gen; ++i) {
        std::vector<TokenId> next;
        for (int c = 0; c < a.parallel; ++c) next.push_back(token(a.depth + a.n_prompt + i + c));
        Status st = Session::eval_step(step, next);
        if (!st.is_ok()) return fail(verb, st);
      }
      tg_par_ms.push_back(ms(t0));
    }
    if (!a.json) std::fprintf(stderr, "rep %d/%d done\n", rep + 1, a.reps);
  }
  const double pp = a.n_prompt > 0 ? 1000.0 * double(a.n_prompt) / median(pp_ms) : 0;
  const double tg = a.n_gen > 0 ? 1000.0 * double(a.n_gen) / median(tg_ms) : 0;
  const double tg_par = tg_par_ms.empty() ? 0 : 1000.0 * double(a.n_gen * a.parallel) / median(tg_par_ms);
  const uint64_t rss = peak_rss_bytes();
  if (a.json) {
    print_json({{"model", a.model}, {"arch", info.arch}, {"n_params", info.n_params}, {"weights_bytes", info.weights_bytes},
                {"threads", m->pool->n_threads()}, {"isa", active_kernels().isa}, {"n_prompt", a.n_prompt},
                {"n_gen", a.n_gen}, {"depth", a.depth}, {"reps", a.reps}, {"pp_tokens_per_s", pp},
                {"tg_tokens_per_s", tg}, {"ttft_ms", median(ttft_ms)}, {"load_ms", load_ms},
                {"peak_rss_bytes", rss}, {"state_file_bytes", state_bytes}, {"parallel", a.parallel},
                {"tg_parallel_tokens_per_s", tg_par}});
  } else {
    std::printf("model %s (%s, %.1f M params, %.1f MiB), %d threads, kernels %s\n", a.model.c_str(), info.arch.c_str(),
                double(info.n_params) / 1e6, double(info.weights_bytes) / (1 << 20), m->pool->n_threads(),
                active_kernels().isa);
    std::printf("pp%-5lld %10.2f tokens/s   (ttft %.1f ms)\n", (long long)a.n_prompt, pp, median(ttft_ms));
    std::printf("tg%-5lld %10.2f tokens/s   (at depth %lld)\n", (long long)a.n_gen, tg, (long long)(a.depth + a.n_prompt));
    if (a.parallel > 1)
      std::printf("tg%-5lld %10.2f tokens/s   (%d conversations decoding together: %.2f tokens/s each)\n",
                  (long long)a.n_gen, tg_par, a.parallel, tg_par / a.parallel);
    std::printf("peak RSS %.1f MiB, saved state %.1f KiB, load %.1f ms\n", double(rss) / (1 << 20),
                double(state_bytes) / 1024, load_ms);
  }
  return 0;
}

}  // namespace

void add_bench(CLI::App& app, int& result) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prompt processing and generation speed, time to first token, peak memory");
  cmd->add_option("-m,--model", args->model, "model file")->required();
  add_model_options(cmd, args->load);
  cmd->add_option("-p,--n-prompt", args->n_prompt, "prompt tokens, evaluated in one batch")->capture_default_str()->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-n,--n-gen", args->n_gen, "tokens generated one at a time")->capture_default_str()->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-d,--depth", args->depth, "tokens already in the context before measuring")->check(CLI::Range(0, 1 << 24));
  cmd->add_option("-r,--reps", args->reps, "repetitions (the median is reported)")->capture_default_str()->check(CLI::Range(1, 100));
  cmd->add_option("--curve", args->curve,
                  "depths (e.g. 100,1000,10000): feed one conversation to each and report ms/token (over -n tokens) and resident memory there")
      ->delimiter(',')
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  cmd->add_option("--parallel", args->parallel,
                  "also generate -n tokens for N conversations at once (batched decoding) and report the aggregate tokens/s")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--json", args->json, "one JSON object: pp_tokens_per_s, tg_tokens_per_s, ttft_ms, peak_rss_bytes, ...");
  cmd->callback([args, &result] { result = run_bench(*args); });
}

}  // namespace pm::cli
