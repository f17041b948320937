// pocketmind run -m MODEL -p PROMPT [...]   and   pocketmind chat -m MODEL [...]
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <random>

#include "cli/common.h"
#include "generate/chat_template.h"
#include "core/mapped_file.h"
#include "generate/generator.h"
#include "generate/grammar/json_schema.h"
#include "generate/grammar/matcher.h"

namespace pm::cli {
namespace {

struct GenArgs {
  std::string model;
  std::string prompt;
  std::string prompt_file;
  std::string system;
  int32_t n_predict = 256;
  std::vector<std::string> stop;
  SamplerParams sampler;
  LoadOptions load;
  bool json = false;
  std::optional<uint64_t> seed;  // absent: a fresh random seed per run
  std::string grammar_file;      // GBNF
  std::string schema_file;       // JSON Schema
};

void add_sampling_options(CLI::App* cmd, GenArgs& a) {
  cmd->add_option("-m,--model", a.model, "GGUF model file")->required();
  cmd->add_option("-n,--n-predict", a.n_predict, "maximum tokens to generate")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--temp", a.sampler.temperature, "temperature; 0 = greedy")->capture_default_str();
  cmd->add_option("--top-k", a.sampler.top_k, "keep the k most likely tokens (0 = off)")->capture_default_str();
  cmd->add_option("--top-p", a.sampler.top_p, "nucleus sampling mass (1 = off)")->capture_default_str();
  cmd->add_option("--min-p", a.sampler.min_p, "drop tokens below min-p x p(best) (0 = off)")->capture_default_str();
  cmd->add_option("--repeat-penalty", a.sampler.repeat_penalty, "penalty for recently seen tokens (1 = off)")->capture_default_str();
  cmd->add_option("--repeat-last-n", a.sampler.repeat_last_n, "window of the penalties")->capture_default_str();
  cmd->add_option("--presence-penalty", a.sampler.presence_penalty, "OpenAI-style presence penalty");
  cmd->add_option("--frequency-penalty", a.sampler.frequency_penalty, "OpenAI-style frequency penalty");
  cmd->add_option("--seed", a.seed, "random seed (same seed, same output; default: random)");
  cmd->add_option("--stop", a.stop, "stop string (repeatable)");
  cmd->add_option("--grammar", a.grammar_file, "constrain the output to a GBNF grammar file (start rule: root)");
  cmd->add_option("--grammar-json-schema", a.schema_file, "constrain the output to JSON valid under a JSON Schema file");
  add_model_options(cmd, a.load);
  cmd->add_flag("--json", a.json, "machine-readable output");
}

// The grammar engine for --grammar / --grammar-json-schema (nullptr when neither is given).
Result<std::shared_ptr<GrammarEngine>> grammar_engine(const GenArgs& a, const Tokenizer& tokenizer) {
  if (a.grammar_file.empty() && a.schema_file.empty()) return std::shared_ptr<GrammarEngine>();
  if (!a.grammar_file.empty() && !a.schema_file.empty())
    return Status::invalid_argument("give at most one of --grammar and --grammar-json-schema");
  const std::string& path = a.grammar_file.empty() ? a.schema_file : a.grammar_file;
  Result<std::string> text = read_file(path);
  if (!text.is_ok()) return text.status();
  std::string gbnf = *text;
  if (!a.schema_file.empty()) {
    Result<std::string> g = json_schema_to_gbnf(*text);
    if (!g.is_ok()) return g.status().with_context(path);
    gbnf = *g;
  }
  Result<std::shared_ptr<const Grammar>> grammar = parse_grammar(gbnf);
  if (!grammar.is_ok()) return grammar.status().with_context(path);
  return std::make_shared<GrammarEngine>(*grammar, TokenTrie::build(tokenizer));
}

SamplerParams sampler_params(const GenArgs& a) {
  SamplerParams p = a.sampler;
  p.seed = a.seed ? *a.seed : std::random_device{}();
  return p;
}

void print_timings(const GenerateResult& r) {
  const double tg = r.tokens.size() > 1 && r.generate_ms > 0 ? 1000.0 * double(r.tokens.size()) / r.generate_ms : 0;
  const double pp = r.prompt_ms > 0 ? 1000.0 * double(r.n_prompt_tokens) / r.prompt_ms : 0;
  std::fprintf(stderr, "\n[prompt %lld tokens %.1f ms (%.1f tok/s) | generated %zu tokens %.1f ms (%.1f tok/s) | ttft %.1f ms | %s]\n",
               (long long)r.n_prompt_tokens, r.prompt_ms, pp, r.tokens.size(), r.generate_ms, tg, r.ttft_ms,
               finish_reason_name(r.finish));
}

nlohmann::json result_json(const GenerateResult& r) {
  return {{"text", r.text}, {"tokens", r.tokens}, {"finish_reason", finish_reason_name(r.finish)},
          {"n_prompt_tokens", r.n_prompt_tokens}, {"n_generated_tokens", r.tokens.size()},
          {"prompt_ms", r.prompt_ms}, {"generate_ms", r.generate_ms}, {"ttft_ms", r.ttft_ms}};
}

int run_run(const GenArgs& a) {
  const char* verb = "run";
  if (a.prompt.empty() == a.prompt_file.empty()) return fail(verb, "give exactly one of -p PROMPT or --prompt-file FILE");
  std::string prompt = a.prompt;
  if (!a.prompt_file.empty()) {
    Result<std::string> t = read_prompt_file(a.prompt_file);
    if (!t.is_ok()) return fail(verb, t.status());
    prompt = *t;
  }
  Result<LoadedModel> m = load(a.model, false, a.load);
  if (!m.is_ok()) return fail(verb, m.status());
  if (Status t = need_tokenizer(*m, a.model); !t.is_ok()) return fail(verb, t);
  const std::vector<TokenId> tokens = m->tokenizer->encode(prompt, /*add_special=*/true, /*parse_special=*/true);
  Result<std::unique_ptr<Session>> session = Session::create(*m->model, m->plan.n_ctx, m->pool.get());
  if (!session.is_ok()) return fail(verb, session.status());

  GenerateOptions opt;
  opt.max_tokens = a.n_predict;
  opt.sampler = sampler_params(a);
  opt.stop = a.stop;
  Result<std::shared_ptr<GrammarEngine>> engine = grammar_engine(a, *m->tokenizer);
  if (!engine.is_ok()) return fail(verb, engine.status());
  opt.grammar = *engine;
  TextCallback stream = nullptr;
  if (!a.json) stream = [](std::string_view s) { std::cout << s << std::flush; return true; };
  Result<GenerateResult> r = generate(**session, *m->tokenizer, tokens, opt, stream);
  if (!r.is_ok()) return fail(verb, r.status());
  if (a.json) print_json(result_json(*r));
  else { std::cout << "\n" << std::flush; print_timings(*r); }
  return 0;
}

int run_chat(const GenArgs& a) {
  const char* verb = "chat";
  Result<LoadedModel> m = load(a.model, false, a.load);
  if (!m.is_ok()) return fail(verb, m.status());
  if (Status t = need_tokenizer(*m, a.model); !t.is_ok()) return fail(verb, t);
  Result<std::string> tmpl_text =
      m->gguf ? m->gguf->get_string_or("tokenizer.chat_template", "") : Result<std::string>(std::string());
  if (!tmpl_text.is_ok()) return fail(verb, tmpl_text.status());
  const ChatTemplate tmpl = chat_template_for(*tmpl_text, m->model->info().arch);
  Result<std::unique_ptr<Session>> session = Session::create(*m->model, m->plan.n_ctx, m->pool.get());
  if (!session.is_ok()) return fail(verb, session.status());
  Session& s = **session;

  const bool interactive = isatty(STDIN_FILENO) && !a.json;
  if (interactive)
    std::fprintf(stderr, "chat with %s (%s format). /reset starts over, /exit or Ctrl-D quits.\n",
                 a.model.c_str(), chat_format_name(tmpl.format));
  std::vector<ChatMessage> messages;
  if (!a.system.empty()) messages.push_back({"system", a.system});
  std::string evaluated;  // the text whose tokens the session holds

  GenerateOptions opt;
  opt.max_tokens = a.n_predict;
  opt.sampler = sampler_params(a);
  opt.stop = a.stop;
  for (const std::string& st : chat_stop_strings(tmpl.format)) opt.stop.push_back(st);
  Result<std::shared_ptr<GrammarEngine>> engine = grammar_engine(a, *m->tokenizer);
  if (!engine.is_ok()) return fail(verb, engine.status());
  opt.grammar = *engine;

  std::string line;
  while (true) {
    if (interactive) std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      messages.resize(a.system.empty() ? 0 : 1);
      s.reset();
      evaluated.clear();
      continue;
    }
    if (line.empty()) continue;
    messages.push_back({"user", line});
    const std::string full = render_chat(tmpl, messages, /*add_generation_prompt=*/true);
    std::vector<TokenId> delta;
    if (!evaluated.empty() && full.compare(0, evaluated.size(), evaluated) == 0) {
      delta = m->tokenizer->encode(std::string_view(full).substr(evaluated.size()), false, true);
    } else {
      s.reset();
      delta = m->tokenizer->encode(full, true, true);
    }
    TextCallback stream = nullptr;
    if (!a.json) stream = [](std::string_view t) { std::cout << t << std::flush; return true; };
    Result<GenerateResult> r = generate(s, *m->tokenizer, delta, opt, stream);
    if (!r.is_ok()) {
      if (r.status().code() != StatusCode::kOutOfRange) return fail(verb, r.status());
      std::fprintf(stderr, "pocketmind chat: the conversation no longer fits in the context; starting over\n");
      messages.erase(messages.begin() + (a.system.empty() ? 0 : 1), messages.end() - 1);
      s.reset();
      evaluated.clear();
      r = generate(s, *m->tokenizer, m->tokenizer->encode(render_chat(tmpl, messages, true), true, true), opt, stream);
      if (!r.is_ok()) return fail(verb, r.status());
    }
    messages.push_back({"assistant", r->text});
    evaluated = render_chat(tmpl, std::vector<ChatMessage>(messages.begin(), messages.end() - 1), true) + r->text;
    if (a.json) print_json({{"role", "assistant"}, {"content", r->text}, {"finish_reason", finish_reason_name(r->finish)}});
    else std::cout << "\n" << std::flush;
  }
  return 0;
}

}  // namespace

void add_run(CLI::App& app, int& result) {
  auto args = std::make_shared<GenArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt (only the generated text goes to stdout)");
  add_sampling_options(cmd, *args);
  cmd->add_option("-p,--prompt", args->prompt, "prompt text (special-token text like <|im_start|> is honoured)");
  cmd->add_option("--prompt-file", args->prompt_file, "read the prompt from a file");
  cmd->callback([args, &result] { result = run_run(*args); });
}

void add_chat(CLI::App& app, int& result) {
  auto args = std::make_shared<GenArgs>();
  CLI::App* cmd = app.add_subcommand("chat", "Multi-turn chat on stdin/stdout using the model's chat template");
  add_sampling_options(cmd, *args);
  cmd->add_option("-s,--system", args->system, "system prompt");
  cmd->callback([args, &result] { result = run_chat(*args); });
}

}  // namespace pm::cli
