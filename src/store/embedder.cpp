#include "store/embedder.h"

#include <cstdio>

#include "formats/gguf.h"

namespace pm::store {

Result<std::unique_ptr<TextEmbedder>> TextEmbedder::open(const std::string& path, int n_threads) {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::open(path));
  std::shared_ptr<const GgufFile> gguf(std::move(f));
  std::unique_ptr<TextEmbedder> e(new TextEmbedder());
  e->path_ = path;
  PM_ASSIGN_OR_RETURN(std::unique_ptr<Model> m, load_model(gguf));
  auto* em = dynamic_cast<EmbeddingModel*>(m.get());
  if (em == nullptr)
    return Status::invalid_argument(path + ": architecture \"" + m->info().arch +
                                    "\" is not an embedding model (expected bert or nomic-bert)");
  m.release();
  e->model_.reset(em);
  Result<std::unique_ptr<Tokenizer>> tok = Tokenizer::from_gguf(*gguf);
  if (!tok.is_ok()) return tok.status().with_context(path + ": embedding model vocabulary");
  e->tokenizer_ = std::move(*tok);
  if (e->tokenizer_->n_vocab() > e->model_->info().n_vocab)
    return Status::corrupt(path + ": the vocabulary has " + std::to_string(e->tokenizer_->n_vocab()) +
                           " tokens but token_embd.weight only " + std::to_string(e->model_->info().n_vocab) + " rows");
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(e->model_->identity()));
  e->identity_ = hex;
  e->pool_ = std::make_unique<ThreadPool>(n_threads);
  return e;
}

std::vector<TokenId> TextEmbedder::tokenize(std::string_view text, bool* truncated) const {
  std::vector<TokenId> ids = tokenizer_->encode(text, /*add_special=*/true, /*parse_special=*/false);
  const size_t max = size_t(model_->max_tokens());
  if (truncated) *truncated = ids.size() > max;
  if (ids.size() > max) {
    const TokenId last = ids.back();
    const bool keep_last = last == tokenizer_->special().sep || last == tokenizer_->special().eos;
    ids.resize(max);
    if (keep_last) ids.back() = last;
  }
  if (ids.empty()) {  // a vocabulary that adds nothing and text that yields nothing
    const TokenId fill = tokenizer_->special().cls != kNoToken ? tokenizer_->special().cls : 0;
    ids.push_back(fill);
  }
  return ids;
}

Status TextEmbedder::embed(const std::vector<std::string>& texts, Pooling pooling, bool normalize,
                           std::vector<float>* out, int64_t max_batch_tokens) const {
  const size_t D = size_t(dim());
  out->assign(texts.size() * D, 0.0f);
  std::vector<std::vector<TokenId>> batch;
  size_t first = 0;
  int64_t batch_tokens = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::ok();
    PM_RETURN_IF_ERROR(model_->embed(batch, pooling, normalize, out->data() + first * D, pool_.get()));
    first += batch.size();
    batch.clear();
    batch_tokens = 0;
    return Status::ok();
  };
  for (const std::string& t : texts) {
    std::vector<TokenId> ids = tokenize(t);
    if (!batch.empty() && batch_tokens + int64_t(ids.size()) > max_batch_tokens) PM_RETURN_IF_ERROR(flush());
    batch_tokens += int64_t(ids.size());
    batch.push_back(std::move(ids));
  }
  return flush();
}

}  // namespace pm::store
