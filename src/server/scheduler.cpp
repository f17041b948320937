#include "server/scheduler.h"

#include <algorithm>
#include <chrono>

namespace pm::server {
namespace {

size_t common_prefix(const std::vector<TokenId>& a, const std::vector<TokenId>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

bool Job::wait_text(std::string& piece, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [&] { return done_ || !pending_.empty(); };
  if (timeout_ms < 0)
    cv_.wait(lock, ready);
  else
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready);
  piece.swap(pending_);
  pending_.clear();
  return !piece.empty() || !done_;
}

void Job::wait_done() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return done_; });
}

void Job::push_text(std::string_view s) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_ += s;
  cv_.notify_all();
}

void Job::finish(Status status, GenerateResult result) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = std::move(status);
  result_ = std::move(result);
  done_ = true;
  cv_.notify_all();
}

Result<std::unique_ptr<Scheduler>> Scheduler::create(const Model& model, const Tokenizer& tokenizer, ThreadPool* pool,
                                                     const SchedulerOptions& options) {
  if (options.n_parallel < 1 || options.n_parallel > 256)
    return Status::invalid_argument("parallel: must be 1..256, got " + std::to_string(options.n_parallel));
  if (options.queue_size < 0 || options.queue_size > 100000)
    return Status::invalid_argument("queue: must be 0..100000, got " + std::to_string(options.queue_size));
  std::unique_ptr<Scheduler> s(new Scheduler(model, tokenizer));
  s->options_ = options;
  s->recurrent_ = model.info().recurrent;
  for (int i = 0; i < options.n_parallel; ++i) {
    Slot slot;
    PM_ASSIGN_OR_RETURN(slot.session, Session::create(model, options.n_ctx, pool));
    s->slots_.push_back(std::move(slot));
  }
  s->n_ctx_ = s->slots_[0].session->n_ctx();
  s->m_.n_slots = options.n_parallel;
  s->thread_ = std::thread([p = s.get()] { p->loop(); });
  return s;
}

Scheduler::~Scheduler() { shutdown(); }

void Scheduler::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

Status Scheduler::submit(const std::shared_ptr<Job>& job) {
  if (job->prompt.empty()) return Status::invalid_argument("the prompt has no tokens");
  for (TokenId t : job->prompt)
    if (t < 0 || t >= model_.info().n_vocab)
      return Status::invalid_argument("prompt token " + std::to_string(t) + " is outside the vocabulary");
  if (int64_t(job->prompt.size()) >= n_ctx_)
    return Status::out_of_range("the prompt has " + std::to_string(job->prompt.size()) +
                                " tokens but a slot's context holds " + std::to_string(n_ctx_));
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return Status::cancelled("the server is shutting down");
  // Capacity counts every job in the system, so "N slots + Q waiting" holds exactly.
  if (int64_t(queue_.size()) + active_ >= options_.n_parallel + options_.queue_size) {
    ++m_.rejected_total;
    return Status::resource_exhausted("the request queue is full (" + std::to_string(options_.n_parallel) +
                                      " slots busy, " + std::to_string(queue_.size()) + " waiting)");
  }
  queue_.push_back(job);
  ++m_.requests_total;
  cv_.notify_all();
  return Status::ok();
}

SchedulerMetrics Scheduler::metrics() {
  std::lock_guard<std::mutex> lock(mu_);
  SchedulerMetrics m = m_;
  m.queue_depth = int64_t(queue_.size());
  m.active_slots = active_;
  return m;
}

void Scheduler::save_snapshot(const Session& session) {
  const std::vector<TokenId>& toks = session.tokens();
  for (Snapshot& s : snapshots_)
    if (s.tokens == toks) {
      s.last_used = ++use_clock_;
      return;
    }
  Result<std::vector<uint8_t>> bytes = session.state_bytes();
  if (!bytes.is_ok()) return;  // a snapshot is an optimisation only
  if (snapshots_.size() >= options_.max_snapshots) {
    auto oldest = std::min_element(snapshots_.begin(), snapshots_.end(),
                                   [](const Snapshot& a, const Snapshot& b) { return a.last_used < b.last_used; });
    snapshots_.erase(oldest);
  }
  snapshots_.push_back({toks, std::move(*bytes), ++use_clock_});
}

void Scheduler::start_job(Slot& slot, std::shared_ptr<Job> job) {
  Session& session = *slot.session;
  const std::vector<TokenId>& prompt = job->prompt;
  // At least the prompt's last token is evaluated (its logits start the generation).
  const size_t limit = prompt.size() - 1;
  size_t reuse = std::min(common_prefix(session.tokens(), prompt), limit);
  if (reuse < session.tokens().size() && !session.truncate(int64_t(reuse))) {
    // Recurrent state: cannot go back. Restore the longest saved state that is a prefix.
    session.reset();
    reuse = 0;
    Snapshot* best = nullptr;
    for (Snapshot& s : snapshots_)
      if (s.tokens.size() <= limit && s.tokens.size() > reuse && common_prefix(s.tokens, prompt) == s.tokens.size()) {
        best = &s;
        reuse = s.tokens.size();
      }
    if (best != nullptr) {
      best->last_used = ++use_clock_;
      if (!session.restore_state(best->state.data(), best->state.size(), "snapshot").is_ok()) {
        session.reset();
        reuse = 0;
      }
    }
  }
  job->n_prompt_cached_ = int64_t(reuse);
  job->n_prompt_evaluated_ = int64_t(prompt.size() - reuse);
  auto gen = std::make_unique<Generation>(tokenizer_, job->options, [j = job.get()](std::string_view s) {
    j->push_text(s);
    return !j->cancelled();
  });
  const Status st = gen->init(int32_t(model_.info().n_vocab));
  {
    std::lock_guard<std::mutex> lock(mu_);
    m_.prompt_tokens_cached_total += job->n_prompt_cached_;
    m_.prompt_tokens_evaluated_total += job->n_prompt_evaluated_;
  }
  slot.job = std::move(job);
  slot.gen = std::move(gen);
  slot.prefill_pos = reuse;
  slot.needs_sample = false;
  if (!st.is_ok()) {
    session.reset();
    end_job(slot, st);
  }
}

