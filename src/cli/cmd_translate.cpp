// pocketmind translate --to en|zh -m MODEL [--json]
// Reads text from stdin as it arrives, cuts it into segments at sentence / clause ends and
// translates each one as soon as it is complete, on one warm model session (assistant/translate.h).
#ifdef PM_WITH_ASSISTANT
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "assistant/translate.h"
#include "cli/assistant_common.h"

namespace pm::cli {
namespace {

struct TranslateArgs {
  std::string to = "en";
  std::string model;
  int32_t n_predict = 128;
  int clause_min_weight = 24;
  LoadOptions load;
  bool json = false;
};

int run_translate(const TranslateArgs& a) {
  const char* verb = "translate";
  Result<assistant::TargetLanguage> target = assistant::parse_target_language(a.to);
  if (!target.is_ok()) return fail(verb, target.status().with_context("--to"));
  LoadedModel holder;
  Result<assistant::ChatModel> cm = load_chat_model(a.model, a.load, holder);
  if (!cm.is_ok()) return fail(verb, cm.status());
  assistant::TranslateOptions o;
  o.target = *target;
  o.generate.max_tokens = a.n_predict;
  o.generate.sampler.temperature = 0;
  Result<std::unique_ptr<assistant::Translator>> tr = assistant::Translator::create(*cm, o);
  if (!tr.is_ok()) return fail(verb, tr.status());
  assistant::SegmenterOptions so;
  so.clause_min_weight = a.clause_min_weight;
  assistant::Segmenter segmenter(so);
  int index = 0;
  auto handle = [&](const std::string& segment) -> Status {
    TextCallback stream = nullptr;
    if (!a.json)
      stream = [](std::string_view t) {
        std::cout << t << std::flush;
        return true;
      };
    Result<assistant::SegmentTranslation> r = (*tr)->translate(segment, stream);
    if (!r.is_ok()) return r.status();
    if (a.json) {
      std::cout << nlohmann::json{{"index", index},
                                  {"source", r->source},
                                  {"translation", r->translation},
                                  {"latency_ms", r->latency_ms},
                                  {"ttft_ms", r->ttft_ms},
                                  {"prompt_tokens", r->n_prompt_tokens},
                                  {"generated_tokens", r->n_generated_tokens},
                                  {"restarted", r->restarted}}
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n"
                << std::flush;
    } else {
      std::cout << "\n" << std::flush;
      std::fprintf(stderr, "[segment %d: %.1f ms, %lld prompt tokens, %lld generated]\n", index, r->latency_ms,
                   (long long)r->n_prompt_tokens, (long long)r->n_generated_tokens);
    }
    ++index;
    return Status::ok();
  };
  // Read whatever stdin has (not waiting for whole lines), so segments go out as soon as they end.
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0) return fail(verb, "reading stdin failed");
    if (n == 0) break;
    for (const std::string& seg : segmenter.feed(std::string_view(buf, size_t(n))))
      if (Status s = handle(seg); !s.is_ok()) return fail(verb, s);
  }
  for (const std::string& seg : segmenter.finish())
    if (Status s = handle(seg); !s.is_ok()) return fail(verb, s);
  return 0;
}

}  // namespace

void add_translate(CLI::App& app, int& result) {
  auto args = std::make_shared<TranslateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "translate",
      "Translate text from stdin segment by segment as it arrives (sentence / clause ends), one warm model session");
  cmd->add_option("--to", args->to, "target language: en or zh")->capture_default_str();
  cmd->add_option("-m,--model", args->model, "GGUF chat model")->required();
  cmd->add_option("-n,--n-predict", args->n_predict, "maximum tokens per segment")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--clause-min", args->clause_min_weight,
                  "cut at a comma once the segment weighs this much (CJK character 2, other 1)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  add_model_options(cmd, args->load);
  cmd->add_flag("--json", args->json, "one JSON line per segment: {index, source, translation, latency_ms, ...}");
  cmd->callback([args, &result] { result = run_translate(*args); });
}

}  // namespace pm::cli
#endif
