#include "formats/quantizer.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "formats/gguf.h"
#include "formats/quant_recipe.h"
#include "formats/rwkv_bin.h"
#include "formats/rwkv_bin_writer.h"
#include "kernels/kernels.h"

namespace pm {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Decodes any supported tensor to floats. The source may be unaligned (rwkv .bin files pad
// nothing), so it is copied into aligned memory first.
Status tensor_to_float(GgmlType type, const uint8_t* data, uint64_t size_bytes, int64_t n, std::vector<float>* out,
                       const std::string& name) {
  const TypeInfo* info = type_info(type);
  if (info == nullptr || !info->supported)
    return Status::unsupported("tensor " + name + ": cannot decode type " + type_name(type));
  std::vector<uint64_t> aligned((size_bytes + 7) / 8);
  std::memcpy(aligned.data(), data, size_bytes);
  out->resize(size_t(n));
  generic_kernels().of(type).to_float(aligned.data(), out->data(), n);
  return Status::ok();
}

std::vector<uint8_t> float_to_type(GgmlType type, const std::vector<float>& x) {
  std::vector<uint8_t> out(row_size_bytes(type, int64_t(x.size())));
  generic_kernels().of(type).from_float(x.data(), out.data(), int64_t(x.size()));
  return out;
}

Result<QuantizeReport> quantize_rwkv(const std::string& in_path, const std::string& out_path, GgmlType type,
                                     const QuantizeProgress& progress) {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<RwkvBinFile> in, RwkvBinFile::open(in_path));
  if (rwkv_code_for_type(type) < 0) return Status::unsupported(std::string("rwkv.cpp files cannot hold ") + type_name(type));
  if (in->data_type() != GgmlType::kF32 && in->data_type() != GgmlType::kF16)
    return Status::invalid_argument(in_path + ": already quantized (" + rwkv_type_code_name(in->data_type_code()) +
                                    "); quantize from an FP32 or FP16 file");
  RwkvBinWriter out(out_path, in->n_vocab(), in->n_embd(), in->n_layer(), type);
  QuantizeReport report;
  report.input_bytes = in->file_size_bytes();
  int64_t done = 0;
  std::vector<float> values;
  for (const RwkvTensorInfo& t : in->tensors()) {
    const GgmlType tt = recipe_tensor_type(QuantRecipe{"", type, false}, t.name, in->n_layer(), t.ne[0], false);
    const bool quantize = t.name.rfind("blocks.", 0) == 0 && ends_with(t.name, ".weight") && t.ne.size() == 2 &&
                          t.ne[0] % type_info(tt)->block_size == 0 &&
                          (t.type == GgmlType::kF32 || t.type == GgmlType::kF16) && rwkv_code_for_type(tt) >= 0;
    if (quantize) {
      PM_RETURN_IF_ERROR(tensor_to_float(t.type, t.data, t.size_bytes, t.n_elements, &values, t.name).with_context(in_path));
      const std::vector<uint8_t> q = float_to_type(tt, values);
      PM_RETURN_IF_ERROR(out.add_tensor(t.name, tt, t.ne, q.data(), q.size()));
      ++report.tensors_quantized;
    } else {
      PM_RETURN_IF_ERROR(out.add_tensor(t.name, t.type, t.ne, t.data, t.size_bytes));
      ++report.tensors_kept;
    }
    if (progress) progress(++done, int64_t(in->tensors().size()), t.name);
  }
  report.output_bytes = out.bytes_written();
  PM_RETURN_IF_ERROR(out.commit());
  return report;
}

Result<QuantizeReport> quantize_gguf(const std::string& in_path, const std::string& out_path, const QuantRecipe& recipe,
                                     const QuantizeProgress& progress) {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> in, GgufFile::open(in_path));
  GgufWriter w;
  w.set_alignment(in->alignment());
  for (const auto& [key, value] : in->metadata()) {
    if (key == "general.alignment") continue;
    w.set(key, value);
  }
  // general.file_type as llama.cpp numbers it, so other runtimes report the type correctly.
  w.set_u32("general.file_type", recipe_file_type(recipe));
  int64_t n_layer = 0;  // from the tensor names: blk.<i>.*
  for (const GgufTensorInfo& t : in->tensors()) {
    if (t.name.rfind("blk.", 0) == 0) n_layer = std::max<int64_t>(n_layer, std::atoll(t.name.c_str() + 4) + 1);
  }

  QuantizeReport report;
  report.input_bytes = in->file_size_bytes();
  const bool tied = in->find_tensor("output.weight") == nullptr;
  int64_t done = 0;
  std::vector<float> values;
  for (const GgufTensorInfo& t : in->tensors()) {
    const bool is_norm = t.name.find("norm") != std::string::npos;
    // The output projection (or the embedding serving as it) decides every logit: below
    // 6 bits it is kept at Q6_K (Q8_0 for narrow rows), as llama.cpp's quantizer does.
    const bool is_output = t.name == "output.weight" || (tied && t.name == "token_embd.weight");
    const GgmlType tt = recipe_tensor_type(recipe, t.name, n_layer, t.ne[0], is_output);
    const bool quantize = ends_with(t.name, ".weight") && t.ne.size() == 2 && !is_norm &&
                          t.ne[0] % type_info(tt)->block_size == 0 &&
                          (t.type == GgmlType::kF32 || t.type == GgmlType::kF16 || t.type == GgmlType::kBF16);
    if (quantize) {
      PM_RETURN_IF_ERROR(tensor_to_float(t.type, t.data, t.size_bytes, t.n_elements, &values, t.name).with_context(in_path));
      const std::vector<uint8_t> q = float_to_type(tt, values);
      PM_RETURN_IF_ERROR(w.add_tensor(t.name, tt, t.ne, q.data(), q.size()));
      ++report.tensors_quantized;
    } else {
      PM_RETURN_IF_ERROR(w.add_tensor(t.name, t.type, t.ne, t.data, t.size_bytes));
      ++report.tensors_kept;
    }
    if (progress) progress(++done, int64_t(in->tensors().size()), t.name);
  }
  PM_RETURN_IF_ERROR(w.write(out_path));
  PM_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> written, MappedFile::open(out_path));
  report.output_bytes = written->size_bytes();
  return report;
}

}  // namespace

Result<QuantizeReport> quantize_model_file(const std::string& in_path, const std::string& out_path, GgmlType type,
                                           const QuantizeProgress& progress) {
  if (!is_quantize_target(type))
    return Status::invalid_argument(std::string("cannot quantize to ") + type_name(type));
  QuantRecipe recipe;
  recipe.name = type_name(type);
  recipe.base = type;
  return quantize_model_file(in_path, out_path, recipe, progress);
}

Result<QuantizeReport> quantize_model_file(const std::string& in_path, const std::string& out_path,
                                           const QuantRecipe& recipe, const QuantizeProgress& progress) {
  if (!is_quantize_target(recipe.base))
    return Status::invalid_argument(std::string("cannot quantize to ") + type_name(recipe.base));
  if (in_path == out_path) return Status::invalid_argument("the output must be a different file from the input");
  PM_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> probe, MappedFile::open(in_path));
  if (RwkvBinFile::has_magic(probe->data(), probe->size_bytes())) {
    if (recipe.k_mix)
      return Status::unsupported(recipe.name + ": rwkv.cpp files hold one type for all matrices; choose a plain type");
    return quantize_rwkv(in_path, out_path, recipe.base, progress);
  }
  probe.reset();
  return quantize_gguf(in_path, out_path, recipe, progress);
}

}  // namespace pm
