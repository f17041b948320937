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
#include "generate/tool_calls.h"

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
  std::string tools_file;        // OpenAI-shape tools (JSON array)
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
  cmd->add_option("--tools", a.tools_file,
                  "JSON file with OpenAI-shape tools: calls the model starts are held to the tools' schemas and "
                  "reported (with --json, in \"tool_calls\")");
  add_model_options(cmd, a.load);
  cmd->add_flag("--json", a.json, "machine-readable output");
}

Result<std::vector<ToolSpec>> load_tools(const std::string& path) {
  if (path.empty()) return std::vector<ToolSpec>();
  Result<std::string> text = read_file(path);
  if (!text.is_ok()) return text.status();
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Status::invalid_argument(path + ": not valid JSON");
  Result<std::vector<ToolSpec>> tools = parse_tools(j);
  if (!tools.is_ok()) return tools.status().with_context(path);
  if (tools->empty()) return Status::invalid_argument(path + ": no tools in the file");
  return tools;
}

// The model's chat template, with the token texts its variables need.
ChatTemplate model_template(const LoadedModel& m, const std::string& tmpl_text) {
  ChatTemplate t = chat_template_for(tmpl_text, m.model ? m.model->info().arch : "");
  const SpecialTokens& sp = m.tokenizer->special();
  if (sp.bos != kNoToken) t.bos_token = m.tokenizer->token_to_piece(sp.bos, true);
  if (sp.eos != kNoToken) t.eos_token = m.tokenizer->token_to_piece(sp.eos, true);
  return t;
}

nlohmann::ordered_json calls_json(const std::vector<ParsedToolCall>& calls) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const ParsedToolCall& c : calls) {
    nlohmann::ordered_json j = {{"name", c.name}, {"arguments", c.arguments}};
    if (!c.error.empty()) j["error"] = c.error;
    out.push_back(std::move(j));
  }
  return out;
}

