// Streaming translation latency: feeds a fixed bilingual text through the segmenter and one warm
// Translator, and prints per-segment latency (p50 / p95 ms), time to first token and generation
// speed, as text and as one JSON line.
//   translate_bench MODEL.gguf [--to en|zh] [-n TOKENS_PER_SEGMENT] [-t THREADS] [-c CTX] [--repeat N]
// Works with any chat GGUF, including random-weight ones from `pocketmind synth` (the text is then
// meaningless but the cost is that of the real shape) and the fixtures in ../shared/fixtures.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "assistant/translate.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "models/model.h"
#include "runtime/memory_budget.h"
#include "tokenizer/tokenizer.h"

namespace {

const char* kText =
    "下个月开始房租要涨到六千五，合同可以续签两年。我考虑一下，周一回复您。"
    "The client moved the demo to next Tuesday afternoon. I'll update the slides and the pricing table. "
    "明天下午三点在望京SOHO开会，记得带上电脑。Can you pick me up at Hongqiao at 9:40pm on Saturday? "
    "天冷了，记得多穿点衣服，别感冒了。Thanks for the book recommendation!";

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
  return v[i];
}

int usage() {
  std::fprintf(stderr,
               "usage: translate_bench MODEL.gguf [--to en|zh] [-n TOKENS] [-t THREADS] [-c CTX] [--repeat N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pm;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) return usage();
  const std::string path = argv[1];
  std::string to = "en";
  int n_tokens = 32, threads = 0, repeat = 1;
  int64_t n_ctx = 0;  // the model's
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const char* v = argv[++i];
    if (a == "--to")
      to = v;
    else if (a == "-n")
      n_tokens = std::atoi(v);
    else if (a == "-t")
      threads = std::atoi(v);
    else if (a == "-c")
      n_ctx = std::atoll(v);
    else if (a == "--repeat")
      repeat = std::max(1, std::atoi(v));
    else
      return usage();
  }
  Result<assistant::TargetLanguage> target = assistant::parse_target_language(to);
  if (!target.is_ok()) {
    std::fprintf(stderr, "translate_bench: --to: %s\n", target.status().message().c_str());
    return 1;
  }
  Result<std::unique_ptr<GgufFile>> file = GgufFile::open(path);
  if (!file.is_ok()) {
    std::fprintf(stderr, "translate_bench: %s\n", file.status().message().c_str());
    return 1;
  }
  std::shared_ptr<const GgufFile> gguf = std::move(*file);
  Result<std::unique_ptr<Tokenizer>> tok = Tokenizer::from_gguf(*gguf);
  Result<std::unique_ptr<Model>> model = tok.is_ok() ? load_model(gguf) : Result<std::unique_ptr<Model>>(tok.status());
  if (!model.is_ok()) {
    std::fprintf(stderr, "translate_bench: %s: %s\n", path.c_str(), model.status().message().c_str());
    return 1;
  }
  Result<MemoryPlan> plan = plan_memory((*model)->info(), n_ctx, 0);
  if (!plan.is_ok()) {
    std::fprintf(stderr, "translate_bench: %s\n", plan.status().message().c_str());
    return 1;
  }
  ThreadPool pool(threads);
  assistant::ChatModel cm;
  cm.model = model->get();
  cm.tokenizer = tok->get();
  Result<std::string> tmpl = gguf->get_string_or("tokenizer.chat_template", "");
  cm.chat = chat_template_for(tmpl.is_ok() ? *tmpl : std::string(), (*model)->info().arch);
  cm.n_ctx = plan->n_ctx;
  cm.pool = &pool;
  assistant::TranslateOptions o;
  o.target = *target;
  o.generate.max_tokens = n_tokens;
  o.generate.sampler.temperature = 0;

  std::vector<double> latency, ttft, tps;
  int restarts = 0;
  for (int rep = 0; rep < repeat; ++rep) {
    Result<std::unique_ptr<assistant::Translator>> tr = assistant::Translator::create(cm, o);
    if (!tr.is_ok()) {
      std::fprintf(stderr, "translate_bench: %s\n", tr.status().message().c_str());
      return 1;
    }
    assistant::Segmenter seg;
    std::vector<std::string> segments = seg.feed(kText);
    for (auto& s : seg.finish()) segments.push_back(s);
    for (const std::string& s : segments) {
      Result<assistant::SegmentTranslation> r = (*tr)->translate(s);
      if (!r.is_ok()) {
        std::fprintf(stderr, "translate_bench: %s\n", r.status().message().c_str());
        return 1;
      }
      latency.push_back(r->latency_ms);
      ttft.push_back(r->ttft_ms);
      if (r->generate_ms > 0 && r->n_generated_tokens > 1)
        tps.push_back(1000.0 * double(r->n_generated_tokens) / r->generate_ms);
      restarts += r->restarted ? 1 : 0;
      std::printf("segment %2zu  %8.1f ms  ttft %7.1f ms  prompt %4lld tok  gen %4lld tok  %s\n", latency.size() - 1,
                  r->latency_ms, r->ttft_ms, (long long)r->n_prompt_tokens, (long long)r->n_generated_tokens,
                  s.c_str());
    }
  }
  double tps_mean = 0;
  for (double x : tps) tps_mean += x / double(tps.size());
  std::printf(
      "segments %zu  latency p50 %.1f ms  p95 %.1f ms  ttft p50 %.1f ms  generation %.1f tokens/s  restarts %d\n",
      latency.size(), percentile(latency, 0.5), percentile(latency, 0.95), percentile(ttft, 0.5), tps_mean, restarts);
  nlohmann::json j = {{"model", path},
                      {"segments", latency.size()},
                      {"latency_p50_ms", percentile(latency, 0.5)},
                      {"latency_p95_ms", percentile(latency, 0.95)},
                      {"ttft_p50_ms", percentile(ttft, 0.5)},
                      {"tg_tokens_per_s", tps_mean},
                      {"restarts", restarts}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
