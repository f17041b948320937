// Embedding models: an encoder that turns a token sequence into one vector (bert, nomic-bert).
// Loaded through load_model() like every architecture (the registry builds them); callers that
// want vectors dynamic_cast the Model to EmbeddingModel, or use load_embedding_model().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "models/model.h"

namespace pm {

// How token vectors become one sequence vector (GGUF {arch}.pooling_type: 1 mean, 2 cls).
enum class Pooling { kMean, kCls };
const char* pooling_name(Pooling p);

class EmbeddingModel : public Model {
 public:
  // The pooling the model was trained with ({arch}.pooling_type; mean when absent).
  Pooling default_pooling() const { return default_pooling_; }
  // Longest sequence (position embeddings / context_length).
  int64_t max_tokens() const { return info_.n_ctx_train; }

  // Embeds n_seq sequences at once (their tokens packed into one set of matmuls, attention
  // within each sequence only). seqs[i] holds the tokens of sequence i, special tokens
  // ([CLS] ... [SEP]) included. out: [n_seq][n_embd]. normalize: scale each vector to unit L2
  // length. Fails (naming the sequence) on an empty sequence, one longer than max_tokens() or a
  // token id outside the vocabulary.
  virtual Status embed(const std::vector<std::vector<TokenId>>& seqs, Pooling pooling, bool normalize, float* out,
                       ThreadPool* pool = nullptr) const = 0;

  // Encoders keep no state between calls: eval() is refused with a message pointing to embed().
  Result<std::unique_ptr<ModelState>> new_state(int64_t n_ctx) const override;
  Status eval(ModelState& state, const TokenId* tokens, int64_t n_tokens, float* logits,
              bool all_logits) const override;

 protected:
  Pooling default_pooling_ = Pooling::kMean;
};

// load_model() + a check that the file holds an embedding model.
Result<std::unique_ptr<EmbeddingModel>> load_embedding_model(const std::string& path);

// Writes a random-weight BERT GGUF (f16 weights, WordPiece vocabulary of n_vocab made-up tokens
// plus [PAD] [UNK] [CLS] [SEP] [MASK]) of the given shape: for benchmarks and tests of speed and
// plumbing (the vectors mean nothing). bge-small-zh-v1.5: 384, 12, 12, 1536, 21128, 512.
struct BertShape {
  int64_t n_embd = 384, n_layer = 12, n_head = 12, n_ff = 1536, n_vocab = 21128, n_ctx = 512;
  bool nomic = false;  // nomic-bert layout (rotary positions, fused qkv, SwiGLU, no biases)
};
Status write_random_bert(const std::string& path, const BertShape& shape, uint64_t seed);

}  // namespace pm
