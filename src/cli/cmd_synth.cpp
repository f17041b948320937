// pocketmind synth --arch ARCH --shape NAME --type TYPE -o OUT.gguf
#include <unistd.h>

#include <cstdio>

#include "cli/common.h"
#include "models/bert.h"
#include "models/synth.h"

namespace pm::cli {
namespace {

struct SynthArgs {
  std::string arch, shape, type = "q4_0", out;
  std::string type_given;  // --type as given ("" when defaulted)
  uint64_t seed = 1;
  bool list = false;
  bool json = false;
};

// Embedding models (random BERT weights in F16: models/bert.h).
struct SynthBertShape {
  const char* name;
  BertShape shape;
};
constexpr SynthBertShape kBertShapes[] = {
    {"bge-small-zh", {384, 12, 12, 1536, 21128, 512, false}},      // BAAI/bge-small-zh-v1.5
    {"all-minilm-l6", {384, 6, 12, 1536, 30522, 512, false}},      // sentence-transformers/all-MiniLM-L6-v2
    {"nomic-embed-v1.5", {768, 12, 12, 3072, 30522, 2048, true}},  // nomic-ai/nomic-embed-text-v1.5
};

int run_synth(const SynthArgs& a) {
  const char* verb = "synth";
  if (a.list) {
    nlohmann::json shapes = nlohmann::json::array();
    for (const SynthShape& s : synth_shapes()) {
      if (a.json) {
        shapes.push_back({{"shape", s.name}, {"arch", s.arch}, {"n_embd", s.n_embd}, {"n_layer", s.n_layer},
                          {"n_vocab", s.n_vocab}, {"n_ff", s.n_ff}});
      } else {
        std::printf("%-14s --arch %-6s n_embd %-5lld n_layer %-3lld n_head %-3lld n_head_kv %-2lld n_ff %-6lld vocab %lld\n",
                    s.name, s.arch, (long long)s.n_embd, (long long)s.n_layer, (long long)s.n_head,
                    (long long)s.n_head_kv, (long long)s.n_ff, (long long)s.n_vocab);
      }
    }
    for (const SynthRwkvShape& s : synth_rwkv_shapes()) {
      if (a.json) {
        shapes.push_back({{"shape", s.name}, {"arch", "rwkv7"}, {"n_embd", s.n_embd}, {"n_layer", s.n_layer},
                          {"n_vocab", s.n_vocab}, {"n_ff", 4 * s.n_embd}, {"format", "rwkv.cpp"}});
      } else {
        std::printf("%-14s --arch rwkv7  n_embd %-5lld n_layer %-3lld head_size %lld (rwkv.cpp .bin)\n", s.name,
                    (long long)s.n_embd, (long long)s.n_layer, (long long)s.head_size);
      }
    }
    for (const SynthBertShape& b : kBertShapes) {
      const BertShape& s = b.shape;
      const char* arch = s.nomic ? "nomic-bert" : "bert";
      if (a.json) {
        shapes.push_back({{"shape", b.name}, {"arch", arch}, {"n_embd", s.n_embd}, {"n_layer", s.n_layer},
                          {"n_vocab", s.n_vocab}, {"n_ff", s.n_ff}, {"type", "f16"}});
      } else {
        std::printf("%-14s --arch %-6s n_embd %-5lld n_layer %-3lld n_head %-3lld n_ff %-6lld vocab %lld (embeddings, f16)\n",
                    b.name, arch, (long long)s.n_embd, (long long)s.n_layer, (long long)s.n_head, (long long)s.n_ff,
                    (long long)s.n_vocab);
      }
    }
    if (a.json) print_json(shapes);
    return 0;
  }
  if (a.shape.empty() || a.out.empty()) return fail(verb, "give --shape NAME and -o OUT.gguf (see --list)");
  for (const SynthBertShape& b : kBertShapes) {
    if (a.shape != b.name) continue;
    const std::string arch = b.shape.nomic ? "nomic-bert" : "bert";
    if (!a.arch.empty() && a.arch != arch) return fail(verb, "shape " + a.shape + " is a " + arch + " model, not " + a.arch);
    if (!a.type_given.empty() && a.type_given != "f16")
      return fail(verb, "embedding shapes are written with f16 weights; quantize the file afterwards");
    if (Status s = write_random_bert(a.out, b.shape, a.seed); !s.is_ok()) return fail(verb, s);
    if (a.json) print_json({{"output", a.out}, {"shape", a.shape}, {"arch", arch}, {"type", "F16"}});
    else std::printf("wrote %s: synthetic %s (%s) with F16 weights\n", a.out.c_str(), a.shape.c_str(), arch.c_str());
    return 0;
  }
  const SynthShape* shape = find_synth_shape(a.shape);
  const SynthRwkvShape* rwkv = find_synth_rwkv_shape(a.shape);
  if (shape == nullptr && rwkv == nullptr)
    return fail(verb, "unknown shape \"" + a.shape + "\" (see pocketmind synth --list)");
  const std::string arch = shape != nullptr ? shape->arch : "rwkv7";
  if (!a.arch.empty() && a.arch != arch) return fail(verb, "shape " + a.shape + " is a " + arch + " model, not " + a.arch);
  Result<QuantRecipe> recipe = parse_quant_recipe(a.type);
  if (!recipe.is_ok()) return fail(verb, recipe.status());
  if (rwkv != nullptr && recipe->k_mix) return fail(verb, a.type + ": rwkv.cpp files hold one type for all matrices");
  SynthProgress progress = nullptr;
  if (isatty(STDERR_FILENO) && !a.json)
    progress = [](int64_t done, int64_t total) {
      std::fprintf(stderr, "\rwriting tensors: %lld/%lld", (long long)done, (long long)total);
      if (done == total) std::fprintf(stderr, "\n");
    };
  Status s = shape != nullptr ? write_synth_model(*shape, *recipe, a.out, a.seed, progress)
                              : write_synth_rwkv7(*rwkv, recipe->base, a.out, a.seed, progress);
  if (!s.is_ok()) return fail(verb, s);
  if (a.json) print_json({{"output", a.out}, {"shape", a.shape}, {"arch", arch}, {"type", recipe->name}});
  else std::printf("wrote %s: synthetic %s (%s) with %s weights\n", a.out.c_str(), a.shape.c_str(), arch.c_str(), recipe->name.c_str());
  return 0;
}

}  // namespace

void add_synth(CLI::App& app, int& result) {
  auto args = std::make_shared<SynthArgs>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a random-weight model of a real model's exact shape (for benchmarks)");
  cmd->add_option("--arch", args->arch, "architecture (checked against the shape)");
  cmd->add_option("--shape", args->shape, "shape name, e.g. qwen2.5-0.5b, qwen2.5-1.5b, llama-3.2-1b, qwen3-0.6b, rwkv7-1.5b, bge-small-zh");
  CLI::Option* type = cmd->add_option("--type", args->type, "weight type (f16, q8_0, q4_0, q4_K_M, q5_K_M, q6_K, ...)")
                          ->capture_default_str();
  cmd->add_option("-o,--output", args->out, "file to write (GGUF; rwkv.cpp .bin for rwkv7 shapes)");
  cmd->add_option("--seed", args->seed, "random seed")->capture_default_str();
  cmd->add_flag("--list", args->list, "list the known shapes");
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([args, type, &result] {
    args->type_given = type->count() > 0 ? args->type : "";
    result = run_synth(*args);
  });
}

}  // namespace pm::cli
