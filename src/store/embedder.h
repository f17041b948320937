// Text -> vector: an embedding model (models/bert.h) with the tokenizer its GGUF file carries,
// and the threads that run it. Used by ingest (records embedded in batches), search (the query)
// and `pocketmind embed`.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "models/bert.h"
#include "tokenizer/tokenizer.h"

namespace pm::store {

class TextEmbedder {
 public:
  // Opens a GGUF embedding model (bert, nomic-bert); n_threads <= 0: all hardware threads.
  // Errors name the file and say why it cannot embed (not an encoder, no WordPiece/BPE vocab...).
  static Result<std::unique_ptr<TextEmbedder>> open(const std::string& path, int n_threads = 0);

  int64_t dim() const { return model_->info().n_embd; }
  const std::string& path() const { return path_; }
  // Stable identity of the weights (hex of the model fingerprint): a store re-embeds its
  // records when the configured model's identity changes.
  const std::string& identity() const { return identity_; }
  Pooling default_pooling() const { return model_->default_pooling(); }
  const EmbeddingModel& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

  // Tokens of one text with the model's special tokens ([CLS] ... [SEP]); texts longer than
  // the model takes are cut, keeping the final special token. *truncated (if given) says so.
  std::vector<TokenId> tokenize(std::string_view text, bool* truncated = nullptr) const;

  // out: [texts.size()][dim()]. Texts are run in groups of about max_batch_tokens tokens.
  Status embed(const std::vector<std::string>& texts, Pooling pooling, bool normalize, std::vector<float>* out,
               int64_t max_batch_tokens = 2048) const;
  Status embed(const std::vector<std::string>& texts, std::vector<float>* out) const {
    return embed(texts, default_pooling(), /*normalize=*/true, out);
  }

 private:
  TextEmbedder() = default;
  std::string path_, identity_;
  std::unique_ptr<EmbeddingModel> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace pm::store
