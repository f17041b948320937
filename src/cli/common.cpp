#include "cli/common.h"

#include <cstdio>
#include <iostream>

#include "core/mapped_file.h"
#include "formats/rwkv_bin.h"
#include "tokenizer/byte_level.h"

namespace pm::cli {

int fail(const std::string& verb, const Status& status) {
  return fail(verb, status.message().empty() ? status.to_string() : status.message());
}

int fail(const std::string& verb, const std::string& message) {
  std::fprintf(stderr, "pocketmind %s: error: %s\n", verb.c_str(), message.c_str());
  return kExitError;
}

void add_model_options(CLI::App* cmd, LoadOptions& o) {
  cmd->add_option("-c,--ctx-size", o.n_ctx, "context size in tokens (default: the model's, up to 4096, or what fits --mem-budget)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 24));
  cmd->add_option("-t,--threads", o.n_threads, "threads for evaluation (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--kv-type", o.kv_type, "KV cache element type: f16, q8_0 (half the memory) or f32")->capture_default_str();
  cmd->add_option("--mem-budget", o.mem_budget,
                  "memory the model may use (e.g. 3G, 800M): the context is sized to fit, or loading is refused");
}

// rwkv.cpp .bin files carry no vocabulary: the tiny test models are byte-level; a World model
// needs its vocabulary file next to it (not yet supported: a clear error).
static Result<LoadedModel> load_rwkv_bin(const std::string& path, const LoadOptions& o) {
  LoadedModel m;
  PM_ASSIGN_OR_RETURN(m.model, load_model(path));
  if (m.model->info().n_vocab == 256) m.tokenizer = make_byte_level_tokenizer();
  uint64_t budget = 0;
  if (!o.mem_budget.empty()) {
    Result<uint64_t> b = parse_byte_size(o.mem_budget);
    if (!b.is_ok()) return b.status().with_context("--mem-budget");
    budget = *b;
  }
  PM_ASSIGN_OR_RETURN(m.plan, plan_memory(m.model->info(), o.n_ctx, budget));
  m.pool = std::make_unique<ThreadPool>(o.n_threads);
  return m;
}

static bool has_rwkv_magic(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  uint8_t magic[4] = {};
  const size_t n = std::fread(magic, 1, 4, f);
  std::fclose(f);
  return RwkvBinFile::has_magic(magic, n);
}

// The RWKV World vocab text file ("1 '\\x00' 1" ...): named *.txt, or text starting with an id
// where a GGUF file would start with its magic.
static bool is_rwkv_vocab_file(const std::string& path) {
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".txt") == 0) return true;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char first = 0;
  const size_t n = std::fread(&first, 1, 1, f);
  std::fclose(f);
  return n == 1 && first >= '1' && first <= '9';
}

Status need_tokenizer(const LoadedModel& m, const std::string& path) {
  if (m.tokenizer) return Status::ok();
  return Status::unsupported(path + ": this rwkv.cpp .bin model has a " + std::to_string(m.model->info().n_vocab) +
                             "-token vocabulary that the file does not carry; give token ids (eval --tokens, bench) "
                             "or use the model's GGUF conversion, which includes its tokenizer");
}

Result<LoadedModel> load(const std::string& path, bool vocab_only, const LoadOptions& o) {
  if (has_rwkv_magic(path)) return load_rwkv_bin(path, o);
  LoadedModel m;
  if (is_rwkv_vocab_file(path)) {
    if (!vocab_only) return Status::invalid_argument(path + ": a vocabulary file has no weights; give the model file");
    PM_ASSIGN_OR_RETURN(m.tokenizer, Tokenizer::from_rwkv_vocab_file(path));
    return m;
  }
  PM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::open(path));
  m.gguf = std::move(f);
  PM_ASSIGN_OR_RETURN(m.tokenizer, Tokenizer::from_gguf(*m.gguf));
  if (!vocab_only) {
    ModelOptions options;
    const std::optional<GgmlType> kv = type_from_name(o.kv_type);
    if (!kv) return Status::invalid_argument("--kv-type: unknown type \"" + o.kv_type + "\" (f16, q8_0, f32)");
    options.kv_type = *kv;
    uint64_t budget = 0;
    if (!o.mem_budget.empty()) {
      Result<uint64_t> b = parse_byte_size(o.mem_budget);
      if (!b.is_ok()) return b.status().with_context("--mem-budget");
      budget = *b;
    }
    PM_ASSIGN_OR_RETURN(m.model, load_model(m.gguf, options));
    PM_ASSIGN_OR_RETURN(m.plan, plan_memory(m.model->info(), o.n_ctx, budget));
    m.pool = std::make_unique<ThreadPool>(o.n_threads);
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
