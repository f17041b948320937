#include "models/registry.h"

#include <cstdio>

#include "formats/rwkv_bin.h"
#include "models/rwkv.h"

namespace pm {
namespace {

constexpr ArchEntry kArchitectures[] = {
    {"llama", build_llama},  // Llama 2/3, Mistral, SmolLM and other llama-shaped models
    {"qwen2", build_qwen2},
    {"qwen3", build_qwen3},
    {"rwkv6", build_rwkv_gguf},  // RWKV v6 "Finch" and v7 "Goose" as llama.cpp converts them (models/rwkv_gguf.cpp)
    {"rwkv7", build_rwkv_gguf},
    {"bert", build_bert},  // sentence-embedding encoders (models/bert.h: EmbeddingModel)
    {"nomic-bert", build_nomic_bert},
};

}  // namespace

const ArchEntry* find_arch(const std::string& name) {
  for (const ArchEntry& e : kArchitectures)
    if (name == e.name) return &e;
  return nullptr;
}

std::vector<std::string> supported_architectures() {
  std::vector<std::string> names;
  for (const ArchEntry& e : kArchitectures) names.emplace_back(e.name);
  return names;
}

Result<std::unique_ptr<Model>> load_model(std::shared_ptr<const GgufFile> gguf, const ModelOptions& options) {
  PM_ASSIGN_OR_RETURN(std::string arch, gguf->get_string("general.architecture"));
  const ArchEntry* entry = find_arch(arch);
  if (entry == nullptr) {
    std::string known;
    for (const std::string& n : supported_architectures()) known += (known.empty() ? "" : ", ") + n;
    return Status::unsupported(gguf->path() + ": architecture \"" + arch + "\" is not supported (supported: " + known + ")");
  }
  return entry->build(std::move(gguf), options);
}

// True when the file starts with rwkv.cpp's magic. Unreadable files say false here and get their
// error from the GGUF reader.
static bool starts_with_rwkv_magic(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  uint8_t magic[4] = {};
  const size_t got = std::fread(magic, 1, sizeof(magic), f);
  std::fclose(f);
  return RwkvBinFile::has_magic(magic, got);
}

Result<std::unique_ptr<Model>> load_model(const std::string& path, const ModelOptions& options) {
  if (starts_with_rwkv_magic(path)) return load_rwkv_model(path);
  PM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::open(path));
  return load_model(std::shared_ptr<const GgufFile>(std::move(f)), options);
}

uint64_t Model::identity() const { return identity_; }

Status Model::eval_batch(const SeqBatch* seqs, size_t n_seqs) const {
  for (size_t i = 0; i < n_seqs; ++i) {
    if (seqs[i].state == nullptr) return Status::invalid_argument("sequence " + std::to_string(i) + " has no state");
    for (size_t j = 0; j < i; ++j)
      if (seqs[j].state == seqs[i].state)
        return Status::invalid_argument("sequences " + std::to_string(j) + " and " + std::to_string(i) + " share a state");
  }
  for (size_t i = 0; i < n_seqs; ++i) {
    Status s = eval(*seqs[i].state, seqs[i].tokens, seqs[i].n_tokens, seqs[i].logits, /*all_logits=*/false);
    if (!s.is_ok()) return Status(s.code(), "sequence " + std::to_string(i) + ": " + s.message());
  }
  return Status::ok();
}

Status ModelState::serialize(std::vector<uint8_t>*) const {
  return Status::unsupported("this model's state cannot be saved yet");
}
Status ModelState::deserialize(const uint8_t*, size_t) {
  return Status::unsupported("this model's state cannot be loaded yet");
}

uint64_t ModelInfo::state_bytes(int64_t n_ctx) const {
  return recurrent ? recurrent_state_bytes : kv_bytes_per_token * uint64_t(n_ctx);
}

}  // namespace pm
