// Grammar-constrained decoding benchmark (a program that prints numbers, not a test).
//   grammar_bench VOCAB.gguf SCHEMA_DIR [GENERATIONS_PER_SCHEMA] [--json] [--trace-slow=US]
//   grammar_bench qwen-like:FIXTURE_TOKENIZER_DIR SCHEMA_DIR ...
// The second form benchmarks the 151,665-token Qwen2.5-like byte-level vocabulary built from the
// fixtures' real vocabularies (generate/grammar/synthetic_vocab.h says exactly what it holds).
// For each schema: compile time (schema -> GBNF -> rule table -> engine with its start state),
// then random-logit generations under the grammar; per token it times the mask (fill_mask) and
// the advance (accept_token) together. Reports mean / p50 / p99 over all tokens and over the
// first generation of each schema alone (cold caches). --trace-slow=US prints every token slower
// than US microseconds to stderr: schema, step, mask / advance time, what the engine did (cache
// hit or miss, projected walks, boundary walks, trie edges followed) and the text before it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"
#include "generate/grammar/matcher.h"
#include "generate/grammar/synthetic_vocab.h"
#include "tokenizer/tokenizer.h"

using Clock = std::chrono::steady_clock;
static double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

struct Stats { double mean = 0, p50 = 0, p99 = 0, max = 0; size_t n = 0; };
static Stats stats(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.n = v.size();
  s.mean = sum / double(v.size());
  s.p50 = v[v.size() / 2];
  s.p99 = v[std::min(v.size() - 1, size_t(double(v.size()) * 0.99))];
  s.max = v.back();
  return s;
}

