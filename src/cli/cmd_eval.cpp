// pocketmind eval -m MODEL (--prompt-file F | --tokens 1,2,3) [--dump-logits OUT.f32]
#include <cstdio>
#include <iostream>

#include "cli/common.h"
#include "core/mapped_file.h"
#include "runtime/session.h"

namespace pm::cli {
namespace {

struct EvalArgs {
  std::string model;
  std::string prompt_file;
  std::string tokens;
  std::string dump_logits;
  LoadOptions load;
  bool json = false;
};

int run_eval(const EvalArgs& a) {
  const char* verb = "eval";
  if (a.prompt_file.empty() == a.tokens.empty()) return fail(verb, "give exactly one of --prompt-file or --tokens");
  Result<LoadedModel> m = load(a.model, /*vocab_only=*/false, a.load);
  if (!m.is_ok()) return fail(verb, m.status());

  std::vector<TokenId> tokens;
  if (!a.prompt_file.empty()) {
    Result<std::string> text = read_prompt_file(a.prompt_file);
    if (!text.is_ok()) return fail(verb, text.status());
  if (Status t = need_tokenizer(*m, a.model); !t.is_ok()) return fail(verb, t);
    tokens = m->tokenizer->encode(*text, /*add_special=*/true, /*parse_special=*/false);
    if (tokens.empty()) return fail(verb, a.prompt_file + ": the prompt has no tokens");
  } else {
    Result<std::vector<TokenId>> parsed = parse_token_list(a.tokens);
    if (!parsed.is_ok()) return fail(verb, parsed.status());
    tokens = *parsed;
  }
  // Without -c the context grows to hold the whole prompt.
  const int64_t n_ctx = a.load.n_ctx > 0 ? a.load.n_ctx : std::max<int64_t>(int64_t(tokens.size()), m->plan.n_ctx);
  Result<std::unique_ptr<Session>> session = Session::create(*m->model, n_ctx, m->pool.get());
  if (!session.is_ok()) return fail(verb, session.status());
  Status s = (*session)->eval(tokens, /*all_logits=*/true);
  if (!s.is_ok()) return fail(verb, s);

  const std::vector<float>& logits = (*session)->all_logits();
  if (!a.dump_logits.empty()) {
    Status w = write_file(a.dump_logits, logits.data(), logits.size() * sizeof(float));
    if (!w.is_ok()) return fail(verb, w);
  }
  const int64_t n_vocab = m->model->info().n_vocab;
  if (a.json) {
    nlohmann::json argmax = nlohmann::json::array();
    for (size_t i = 0; i < tokens.size(); ++i) {
      const float* row = logits.data() + i * size_t(n_vocab);
      int64_t best = 0;
      for (int64_t v = 1; v < n_vocab; ++v) if (row[v] > row[best]) best = v;
      argmax.push_back(best);
    }
    print_json({{"tokens", tokens}, {"n_vocab", n_vocab}, {"argmax", argmax},
                {"logits_file", a.dump_logits.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.dump_logits)}});
  } else {
    std::string line = "tokens:";
    for (TokenId t : tokens) line += " " + std::to_string(t);
    std::cout << line << "\n";
    if (!a.dump_logits.empty())
      std::fprintf(stderr, "wrote %zu x %lld logits to %s\n", tokens.size(), (long long)n_vocab, a.dump_logits.c_str());
  }
  return 0;
}

}  // namespace

void add_eval(CLI::App& app, int& result) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "Run a prompt through the model in one batch and dump the logits of every position");
  cmd->add_option("-m,--model", args->model, "GGUF model file")->required();
  cmd->add_option("--prompt-file", args->prompt_file, "prompt text (tokenized with the model's special tokens added)");
  cmd->add_option("--tokens", args->tokens, "token ids, e.g. 1,2,3");
  cmd->add_option("--dump-logits", args->dump_logits, "write float32 logits, n_tokens x n_vocab, row-major");
  add_model_options(cmd, args->load);
  cmd->add_flag("--json", args->json, "machine-readable output (tokens and argmax per position)");
  cmd->callback([args, &result] { result = run_eval(*args); });
}

}  // namespace pm::cli
