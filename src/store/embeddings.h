// Embeddings of a store's records: the model configured per store, records embedded in batches,
// vectors kept in SQLite (table embeddings) as the source of truth, and the vector index
// (vector_index.h) kept in step with them.
//
// Config keys (table config): embed_model (path as given), embed_model_id (TextEmbedder::identity),
// embed_dim, vector_generation (bumped by triggers on every insert/delete in embeddings; the
// index file records the generation it reflects).
// Changing the model (another identity) deletes every stored vector; embed_pending() then
// embeds all records again. Records whose text changes lose their vector (trigger) and are
// embedded again by the next embed_pending().
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/status.h"
#include "store/embedder.h"
#include "store/store.h"

namespace pm::store {

inline constexpr const char* kVectorIndexFile = "vectors.pmvi";

struct EmbeddingConfig {
  std::string model_path;
  std::string model_id;
  int64_t dim = 0;
};

// The configured model, or nullopt when the store has none.
Result<std::optional<EmbeddingConfig>> embedding_config(Store& store);

// Configures `embedder`'s model for the store. Returns true when it replaced a different model
// (the old vectors are then deleted and the vector index file removed).
Result<bool> configure_embedding_model(Store& store, const TextEmbedder& embedder);

// The text a record is embedded from: title, text and location (the sender when all are empty).
std::string embedding_text(const std::string& title, const std::string& text, const std::string& location,
                           const std::string& sender);

struct EmbedOptions {
  int batch_records = 32;  // records per embedding batch, each batch one transaction
  std::function<void(int64_t done, int64_t total)> on_progress;
};

// Embeds every record that has no vector for the configured model (which must be `embedder`'s).
// Returns how many were embedded.
Result<int64_t> embed_pending(Store& store, const TextEmbedder& embedder, const EmbedOptions& options = {});

}  // namespace pm::store
