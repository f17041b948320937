#include "runtime/session.h"

#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "core/hash.h"
#include "core/mapped_file.h"

namespace pm {

Result<std::unique_ptr<Session>> Session::create(const Model& model, int64_t n_ctx, ThreadPool* pool) {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<ModelState> state, model.new_state(n_ctx));
  state->set_thread_pool(pool);
  return std::unique_ptr<Session>(new Session(model, std::move(state)));
}

Status Session::eval(const std::vector<TokenId>& tokens, bool all_logits) {
  return eval(tokens.data(), int64_t(tokens.size()), all_logits);
}

Status Session::eval(const TokenId* tokens, int64_t n, bool all_logits) {
  const int64_t n_vocab = model_.info().n_vocab;
  logits_.resize(size_t((all_logits ? n : 1) * n_vocab));
  PM_RETURN_IF_ERROR(model_.eval(*state_, tokens, n, logits_.data(), all_logits));
  tokens_.insert(tokens_.end(), tokens, tokens + n);
#if defined(__GLIBC__)
  // A batch's work buffers are freed by now, but the allocator keeps freed heap memory, so a
  // long prompt would stay in resident memory for the rest of the run: hand it back.
  if (n >= kTrimAfterTokens) malloc_trim(0);
#endif
  return Status::ok();
}

bool Session::truncate(int64_t n) {
  if (n < 0 || n > int64_t(tokens_.size()) || !state_->truncate(n)) return false;
  tokens_.resize(size_t(n));
  return true;
}

Status Session::eval_step(const std::vector<Session*>& sessions, const std::vector<TokenId>& tokens) {
  if (sessions.size() != tokens.size())
    return Status::invalid_argument("eval_step: " + std::to_string(sessions.size()) + " sessions but " +
                                    std::to_string(tokens.size()) + " tokens");
  if (sessions.empty()) return Status::ok();
  const Model& model = sessions[0]->model_;
  std::vector<SeqBatch> seqs(sessions.size());
  for (size_t i = 0; i < sessions.size(); ++i) {
    Session& s = *sessions[i];
    const std::string who = "eval_step: session " + std::to_string(i);
    if (&s.model_ != &model) return Status::invalid_argument(who + " uses another model");
    // Checked here for every model, so that a failure cannot leave some sessions advanced.
    if (tokens[i] < 0 || tokens[i] >= model.info().n_vocab)
      return Status::invalid_argument(who + ": token id " + std::to_string(tokens[i]) + " is outside the vocabulary");
    if (s.n_past() + 1 > s.n_ctx()) return Status::out_of_range(who + ": the context is full");
    for (size_t j = 0; j < i; ++j)
      if (sessions[j] == sessions[i]) return Status::invalid_argument(who + " is listed twice");
    s.logits_.resize(size_t(model.info().n_vocab));
    seqs[i] = SeqBatch{s.state_.get(), &tokens[i], 1, s.logits_.data()};
  }
  PM_RETURN_IF_ERROR(model.eval_batch(seqs.data(), seqs.size()));
  for (size_t i = 0; i < sessions.size(); ++i) sessions[i]->tokens_.push_back(tokens[i]);
  return Status::ok();
}

