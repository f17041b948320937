// pocketmind quantize IN OUT TYPE
#include <unistd.h>

#include <cstdio>

#include "cli/common.h"
#include "formats/quantizer.h"

namespace pm::cli {
namespace {

struct QuantizeArgs {
  std::string in, out, type;
  bool json = false;
};

int run_quantize(const QuantizeArgs& a) {
  const char* verb = "quantize";
  Result<QuantRecipe> recipe = parse_quant_recipe(a.type);
  if (!recipe.is_ok()) return fail(verb, recipe.status());
  const bool show_progress = isatty(STDERR_FILENO) && !a.json;
  QuantizeProgress progress = nullptr;
  if (show_progress) {
    progress = [](int64_t done, int64_t total, const std::string& name) {
      const int width = 30, filled = int(width * done / std::max<int64_t>(total, 1));
      std::fprintf(stderr, "\r[%.*s%*s] %lld/%lld %-40.40s", filled, "##############################", width - filled,
                   "", (long long)done, (long long)total, name.c_str());
      if (done == total) std::fprintf(stderr, "\n");
    };
  }
  Result<QuantizeReport> r = quantize_model_file(a.in, a.out, *recipe, progress);
  if (!r.is_ok()) return fail(verb, r.status());
  if (a.json) {
    print_json({{"input", a.in}, {"output", a.out}, {"type", recipe->name},
                {"tensors_quantized", r->tensors_quantized}, {"tensors_kept", r->tensors_kept},
                {"input_bytes", r->input_bytes}, {"output_bytes", r->output_bytes}});
  } else {
    std::printf("%s -> %s (%s): %lld tensors quantized, %lld kept; %.1f MiB -> %.1f MiB\n", a.in.c_str(), a.out.c_str(),
                recipe->name.c_str(), (long long)r->tensors_quantized, (long long)r->tensors_kept,
                double(r->input_bytes) / (1 << 20), double(r->output_bytes) / (1 << 20));
  }
  return 0;
}

}  // namespace

void add_quantize(CLI::App& app, int& result) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand("quantize", "Write a copy of a model (GGUF or rwkv.cpp .bin) with quantized weights");
  cmd->add_option("input", args->in, "FP32 / FP16 / BF16 model file")->required();
  cmd->add_option("output", args->out, "file to write (same format as the input)")->required();
  cmd->add_option("type", args->type, "target type: q8_0, q6_K, q5_K_M, q5_K, q5_1, q5_0, q4_K_M, q4_K, q4_1, q4_0, q3_K, q2_K, f16, bf16 (_M: llama.cpp's mixes)")
      ->required();
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([args, &result] { result = run_quantize(*args); });
}

}  // namespace pm::cli
