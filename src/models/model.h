// A loaded model: weights straight from the mapped GGUF file, plus the forward pass of its
// architecture. Architectures register themselves in a table (models/registry.cpp); each
// lives in its own file over the shared building blocks of models/transformer.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"

namespace pm {

using TokenId = int32_t;

// What a caller needs to know about a model, read from its metadata and tensors.
struct ModelInfo {
  std::string arch;           // general.architecture ("llama", "qwen2", "qwen3", ...)
  std::string name;           // general.name, if any
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  int64_t n_ff = 0;
  int64_t n_params = 0;
  uint64_t weights_bytes = 0;
  bool recurrent = false;     // state does not grow with the context (RWKV)
  // Bytes of per-sequence state for a context of n_ctx tokens (KV cache or recurrent state).
  uint64_t state_bytes(int64_t n_ctx) const;
  uint64_t kv_bytes_per_token = 0;  // 0 for recurrent models
  uint64_t recurrent_state_bytes = 0;
};

// Per-sequence state: the KV cache of a transformer or the recurrent state of an RNN.
class ModelState {
 public:
  virtual ~ModelState() = default;
  // Tokens already processed (the position of the next token).
  virtual int64_t n_past() const = 0;
  virtual int64_t n_ctx() const = 0;
  virtual void reset() = 0;
  virtual std::unique_ptr<ModelState> clone() const = 0;
  // Forgets every token after the first n (n <= n_past), so a sequence that shares only a
  // prefix with this one can continue from here. A KV cache just drops rows; a recurrent state
  // cannot go back and returns false unless n == n_past.
  virtual bool truncate(int64_t n) { return n == n_past(); }

  // The state's contents as bytes (only what has been computed: for a KV cache the first
  // n_past rows), and back. `deserialize` checks sizes against this state's shape and fails
  // cleanly on any mismatch; the runtime adds versioning and the model's identity around it.
  virtual Status serialize(std::vector<uint8_t>* out) const;
  virtual Status deserialize(const uint8_t* data, size_t size_bytes);

  // Threads that evaluate this sequence (null: the calling thread alone). Not owned.
  ThreadPool* thread_pool() const { return pool_; }
  void set_thread_pool(ThreadPool* pool) { pool_ = pool; }

 private:
  ThreadPool* pool_ = nullptr;
};

struct ModelOptions {
  int64_t n_ctx = 0;  // 0: the model's training context, capped at 4096
  GgmlType kv_type = GgmlType::kF16;  // element type of a transformer's KV cache (f32, f16, q8_0)
};

// One sequence of a batched forward pass (Model::eval_batch): tokens appended to its state,
// the logits of its last token written to `logits` (n_vocab floats).
struct SeqBatch {
  ModelState* state = nullptr;
  const TokenId* tokens = nullptr;
  int64_t n_tokens = 0;
  float* logits = nullptr;
};

class Model {
 public:
  virtual ~Model() = default;

  const ModelInfo& info() const { return info_; }
  // A fingerprint of the model (architecture, shapes, tensor types and samples of every
  // tensor's bytes): saved states carry it and are refused by a model with another one.
  uint64_t identity() const;
  // The GGUF file the weights come from; nullptr for models loaded from another format
  // (rwkv.cpp .bin), which keep their own file alive.
  const GgufFile* gguf() const { return gguf_.get(); }
  std::shared_ptr<const GgufFile> gguf_shared() const { return gguf_; }

  // A fresh, empty state for sequences of up to n_ctx tokens (0: default context).
  virtual Result<std::unique_ptr<ModelState>> new_state(int64_t n_ctx) const = 0;

  // Appends `tokens` to the sequence in `state` (one batch: all positions at once) and writes
  // logits: for every token (n_tokens x n_vocab, row-major) when all_logits, else only for
  // the last one (n_vocab floats). Fails with out_of_range when the context would overflow.
  virtual Status eval(ModelState& state, const TokenId* tokens, int64_t n_tokens, float* logits,
                      bool all_logits) const = 0;

  // Several sequences (distinct states of this model) in one forward pass, so that each weight
  // matrix is read once for all of them — what makes serving several conversations at once
  // cheaper than serving them one after another. Checks every sequence before changing any
  // state. This default evaluates them one by one (recurrent models).
  virtual Status eval_batch(const SeqBatch* seqs, size_t n_seqs) const;

 protected:
  std::shared_ptr<const GgufFile> gguf_;
  ModelInfo info_;
  // Set by the loader: see identity().
  uint64_t identity_ = 0;
};

// Opens a model file and builds its model: a GGUF file by its general.architecture, an rwkv.cpp
// .bin file (recognized by its magic) by the RWKV version its tensors show.
Result<std::unique_ptr<Model>> load_model(const std::string& path, const ModelOptions& options = {});
Result<std::unique_ptr<Model>> load_model(std::shared_ptr<const GgufFile> gguf, const ModelOptions& options = {});

// The architectures this build can run ("llama", "qwen2", ...).
std::vector<std::string> supported_architectures();

}  // namespace pm
