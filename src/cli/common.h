// Shared pieces of the `pocketmind` verbs: loading a model with its tokenizer, reporting
// errors (stderr, non-zero exit), and JSON output.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "kernels/kernels.h"
#include "models/model.h"
#include "runtime/memory_budget.h"
#include "tokenizer/tokenizer.h"

namespace pm::cli {

inline constexpr int kExitError = 1;  // bad input or a failed operation (usage errors: CLI11's codes)

// Prints "pocketmind VERB: message" to stderr and returns kExitError.
int fail(const std::string& verb, const Status& status);
int fail(const std::string& verb, const std::string& message);

// Options every verb that loads weights shares: -c, -t, --kv-type, --mem-budget.
struct LoadOptions {
  int64_t n_ctx = 0;
  int n_threads = 0;
  std::string kv_type = "f16";
  std::string mem_budget;  // "" = none; "4G", "512M", bytes
};
void add_model_options(CLI::App* cmd, LoadOptions& o);

struct LoadedModel {
  std::shared_ptr<const GgufFile> gguf;
  std::unique_ptr<Model> model;          // null when only the vocabulary was loaded
  std::unique_ptr<Tokenizer> tokenizer;  // null only for rwkv.cpp .bin models without a vocabulary
  std::unique_ptr<ThreadPool> pool;      // threads for evaluation (-t)
  MemoryPlan plan;                       // context size chosen (fits --mem-budget when given)
};

// Opens a GGUF model file with its tokenizer (and weights unless vocab_only).
Result<LoadedModel> load(const std::string& path, bool vocab_only, const LoadOptions& options = {});

// Fails (naming the file) when the model came without a tokenizer (rwkv.cpp .bin World models).
Status need_tokenizer(const LoadedModel& m, const std::string& path);

// Reads a prompt file, naming it in the error.
Result<std::string> read_prompt_file(const std::string& path);
// Parses "1,2,3" or "1 2 3".
Result<std::vector<TokenId>> parse_token_list(const std::string& text);

void print_json(const nlohmann::json& j);

// Registration of each verb on the app (cli/cmd_*.cpp). Each returns the exit code through
// `result` after its callback ran.
void add_tokenize(CLI::App& app, int& result);
// Verbs of the assistant layer (cli/cmd_assistant.cpp registers ask, automation, summarize-call,
// translate) and of the server layer (cli/cmd_serve.cpp: serve, apps); built when the layer is.
void add_assistant_verbs(CLI::App& app, int& result);
void add_server_verbs(CLI::App& app, int& result);
void add_eval(CLI::App& app, int& result);
void add_run(CLI::App& app, int& result);
void add_chat(CLI::App& app, int& result);
void add_info(CLI::App& app, int& result);
void add_quantize(CLI::App& app, int& result);
void add_bench(CLI::App& app, int& result);
void add_synth(CLI::App& app, int& result);
void add_ingest(CLI::App& app, int& result);
void add_search(CLI::App& app, int& result);
void add_forget(CLI::App& app, int& result);
void add_store(CLI::App& app, int& result);  // store rekey (cmd_store.cpp)
void add_embed(CLI::App& app, int& result);

}  // namespace pm::cli
