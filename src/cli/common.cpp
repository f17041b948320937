#include "cli/common.h"

#include <cstdio>
#include <iostream>

#include "core/mapped_file.h"

namespace pm::cli {

int fail(const std::string& verb, const Status& status) {
  return fail(verb, status.message().empty() ? status.to_string() : status.message());
}

int fail(const std::string& verb, const std::string& message) {
  std::fprintf(stderr, "pocketmind %s: error: %s\n", verb.c_str(), message.c_str());
  return kExitError;
}

void add_threads_option(CLI::App* cmd, int& n_threads) {
  cmd->add_option("-t,--threads", n_threads, "threads for evaluation (default: all cores)")->check(CLI::Range(0, 1024));
}

Result<LoadedModel> load(const std::string& path, bool vocab_only, int64_t n_ctx, int n_threads) {
  LoadedModel m;
  PM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::open(path));
  m.gguf = std::move(f);
  PM_ASSIGN_OR_RETURN(m.tokenizer, Tokenizer::from_gguf(*m.gguf));
  if (!vocab_only) {
    ModelOptions options;
    options.n_ctx = n_ctx;
    PM_ASSIGN_OR_RETURN(m.model, load_model(m.gguf, options));
    m.pool = std::make_unique<ThreadPool>(n_threads);
    if (m.model->info().n_vocab < m.tokenizer->n_vocab())
      return Status::corrupt(path + ": the tokenizer has " + std::to_string(m.tokenizer->n_vocab()) +
                             " tokens but the model's output has only " + std::to_string(m.model->info().n_vocab));
  }
  return m;
}

Result<std::string> read_prompt_file(const std::string& path) {
  Result<std::string> r = read_file(path);
  if (!r.is_ok()) return r.status().with_context("prompt file");
  return r;
}

Result<std::vector<TokenId>> parse_token_list(const std::string& text) {
  std::vector<TokenId> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ',' || text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) ++i;
    if (i >= text.size()) break;
    size_t j = i;
    if (text[j] == '-') ++j;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || (j == i + 1 && text[i] == '-') || (j < text.size() && text[j] != ',' && text[j] != ' ' && text[j] != '\n' && text[j] != '\t'))
      return Status::invalid_argument("token list: \"" + text.substr(i, 20) + "\" is not an integer");
    const long long v = std::stoll(text.substr(i, j - i).substr(0, 12));
    if (v < 0 || v > 0x7fffffffLL) return Status::invalid_argument("token list: " + text.substr(i, j - i) + " is not a valid token id");
    out.push_back(TokenId(v));
    i = j;
  }
  if (out.empty()) return Status::invalid_argument("token list is empty");
  return out;
}

void print_json(const nlohmann::json& j) {
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

}  // namespace pm::cli
