// pocketmind tokenize -m MODEL [--cases FILE | --prompt-file F | TEXT...]
#include <iostream>

#include "cli/common.h"
#include "tokenizer/test_cases.h"

namespace pm::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::string cases;
  std::string prompt_file;
  std::vector<std::string> text;
  bool add_special = false;
  bool parse_special = false;
  bool json = false;
};

std::string id_line(const std::vector<TokenId>& ids) {
  std::string s;
  for (TokenId id : ids) s += " " + std::to_string(id);
  return s;
}

int run_tokenize(const TokenizeArgs& a) {
  const char* verb = "tokenize";
  Result<LoadedModel> m = load(a.model, /*vocab_only=*/true);
  if (!m.is_ok()) return fail(verb, m.status());
  if (Status t = need_tokenizer(*m, a.model); !t.is_ok()) return fail(verb, t);
  const Tokenizer& tok = *m->tokenizer;

  if (!a.cases.empty()) {
    Result<std::string> text = read_file(a.cases);
    if (!text.is_ok()) return fail(verb, text.status());
    Result<std::vector<std::string>> cases = parse_vocab_test_cases(*text);
    if (!cases.is_ok()) return fail(verb, cases.status().with_context(a.cases));
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& c : *cases) {
      const std::vector<TokenId> ids = tok.encode(c, a.add_special, a.parse_special);
      if (a.json) out.push_back(ids);
      else std::cout << id_line(ids) << "\n";
    }
    if (a.json) print_json(out);
    return 0;
  }

  std::string input;
  if (!a.prompt_file.empty()) {
    Result<std::string> text = read_prompt_file(a.prompt_file);
    if (!text.is_ok()) return fail(verb, text.status());
    input = *text;
  } else if (!a.text.empty()) {
    for (size_t i = 0; i < a.text.size(); ++i) input += (i ? " " : "") + a.text[i];
  } else {
    return fail(verb, "give the text to tokenize, --prompt-file FILE or --cases FILE");
  }
  const std::vector<TokenId> ids = tok.encode(input, a.add_special, a.parse_special);
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (TokenId id : ids) out.push_back({{"id", id}, {"piece", tok.token_to_piece(id, true)}});
    print_json({{"n_tokens", ids.size()}, {"tokens", out}});
  } else {
    std::cout << id_line(ids).substr(ids.empty() ? 0 : 1) << "\n";
  }
  return 0;
}

}  // namespace

void add_tokenize(CLI::App& app, int& result) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Print the token ids of a text (or of every case in a test file)");
  cmd->add_option("-m,--model", args->model, "GGUF model, vocab-only GGUF, rwkv.cpp .bin or RWKV World vocab .txt file")->required();
  cmd->add_option("--cases", args->cases,
                  "file of cases separated by lines '__ggml_vocab_test__'; prints one line of ids per case");
  cmd->add_option("--prompt-file", args->prompt_file, "read the text from this file");
  cmd->add_option("text", args->text, "text to tokenize");
  cmd->add_flag("--add-special", args->add_special, "add BOS/EOS as the model's metadata asks");
  cmd->add_flag("--parse-special", args->parse_special, "treat special-token text such as <|im_start|> as that token");
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([args, &result] { result = run_tokenize(*args); });
}

}  // namespace pm::cli
