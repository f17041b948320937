// pocketmind info -m MODEL [--metadata] [--tensors] [--json]
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/common.h"
#include "generate/chat_template.h"

namespace pm::cli {
namespace {

struct InfoArgs {
  std::string model;
  LoadOptions load;
  bool metadata = false;
  bool tensors = false;
  bool json = false;
};

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", double(b) / double(1ull << 30));
  else if (b >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", double(b) / double(1ull << 20));
  else std::snprintf(buf, sizeof buf, "%.1f KiB", double(b) / 1024.0);
  return buf;
}

// Models from other formats (rwkv.cpp .bin): what the model itself reports.
int describe_non_gguf(const InfoArgs& a, const LoadedModel& m) {
  const ModelInfo& mi = m.model->info();
  if (a.json) {
    print_json({{"file", a.model}, {"format", "rwkv.cpp"}, {"arch", mi.arch}, {"n_params", mi.n_params},
                {"n_vocab", mi.n_vocab}, {"n_embd", mi.n_embd}, {"n_layer", mi.n_layer}, {"recurrent", mi.recurrent},
                {"weights_bytes", mi.weights_bytes}, {"state_bytes", m.plan.state_bytes},
                {"memory_bytes", m.plan.total_bytes()}});
    return 0;
  }
  std::printf("file:          %s (rwkv.cpp format)\n", a.model.c_str());
  std::printf("architecture:  %s%s\n", mi.arch.c_str(), mi.recurrent ? " (recurrent: fixed-size state)" : "");
  std::printf("parameters:    %.3f M\n", double(mi.n_params) / 1e6);
  std::printf("shape:         n_embd %lld, n_layer %lld, vocabulary %lld\n", (long long)mi.n_embd, (long long)mi.n_layer,
              (long long)mi.n_vocab);
  std::printf("memory:        weights %s + state %s + scratch %s = %s\n", human_bytes(mi.weights_bytes).c_str(),
              human_bytes(m.plan.state_bytes).c_str(), human_bytes(m.plan.scratch_bytes).c_str(),
              human_bytes(m.plan.total_bytes()).c_str());
  return 0;
}

int run_info(const InfoArgs& a) {
  const char* verb = "info";
  Result<LoadedModel> m = load(a.model, false, a.load);
  if (!m.is_ok()) return fail(verb, m.status());
  const ModelInfo& mi = m->model->info();
  if (!m->gguf) return describe_non_gguf(a, *m);
  const GgufFile& f = *m->gguf;
  const int64_t n_ctx = m->plan.n_ctx;
  std::map<std::string, std::pair<int, uint64_t>> by_type;  // type -> (tensors, bytes)
  for (const GgufTensorInfo& t : f.tensors()) {
    auto& e = by_type[type_name(t.type)];
    e.first += 1;
    e.second += t.size_bytes;
  }
  Result<std::string> tmpl = f.get_string_or("tokenizer.chat_template", "");
  const std::string chat = chat_format_name(chat_template_for(tmpl.is_ok() ? *tmpl : "", mi.arch).format);
  const char* vocab_kinds[] = {"sentencepiece", "bpe", "wordpiece", "rwkv-world"};
  const std::string vocab = vocab_kinds[int(m->tokenizer->kind())];
  const uint64_t state = mi.state_bytes(n_ctx);

  if (a.json) {
    nlohmann::json types = nlohmann::json::object();
    for (const auto& [name, e] : by_type) types[name] = {{"tensors", e.first}, {"bytes", e.second}};
    nlohmann::json j = {
        {"file", a.model}, {"gguf_version", f.version()}, {"file_bytes", f.file_size_bytes()},
        {"arch", mi.arch}, {"name", mi.name}, {"n_params", mi.n_params}, {"n_vocab", mi.n_vocab},
        {"n_ctx_train", mi.n_ctx_train}, {"n_embd", mi.n_embd}, {"n_layer", mi.n_layer}, {"n_head", mi.n_head},
        {"n_head_kv", mi.n_head_kv}, {"head_dim", mi.head_dim}, {"n_ff", mi.n_ff},
        {"weights_bytes", mi.weights_bytes}, {"tensor_types", types}, {"tokenizer", vocab},
        {"pre_tokenizer", m->tokenizer->pre_tokenizer()}, {"chat_format", chat}, {"n_ctx", n_ctx},
        {"state_bytes", state}, {"scratch_bytes", m->plan.scratch_bytes}, {"memory_bytes", m->plan.total_bytes()}};
    if (a.metadata) {
      nlohmann::json md = nlohmann::json::object();
      for (const auto& [k, v] : f.metadata()) md[k] = v.to_string(16);
      j["metadata"] = md;
    }
    if (a.tensors) {
      nlohmann::json ts = nlohmann::json::array();
      for (const GgufTensorInfo& t : f.tensors())
        ts.push_back({{"name", t.name}, {"type", type_name(t.type)}, {"shape", t.ne}, {"bytes", t.size_bytes}});
      j["tensors"] = ts;
    }
    print_json(j);
    return 0;
  }
  std::printf("file:          %s (GGUF v%u, %s)\n", a.model.c_str(), f.version(), human_bytes(f.file_size_bytes()).c_str());
  std::printf("architecture:  %s%s%s\n", mi.arch.c_str(), mi.name.empty() ? "" : "  name: ", mi.name.c_str());
  std::printf("parameters:    %.3f M\n", double(mi.n_params) / 1e6);
  std::printf("shape:         n_embd %lld, n_layer %lld, n_head %lld, n_head_kv %lld, head_dim %lld, n_ff %lld\n",
              (long long)mi.n_embd, (long long)mi.n_layer, (long long)mi.n_head, (long long)mi.n_head_kv,
              (long long)mi.head_dim, (long long)mi.n_ff);
  std::printf("vocabulary:    %lld tokens, %s%s%s\n", (long long)mi.n_vocab, vocab.c_str(),
              m->tokenizer->pre_tokenizer().empty() ? "" : ", pre-tokenizer ",
              m->tokenizer->pre_tokenizer().c_str());
  std::printf("context:       %lld trained\n", (long long)mi.n_ctx_train);
  std::printf("chat format:   %s\n", chat.c_str());
  std::printf("tensor types: ");
  for (const auto& [name, e] : by_type) std::printf(" %s x%d (%s)", name.c_str(), e.first, human_bytes(e.second).c_str());
  std::printf("\nmemory:        weights %s (mapped) + %s %s at %lld tokens + scratch %s = %s\n",
              human_bytes(mi.weights_bytes).c_str(), mi.recurrent ? "state" : "KV cache", human_bytes(state).c_str(),
              (long long)n_ctx, human_bytes(m->plan.scratch_bytes).c_str(), human_bytes(m->plan.total_bytes()).c_str());
  if (a.metadata)
    for (const auto& [k, v] : f.metadata()) std::printf("  %s = %s\n", k.c_str(), v.to_string(16).c_str());
  if (a.tensors)
    for (const GgufTensorInfo& t : f.tensors())
      std::printf("  %-40s %-6s %s\n", t.name.c_str(), type_name(t.type), t.shape_string().c_str());
  return 0;
}

}  // namespace

void add_info(CLI::App& app, int& result) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* cmd = app.add_subcommand("info", "Describe a model: architecture, sizes, tensor types, memory needed");
  cmd->add_option("-m,--model", args->model, "GGUF model file")->required();
  add_model_options(cmd, args->load);
  cmd->add_flag("--metadata", args->metadata, "list every metadata key");
  cmd->add_flag("--tensors", args->tensors, "list every tensor");
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([args, &result] { result = run_info(*args); });
}

}  // namespace pm::cli