int main(int argc, char** argv) {
  double trace_us = -1;
  {
    int k = 1;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a.rfind("--trace-slow=", 0) == 0) {
        char* end = nullptr;
        trace_us = std::strtod(a.c_str() + 13, &end);
        if (end == a.c_str() + 13 || *end != '\0' || trace_us < 0) {
          std::fprintf(stderr, "grammar_bench: --trace-slow wants a number of microseconds, got '%s'\n", a.c_str() + 13);
          return 2;
        }
      } else {
        argv[k++] = argv[i];
      }
    }
    argc = k;
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: grammar_bench VOCAB.gguf SCHEMA_DIR [GENERATIONS_PER_SCHEMA] [--json] [--trace-slow=US]\n");
    return 2;
  }
  const bool json = std::string(argv[argc - 1]) == "--json";
  const int gens = argc > 3 && std::string(argv[3]) != "--json" ? std::atoi(argv[3]) : 5;
  const std::string vocab_arg = argv[1];
  std::shared_ptr<const pm::TokenTrie> trie;
  auto t0 = Clock::now();
  double trie_ms = 0;
  if (vocab_arg.rfind("qwen-like:", 0) == 0) {
    auto v = pm::build_qwen_like_vocab(vocab_arg.substr(10));
    if (!v.is_ok()) { std::fprintf(stderr, "%s\n", v.status().to_string().c_str()); return 1; }
    t0 = Clock::now();
    trie = pm::TokenTrie::build(std::move(v->pieces), std::move(v->eog));
    trie_ms = us_since(t0) / 1000;
  } else {
    auto f = pm::GgufFile::open(vocab_arg);
    if (!f.is_ok()) { std::fprintf(stderr, "%s\n", f.status().to_string().c_str()); return 1; }
    auto tok = pm::Tokenizer::from_gguf(**f);
    if (!tok.is_ok()) { std::fprintf(stderr, "%s\n", tok.status().to_string().c_str()); return 1; }
    t0 = Clock::now();
    trie = pm::TokenTrie::build(**tok);
    trie_ms = us_since(t0) / 1000;
  }
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(argv[2])) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());

  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  const int32_t n = trie->n_vocab();
  std::vector<uint8_t> mask(static_cast<size_t>(n));
  std::vector<double> all, cold, compile_ms;
  std::string per_schema;
  for (const std::string& file : files) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    t0 = Clock::now();
    auto gbnf = pm::json_schema_to_gbnf(ss.str());
    if (!gbnf.is_ok()) { std::fprintf(stderr, "%s: %s\n", file.c_str(), gbnf.status().to_string().c_str()); continue; }
    auto g = pm::parse_grammar(*gbnf);
    if (!g.is_ok()) { std::fprintf(stderr, "%s: %s\n", file.c_str(), g.status().to_string().c_str()); continue; }
    auto engine = std::make_shared<pm::GrammarEngine>(*g, trie);
    const double c_ms = us_since(t0) / 1000;
    compile_ms.push_back(c_ms);
    std::vector<double> mine;
    for (int k = 0; k < gens; ++k) {
      pm::GrammarMatcher m(engine);
      std::string text;
      for (int step = 0; step < 2000; ++step) {
        const pm::GrammarEngine::Counters before = trace_us >= 0 ? engine->counters() : pm::GrammarEngine::Counters{};
        const auto t = Clock::now();
        if (!m.fill_mask(mask.data()).is_ok()) break;
        const double mask_us = us_since(t);
        // Random logits, short tokens favoured after 30 steps so generations end.
        pm::TokenId best = -1;
        float best_l = -1e30f;
        for (int32_t i = 0; i < n; ++i) {
          if (!mask[size_t(i)]) continue;
          float l = normal(rng);
          const std::string& p = trie->piece(i);
          if (step >= 30) l += trie->is_eog(i) ? 60 : p.size() == 1 ? (p[0] == '"' ? 60 : 30) : 0;
          if (l > best_l) { best_l = l; best = i; }
        }
        if (best < 0) break;
        const auto t2 = Clock::now();
        const bool ok = m.accept_token(best).is_ok();
        const double us = mask_us + us_since(t2);
        if (trace_us >= 0 && us > trace_us) {
          const pm::GrammarEngine::Counters after = engine->counters();
          const std::string tail = text.size() > 40 ? text.substr(text.size() - 40) : text;
          std::fprintf(stderr, "slow %s gen %d step %d: mask %.0f us advance %.0f us %s proj_walks %llu boundary_walks %llu edges %llu states %zu after [%s] token [%s]\n",
                       std::filesystem::path(file).filename().c_str(), k, step, mask_us, us - mask_us,
                       after.mask_misses > before.mask_misses ? "miss" : "hit",
                       (unsigned long long)(after.projected_walks - before.projected_walks),
                       (unsigned long long)(after.boundary_walks - before.boundary_walks),
                       (unsigned long long)(after.walk_children - before.walk_children), engine->n_states(), tail.c_str(),
                       trie->piece(best).c_str());
        }
        text += trie->piece(best);
        all.push_back(us);
        mine.push_back(us);
        if (k == 0) cold.push_back(us);
        if (!ok || m.is_complete()) break;
      }
    }
    const Stats s = stats(mine);
    char line[512];
    std::snprintf(line, sizeof line, "  %-28s compile %7.2f ms  tokens %5zu  mask mean %7.1f us  p50 %6.1f  p99 %8.1f  states %zu\n",
                  std::filesystem::path(file).filename().c_str(), c_ms, s.n, s.mean, s.p50, s.p99, engine->n_states());
    per_schema += line;
  }
  const Stats a = stats(all), c = stats(cold), cm = stats(compile_ms);
  if (json) {
    std::printf("{\"vocab\": \"%s\", \"n_vocab\": %d, \"trie_nodes\": %zu, \"trie_build_ms\": %.1f, \"tokens\": %zu, "
                "\"mask_us_mean\": %.2f, \"mask_us_p50\": %.2f, \"mask_us_p99\": %.2f, \"mask_us_max\": %.1f, "
                "\"cold_mask_us_mean\": %.2f, \"cold_mask_us_p99\": %.2f, \"compile_ms_mean\": %.2f, \"compile_ms_max\": %.2f}\n",
                argv[1], n, trie->n_nodes(), trie_ms, a.n, a.mean, a.p50, a.p99, a.max, c.mean, c.p99, cm.mean, cm.max);
  } else {
    std::printf("%s: %d tokens, trie %zu nodes built in %.1f ms\n%s", argv[1], n, trie->n_nodes(), trie_ms, per_schema.c_str());
    std::printf("all tokens (%zu): mask+advance mean %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us\n", a.n, a.mean, a.p50, a.p99, a.max);
    std::printf("first generation per schema (cold, %zu tokens): mean %.1f us, p99 %.1f us\n", c.n, c.mean, c.p99);
    std::printf("compile per schema: mean %.2f ms, max %.2f ms\n", cm.mean, cm.max);
  }
  return 0;
}