// Streams text to stdout and prints each tool call as one JSON line (text mode).
ToolEventCallback print_events() {
  return [](const ToolStreamEvent& e) {
    if (!e.is_call) {
      std::cout << e.text << std::flush;
    } else {
      nlohmann::ordered_json j = {{"tool_call", {{"name", e.call.name}, {"arguments", e.call.arguments}}}};
      if (!e.call.error.empty()) j["error"] = e.call.error;
      std::cout << "\n" << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n" << std::flush;
    }
    return true;
  };
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
  Result<std::vector<ToolSpec>> tools = load_tools(a.tools_file);
  if (!tools.is_ok()) return fail(verb, tools.status());
  if (!tools->empty()) {
    // The prompt is raw text (it should already describe the tools); calls are held to the tools.
    if (opt.grammar) return fail(verb, "--tools cannot be combined with --grammar or --grammar-json-schema");
    Result<std::string> tmpl_text =
        m->gguf ? m->gguf->get_string_or("tokenizer.chat_template", "") : Result<std::string>(std::string());
    if (!tmpl_text.is_ok()) return fail(verb, tmpl_text.status());
    ToolGenerateOptions to;
    to.tools = *tools;
    to.syntax = tool_call_syntax_for(model_template(*m, *tmpl_text));
    Result<ToolGenerateResult> r = generate_with_tools(**session, *m->tokenizer, tokens, opt, to,
                                                       a.json ? ToolEventCallback() : print_events());
    if (!r.is_ok()) return fail(verb, r.status());
    if (a.json) {
      nlohmann::ordered_json j = result_json(r->generation);
      j["content"] = r->content;
      j["tool_calls"] = calls_json(r->calls);
      print_json(j);
    } else {
      std::cout << "\n" << std::flush;
      print_timings(r->generation);
    }
    return 0;
  }
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
  const ChatTemplate tmpl = model_template(*m, *tmpl_text);
  if (!tmpl.parse_error.empty())
    std::fprintf(stderr, "pocketmind chat: the model's chat template does not parse (%s); using the built-in %s format\n",
                 tmpl.parse_error.c_str(), chat_format_name(tmpl.format));
  Result<std::vector<ToolSpec>> tools = load_tools(a.tools_file);
  if (!tools.is_ok()) return fail(verb, tools.status());
  ToolGenerateOptions tool_opt;
  tool_opt.tools = *tools;
  tool_opt.syntax = tool_call_syntax_for(tmpl);
  ChatRequest request;
  if (!tools->empty()) {
    nlohmann::ordered_json tools_json = nlohmann::ordered_json::parse(*read_file(a.tools_file));
    request.tools = tools_json;
    Result<std::shared_ptr<GrammarEngine>> tool_engine = tool_call_engine(*tools, tool_opt.syntax, *m->tokenizer);
    if (!tool_engine.is_ok()) return fail(verb, tool_engine.status());
    tool_opt.engine = *tool_engine;
  }
  bool warned = false;
  // The conversation through the model's template (the built-in format when it fails, said once).
  auto render = [&](const std::vector<ChatMessage>& msgs, bool add_generation_prompt) {
    request.messages = msgs;
    request.add_generation_prompt = add_generation_prompt;
    RenderedChat out = render_conversation(tmpl, request);
    if (!out.fallback_reason.empty() && !warned && tmpl.parse_error.empty()) {
      std::fprintf(stderr, "pocketmind chat: the model's chat template failed (%s); using the built-in %s format\n",
                   out.fallback_reason.c_str(), chat_format_name(tmpl.format));
      warned = true;
    }
    return out.text;
  };
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
  if (opt.grammar && !tools->empty()) return fail(verb, "--tools cannot be combined with --grammar or --grammar-json-schema");
  // One reply: with tools, text and calls are split as they stream.
  auto reply = [&](const std::vector<TokenId>& prompt) -> Result<ToolGenerateResult> {
    if (!tools->empty())
      return generate_with_tools(s, *m->tokenizer, prompt, opt, tool_opt, a.json ? ToolEventCallback() : print_events());
    TextCallback stream = nullptr;
    if (!a.json) stream = [](std::string_view t) { std::cout << t << std::flush; return true; };
    Result<GenerateResult> g = generate(s, *m->tokenizer, prompt, opt, stream);
    if (!g.is_ok()) return g.status();
    ToolGenerateResult out;
    out.generation = std::move(*g);
    out.content = out.generation.text;
    return out;
  };

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
    const std::string full = render(messages, /*add_generation_prompt=*/true);
    std::vector<TokenId> delta;
    if (!evaluated.empty() && full.compare(0, evaluated.size(), evaluated) == 0) {
      delta = m->tokenizer->encode(std::string_view(full).substr(evaluated.size()), false, true);
    } else {
      s.reset();
      delta = m->tokenizer->encode(full, true, true);
    }
    Result<ToolGenerateResult> r = reply(delta);
    if (!r.is_ok()) {
      if (r.status().code() != StatusCode::kOutOfRange) return fail(verb, r.status());
      std::fprintf(stderr, "pocketmind chat: the conversation no longer fits in the context; starting over\n");
      messages.erase(messages.begin() + (a.system.empty() ? 0 : 1), messages.end() - 1);
      s.reset();
      evaluated.clear();
      r = reply(m->tokenizer->encode(render(messages, true), true, true));
      if (!r.is_ok()) return fail(verb, r.status());
    }
    ChatMessage answer("assistant", tools->empty() ? r->generation.text : r->content);
    for (const ParsedToolCall& c : r->calls)
      if (c.error.empty()) answer.tool_calls.push_back({"", c.name, c.arguments});
    messages.push_back(answer);
    evaluated = render(std::vector<ChatMessage>(messages.begin(), messages.end() - 1), true) + r->generation.text;
    if (a.json) {
      nlohmann::ordered_json j = {{"role", "assistant"}, {"content", answer.content},
                                  {"finish_reason", finish_reason_name(r->generation.finish)}};
      if (!tools->empty()) j["tool_calls"] = calls_json(r->calls);
      print_json(j);
    } else {
      std::cout << "\n" << std::flush;
    }
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
