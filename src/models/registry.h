// The architecture table: general.architecture -> builder. Each architecture lives in its own
// file (models/llama.cpp, models/qwen2.cpp, ...) and exposes one builder listed in registry.cpp.
// (An explicit table rather than static self-registration: static libraries drop objects that
// nothing references, which would silently lose architectures.)
#pragma once

#include <memory>
#include <string>

#include "models/model.h"

namespace pm {

using ArchBuilder = Result<std::unique_ptr<Model>> (*)(std::shared_ptr<const GgufFile>, const ModelOptions&);

struct ArchEntry {
  const char* name;
  ArchBuilder build;
};

const ArchEntry* find_arch(const std::string& name);

// Builders, one per architecture file.
Result<std::unique_ptr<Model>> build_llama(std::shared_ptr<const GgufFile>, const ModelOptions&);
Result<std::unique_ptr<Model>> build_qwen2(std::shared_ptr<const GgufFile>, const ModelOptions&);
Result<std::unique_ptr<Model>> build_qwen3(std::shared_ptr<const GgufFile>, const ModelOptions&);
Result<std::unique_ptr<Model>> build_bert(std::shared_ptr<const GgufFile>, const ModelOptions&);        // models/bert.cpp
Result<std::unique_ptr<Model>> build_nomic_bert(std::shared_ptr<const GgufFile>, const ModelOptions&);

}  // namespace pm