// State file layout (little-endian):
//   magic "PMST" | u32 version | u64 model identity | u64 arch length | arch
//   | u64 n_tokens | i32 tokens[n_tokens] | u64 n_logits | f32 logits of the last token
//   | u64 payload size | payload (ModelState::serialize)
//   | u64 FNV-1a of every preceding byte
namespace {

constexpr char kStateMagic[4] = {'P', 'M', 'S', 'T'};
constexpr uint32_t kStateVersion = 1;

template <typename T>
void put(std::vector<uint8_t>& out, const T& v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

class Reader {
 public:
  Reader(const uint8_t* p, size_t n, const std::string& name) : p_(p), n_(n), name_(name) {}
  template <typename T>
  Status get(T* v, const char* what) {
    if (n_ - pos_ < sizeof(T)) return Status::corrupt(name_ + ": truncated at " + what);
    std::memcpy(v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::ok();
  }
  Status bytes(const uint8_t** out, uint64_t n, const char* what) {
    if (n > n_ - pos_) return Status::corrupt(name_ + ": truncated at " + what);
    *out = p_ + pos_;
    pos_ += size_t(n);
    return Status::ok();
  }
  size_t pos() const { return pos_; }

 private:
  const uint8_t* p_;
  size_t n_;
  const std::string& name_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::vector<uint8_t>> Session::state_bytes() const {
  std::vector<uint8_t> payload;
  PM_RETURN_IF_ERROR(state_->serialize(&payload));
  std::vector<uint8_t> out;
  out.insert(out.end(), kStateMagic, kStateMagic + 4);
  put(out, kStateVersion);
  put(out, model_.identity());
  const std::string& arch = model_.info().arch;
  put(out, uint64_t(arch.size()));
  out.insert(out.end(), arch.begin(), arch.end());
  put(out, uint64_t(tokens_.size()));
  for (TokenId t : tokens_) put(out, t);
  const size_t n_vocab = size_t(model_.info().n_vocab);
  const size_t n_logits = logits_.size() >= n_vocab ? n_vocab : 0;
  put(out, uint64_t(n_logits));
  for (size_t i = 0; i < n_logits; ++i) put(out, logits()[i]);
  put(out, uint64_t(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  put(out, fnv1a64(out.data(), out.size()));
  return out;
}

Status Session::restore_state(const uint8_t* data, size_t size, const std::string& name) {
  if (size < 8 || std::memcmp(data, kStateMagic, 4) != 0) return Status::corrupt(name + ": not a pocketmind state file");
  uint64_t checksum;
  std::memcpy(&checksum, data + size - 8, 8);
  if (fnv1a64(data, size - 8) != checksum) return Status::corrupt(name + ": checksum mismatch (damaged file)");
  Reader r(data + 4, size - 12, name);
  uint32_t version;
  uint64_t identity, arch_len, n_tokens, payload_size;  // NOLINT
  const uint8_t *arch, *tokens, *payload;
  PM_RETURN_IF_ERROR(r.get(&version, "version"));
  if (version != kStateVersion)
    return Status::unsupported(name + ": state format version " + std::to_string(version) + " (this build reads " +
                               std::to_string(kStateVersion) + ")");
  PM_RETURN_IF_ERROR(r.get(&identity, "model identity"));
  PM_RETURN_IF_ERROR(r.get(&arch_len, "architecture"));
  PM_RETURN_IF_ERROR(r.bytes(&arch, arch_len, "architecture"));
  if (identity != model_.identity())
    return Status::invalid_argument(name + ": saved by a different model (" +
                                    std::string(reinterpret_cast<const char*>(arch), size_t(arch_len)) +
                                    ", fingerprint " + std::to_string(identity) + "); this model is " +
                                    model_.info().arch + ", fingerprint " + std::to_string(model_.identity()));
  PM_RETURN_IF_ERROR(r.get(&n_tokens, "token count"));
  if (n_tokens > uint64_t(size) / sizeof(TokenId)) return Status::corrupt(name + ": token count too large");
  PM_RETURN_IF_ERROR(r.bytes(&tokens, n_tokens * sizeof(TokenId), "tokens"));
  uint64_t n_logits;
  const uint8_t* logits;
  PM_RETURN_IF_ERROR(r.get(&n_logits, "logit count"));
  if (n_logits != 0 && n_logits != uint64_t(model_.info().n_vocab))
    return Status::corrupt(name + ": " + std::to_string(n_logits) + " saved logits for a vocabulary of " +
                           std::to_string(model_.info().n_vocab));
  PM_RETURN_IF_ERROR(r.bytes(&logits, n_logits * sizeof(float), "logits"));
  PM_RETURN_IF_ERROR(r.get(&payload_size, "state size"));
  PM_RETURN_IF_ERROR(r.bytes(&payload, payload_size, "state"));
  if (r.pos() != size - 12) return Status::corrupt(name + ": trailing bytes after the state");
  // Load into a copy first so that a failure leaves this session untouched.
  std::unique_ptr<ModelState> fresh = state_->clone();
  PM_RETURN_IF_ERROR(fresh->deserialize(payload, size_t(payload_size)).with_context(name));
  std::vector<TokenId> toks(static_cast<size_t>(n_tokens));
  std::memcpy(toks.data(), tokens, size_t(n_tokens) * sizeof(TokenId));
  fresh->set_thread_pool(state_->thread_pool());
  state_ = std::move(fresh);
  tokens_ = std::move(toks);
  logits_.resize(size_t(n_logits));
  std::memcpy(logits_.data(), logits, size_t(n_logits) * sizeof(float));
  return Status::ok();
}

Status Session::save_state(const std::string& path) const {
  PM_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, state_bytes());
  return write_file(path, bytes.data(), bytes.size());
}

Status Session::load_state(const std::string& path) {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> f, MappedFile::open(path));
  return restore_state(f->data(), f->size_bytes(), path);
}

Result<std::unique_ptr<Session>> Session::fork() const {
  std::unique_ptr<Session> s(new Session(model_, state_->clone()));
  s->state_->set_thread_pool(state_->thread_pool());
  s->tokens_ = tokens_;
  s->logits_ = logits_;
  return s;
}

void Session::reset() {
  state_->reset();
  tokens_.clear();
  logits_.clear();
}

}  // namespace pm