void Scheduler::prefill_step(Slot& slot) {
  Session& session = *slot.session;
  const std::vector<TokenId>& prompt = slot.job->prompt;
  // One chunk: up to the next checkpoint (recurrent models save their state there) or kPrefillChunk.
  size_t end = std::min(prompt.size(), slot.prefill_pos + size_t(kPrefillChunk));
  bool checkpoint = false;
  if (recurrent_)
    for (int64_t c : slot.job->checkpoints)
      if (c > int64_t(slot.prefill_pos) && size_t(c) < end) {
        end = size_t(c);
        checkpoint = true;
        break;
      }
  const Status st = session.eval(prompt.data() + slot.prefill_pos, int64_t(end - slot.prefill_pos));
  if (!st.is_ok()) {
    session.reset();
    end_job(slot, st);
    return;
  }
  slot.prefill_pos = end;
  if (recurrent_ && (checkpoint || end == prompt.size())) save_snapshot(session);
  if (end == prompt.size()) slot.needs_sample = true;
}

void Scheduler::end_job(Slot& slot, Status status) {
  GenerateResult r;
  if (slot.gen) {
    if (status.is_ok()) slot.gen->finish_text();
    r = std::move(slot.gen->result());
  }
  r.n_prompt_tokens = int64_t(slot.job->prompt.size());
  slot.job->finish(std::move(status), std::move(r));
  slot.job.reset();
  slot.gen.reset();
  slot.needs_sample = false;
  slot.prefill_pos = 0;
  std::lock_guard<std::mutex> lock(mu_);
  --active_;
}

void Scheduler::loop() {
  using Clock = std::chrono::steady_clock;
  for (;;) {
    // 1. Admit waiting jobs into free slots.
    std::vector<std::shared_ptr<Job>> admitted;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || active_ > 0; });
      if (stopping_) break;
      size_t free_slots = 0;
      for (const Slot& s : slots_) free_slots += s.job ? 0 : 1;
      while (!queue_.empty() && admitted.size() < free_slots) {
        std::shared_ptr<Job> j = std::move(queue_.front());
        queue_.pop_front();
        ++active_;
        admitted.push_back(std::move(j));
      }
    }
    const auto t0 = Clock::now();
    for (std::shared_ptr<Job>& job : admitted) {
      // The free slot whose history shares the longest prefix with this prompt.
      Slot* best = nullptr;
      size_t best_len = 0;
      for (Slot& s : slots_) {
        if (s.job) continue;
        const size_t len = common_prefix(s.session->tokens(), job->prompt);
        if (best == nullptr || len > best_len) {
          best = &s;
          best_len = len;
        }
      }
      if (job->cancelled()) {
        best->job = job;
        end_job(*best, Status::cancelled("the client went away"));
        continue;
      }
      start_job(*best, std::move(job));
    }
    // Prompts are evaluated a chunk per slot per iteration, so a long prompt does not stall the
    // streams already decoding.
    for (Slot& s : slots_)
      if (s.job && !s.needs_sample && !s.job->cancelled()) prefill_step(s);
    // 2. Sample for every active slot; collect the tokens to evaluate.
    std::vector<Session*> batch;
    std::vector<TokenId> tokens;
    int64_t generated = 0;
    for (Slot& s : slots_) {
      if (!s.job) continue;
      if (s.job->cancelled()) {
        s.gen->stop(FinishReason::kCancelled);
        end_job(s, Status::ok());
        continue;
      }
      if (!s.needs_sample) continue;  // still evaluating its prompt
      Result<Generation::Step> step = s.gen->accept_logits(s.session->logits(), s.session->tokens());
      if (!step.is_ok()) {
        end_job(s, step.status());
        continue;
      }
      if (step->finished) {
        end_job(s, Status::ok());
        continue;
      }
      ++generated;
      if (s.session->n_past() >= s.session->n_ctx()) {
        s.gen->stop(FinishReason::kContextFull);
        end_job(s, Status::ok());
        continue;
      }
      batch.push_back(s.session.get());
      tokens.push_back(step->token);
    }
    // 3. One forward pass for all of them.
    if (!batch.empty()) {
      Status st = Session::eval_step(batch, tokens);
      if (!st.is_ok()) {
        for (Slot& s : slots_)
          if (s.job && std::find(batch.begin(), batch.end(), s.session.get()) != batch.end()) {
            s.session->reset();
            end_job(s, st);
          }
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    m_.generated_tokens_total += generated;
    m_.decode_seconds_total += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  // Shutting down: everything still waiting or running ends with an error.
  std::deque<std::shared_ptr<Job>> waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting.swap(queue_);
  }
  for (auto& j : waiting) j->finish(Status::cancelled("the server is shutting down"), {});
  for (Slot& s : slots_)
    if (s.job) end_job(s, Status::cancelled("the server is shutting down"));
}

}  // namespace pm::server
