// The scheduler: N slots (sessions) over one loaded model, a bounded queue of requests, and one
// thread that owns every forward pass. Each iteration it
//   1. admits queued requests into free slots, choosing the slot whose token history shares the
//      longest prefix with the new prompt (KV caches: Session::truncate to that prefix; recurrent
//      models: continue when the slot holds a prefix of the prompt, else restore the longest
//      saved state snapshot that is a prefix, else start from zero), and evaluates the next
//      chunk (kPrefillChunk tokens) of each prompt not yet fully evaluated;
//   2. lets every active slot's Generation sample from its logits;
//   3. evaluates one new token for all active slots together (Session::eval_step), so parallel
//      streams share each forward pass.
// Cancellation (a client that went away) is checked every iteration: the slot is freed at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "generate/generator.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace pm::server {

// One generation request and what comes back from it. Text pieces are queued here by the
// scheduler thread and taken by the HTTP thread (streaming) or read at the end.
class Job {
 public:
  std::vector<TokenId> prompt;
  GenerateOptions options;
  // Recurrent models: prompt lengths (turn boundaries, ascending) after which the state is saved,
  // so a later prompt that shares those turns starts from there.
  std::vector<int64_t> checkpoints;

  // HTTP thread: waits (at most timeout_ms; < 0: no limit) for new text or the end; returns false
  // when finished and drained. `piece` gets the text produced since the last call ("" on timeout).
  bool wait_text(std::string& piece, int timeout_ms = -1);
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }
  // After wait_text returned false (or wait_done()):
  void wait_done();
  const Status& status() const { return status_; }
  const GenerateResult& result() const { return result_; }
  int64_t n_prompt_evaluated() const { return n_prompt_evaluated_; }  // prompt tokens computed
  int64_t n_prompt_cached() const { return n_prompt_cached_; }        // prompt tokens reused

 private:
  friend class Scheduler;
  void push_text(std::string_view s);
  void finish(Status status, GenerateResult result);

  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  bool done_ = false;
  std::atomic<bool> cancelled_{false};
  Status status_;
  GenerateResult result_;
  int64_t n_prompt_evaluated_ = 0;
  int64_t n_prompt_cached_ = 0;
};

struct SchedulerOptions {
  int n_parallel = 4;         // slots
  int queue_size = 16;        // requests waiting for a slot (beyond the busy slots)
  int64_t n_ctx = 0;          // per slot (0: the model's default)
  size_t max_snapshots = 16;  // recurrent models: saved prompt states
};

struct SchedulerMetrics {
  int64_t queue_depth = 0;
  int64_t active_slots = 0;
  int64_t n_slots = 0;
  int64_t requests_total = 0;
  int64_t rejected_total = 0;  // queue full
  int64_t generated_tokens_total = 0;
  int64_t prompt_tokens_evaluated_total = 0;
  int64_t prompt_tokens_cached_total = 0;
  double decode_seconds_total = 0;  // wall time spent in iterations with active slots
};

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> create(const Model& model, const Tokenizer& tokenizer, ThreadPool* pool,
                                                   const SchedulerOptions& options);
  ~Scheduler();  // cancels everything and joins the thread

  // Queues a job. kResourceExhausted when the queue is full, kCancelled when shutting down,
  // kInvalidArgument / kOutOfRange for a prompt that cannot run (empty, longer than a slot's context).
  Status submit(const std::shared_ptr<Job>& job);
  SchedulerMetrics metrics();
  void shutdown();
  int64_t n_ctx() const { return n_ctx_; }

 private:
  struct Slot {
    std::unique_ptr<Session> session;
    std::shared_ptr<Job> job;
    std::unique_ptr<Generation> gen;
    bool needs_sample = false;  // the prompt is evaluated: logits() are the next token's
    size_t prefill_pos = 0;     // prompt tokens the session holds so far
  };
  static constexpr int64_t kPrefillChunk = 256;
  struct Snapshot {
    std::vector<TokenId> tokens;
    std::vector<uint8_t> state;
    uint64_t last_used = 0;
  };
  Scheduler(const Model& model, const Tokenizer& tokenizer) : model_(model), tokenizer_(tokenizer) {}
  void loop();
  void start_job(Slot& slot, std::shared_ptr<Job> job);  // picks the prefix to reuse
  void prefill_step(Slot& slot);                         // evaluates the next prompt chunk
  void end_job(Slot& slot, Status status);
  void save_snapshot(const Session& session);

  const Model& model_;
  const Tokenizer& tokenizer_;
  SchedulerOptions options_;
  int64_t n_ctx_ = 0;
  bool recurrent_ = false;
  std::vector<Slot> slots_;
  std::vector<Snapshot> snapshots_;
  uint64_t use_clock_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  int64_t active_ = 0;
  bool stopping_ = false;
  SchedulerMetrics m_;
  std::thread thread_;
};

}  // namespace pm::server
