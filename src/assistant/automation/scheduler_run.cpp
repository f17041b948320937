// Scheduler: the real-time half (run history, modes, timeouts, restarts). See scheduler.h.
#include <algorithm>
#include <chrono>
#include <deque>

#include "assistant/automation/scheduler.h"

namespace pm::automation {

// Sorted keys (nlohmann::json); the rule files of this namespace keep theirs in order (ordered_json).
using Json = nlohmann::json;

struct Scheduler::RunTicket {
  int64_t run_id = 0;
  std::string trigger;
  std::atomic<bool> cancelled{false};
};

struct Scheduler::RuleRuntime {
  int running = 0;
  std::vector<std::shared_ptr<RunTicket>> in_flight;
  std::deque<std::pair<RuleSpec, std::shared_ptr<RunTicket>>> queue;  // mode queued
};

Scheduler::Scheduler(RuleStore& store, std::shared_ptr<DeviceBridge> bridge, Zone zone, Clock& clock,
                     SchedulerOptions options)
    : store_(store), bridge_(std::move(bridge)), zone_(std::move(zone)), clock_(clock), options_(options) {
  Result<std::string> st = store_.device_state_json();
  if (st.is_ok()) state_ = DeviceState::from_json(Json::parse(*st, nullptr, false));
}

Scheduler::~Scheduler() { wait_idle(); }

Status Scheduler::load_rules(std::vector<std::string>* warnings) {
  PM_ASSIGN_OR_RETURN(std::vector<StoredRule> stored, store_.list());
  std::vector<RuleSpec> rules;
  for (const StoredRule& s : stored) {
    if (!s.enabled) continue;
    Json j = Json::parse(s.json, nullptr, false);
    Result<RuleSpec> r = j.is_discarded() ? Result<RuleSpec>(Status::corrupt("stored JSON does not parse")) : parse_rule(j);
    if (!r.is_ok()) {
      if (warnings) warnings->push_back("rule " + s.id + " skipped: " + r.status().message());
      continue;
    }
    r->id = s.id;
    rules.push_back(std::move(*r));
  }
  rules_ = std::move(rules);
  return Status::ok();
}

std::optional<int64_t> Scheduler::next_due(const RuleSpec& r, int64_t after) const {
  std::optional<int64_t> best;
  for (const TriggerSpec& t : r.triggers) {
    std::optional<int64_t> n = next_fire(t, zone_, after);
    if (n && (!best || *n < *best)) best = n;
  }
  return best;
}

namespace {
constexpr int kMaxInstantsPerPass = 1000;  // per rule: a long outage reports the first 1000 missed times

// Time-trigger instants of `r` in (after, up_to], in order, with the trigger that produced each.
std::vector<std::pair<int64_t, const TriggerSpec*>> due_instants(const RuleSpec& r, const Zone& zone, int64_t after,
                                                                 int64_t up_to) {
  std::vector<std::pair<int64_t, const TriggerSpec*>> out;
  for (const TriggerSpec& t : r.triggers) {
    std::optional<int64_t> n = next_fire(t, zone, after);
    int count = 0;
    while (n && *n <= up_to && count++ < kMaxInstantsPerPass) {
      out.emplace_back(*n, &t);
      n = next_fire(t, zone, *n);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (out.size() > (size_t)kMaxInstantsPerPass) out.resize(kMaxInstantsPerPass);
  return out;
}
}  // namespace

Result<std::vector<RunRecord>> Scheduler::catch_up() {
  const int64_t now = clock_.now();
  PM_ASSIGN_OR_RETURN(int64_t interrupted, store_.mark_interrupted(now));
  (void)interrupted;
  std::vector<RunRecord> missed;
  missed_total_ = 0;
  for (const RuleSpec& r : rules_) {
    PM_ASSIGN_OR_RETURN(std::optional<int64_t> last, store_.last_processed(r.id));
    if (!last) {  // no bookkeeping yet: start counting now
      PM_RETURN_IF_ERROR(store_.advance_progress(r.id, now - 1));
      continue;
    }
    // Instants strictly before now were missed; one exactly now is due and runs normally.
    std::vector<std::pair<int64_t, const TriggerSpec*>> due;
    for (const TriggerSpec& t : r.triggers) {
      std::optional<int64_t> n = next_fire(t, zone_, *last);
      for (int count = 0; n && *n <= now - 1 && count < kMaxMissedCounted; ++count) {
        due.emplace_back(*n, &t);
        n = next_fire(t, zone_, *n);
      }
    }
    std::stable_sort(due.begin(), due.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<RunRecord> recs;
    for (size_t i = 0; i < due.size() && i < (size_t)kMaxMissedListed; ++i) {
      const auto& [at, trig] = due[i];
      recs.push_back(RunRecord{0, r.id, trig->describe(), at, now, now, "missed",
                               "not run: the scheduler was not running at " + zone_.format(at)});
    }
    if (due.size() > (size_t)kMaxMissedListed) {
      const size_t more = due.size() - kMaxMissedListed;
      recs.push_back(RunRecord{0, r.id, "(several)", due.back().first, now, now, "missed",
                               "and " + std::to_string(more) + " more missed times from " +
                                   zone_.format(due[kMaxMissedListed].first) + " to " + zone_.format(due.back().first) +
                                   " (not listed one by one)"});
    }
    missed_total_ += (int64_t)due.size();
    PM_RETURN_IF_ERROR(store_.record_runs(recs, now - 1));
    PM_RETURN_IF_ERROR(store_.advance_progress(r.id, now - 1));
    missed.insert(missed.end(), recs.begin(), recs.end());
  }
  return missed;
}

Status Scheduler::tick(std::vector<RunReport>* reports) {
  const int64_t now = clock_.now();
  for (const RuleSpec& r : rules_) {
    PM_ASSIGN_OR_RETURN(std::optional<int64_t> last, store_.last_processed(r.id));
    if (!last) {
      PM_RETURN_IF_ERROR(store_.advance_progress(r.id, now - 1));
      last = now - 1;
    }
    for (const auto& [at, trig] : due_instants(r, zone_, *last, now)) {
      RunReport rep;
      if (at < now - options_.late_grace_s) {  // the process was stalled (suspended) past it
        RunRecord rec{0, r.id, trig->describe(), at, now, now, "missed",
                      "not run: seen " + std::to_string(now - at) + " s late"};
        PM_ASSIGN_OR_RETURN(rep.run_id, store_.record_run(rec, at));
        rep = RunReport{rep.run_id, at, r.id, r.name, rec.trigger, "missed", rec.detail};
      } else if (!conditions_hold(r, state_, zone_, at)) {
        RunRecord rec{0, r.id, trig->describe(), at, now, now, "skipped_condition", "a condition did not hold"};
        PM_ASSIGN_OR_RETURN(rep.run_id, store_.record_run(rec, at));
        rep = RunReport{rep.run_id, at, r.id, r.name, rec.trigger, "skipped_condition", rec.detail};
      } else {
        rep = dispatch(r, trig->describe(), at);
      }
      if (reports) reports->push_back(rep);
    }
    PM_RETURN_IF_ERROR(store_.advance_progress(r.id, now));
  }
  return Status::ok();
}

Status Scheduler::handle_event_json(const std::string& text, std::vector<RunReport>* reports) {
  PM_ASSIGN_OR_RETURN(Event e, parse_event_json(text));
  return handle_event(e, reports);
}

Status Scheduler::handle_event(const Event& e, std::vector<RunReport>* reports) {
  PM_RETURN_IF_ERROR(validate_event(e));
  const int64_t now = clock_.now();
  state_.apply(e);
  PM_RETURN_IF_ERROR(store_.save_device_state(state_.to_json().dump()));
  for (const RuleSpec& r : rules_) {
    const TriggerSpec* hit = nullptr;
    for (const TriggerSpec& t : r.triggers)
      if (!hit && trigger_matches(t, e)) hit = &t;
    if (!hit) continue;
    RunReport rep;
    if (!conditions_hold(r, state_, zone_, now)) {
      RunRecord rec{0, r.id, hit->describe(), std::nullopt, now, now, "skipped_condition", "a condition did not hold"};
      PM_ASSIGN_OR_RETURN(rep.run_id, store_.record_run(rec, std::nullopt));
      rep = RunReport{rep.run_id, std::nullopt, r.id, r.name, rec.trigger, "skipped_condition", rec.detail};
    } else {
      rep = dispatch(r, hit->describe(), std::nullopt);
    }
    if (reports) reports->push_back(rep);
  }
  return Status::ok();
}

RunReport Scheduler::dispatch(const RuleSpec& rule, const std::string& trigger, std::optional<int64_t> scheduled) {
  const int64_t now = clock_.now();
  RunReport rep{0, scheduled, rule.id, rule.name, trigger, "", ""};
  std::unique_lock<std::mutex> l(mu_);
  std::shared_ptr<RuleRuntime>& rt = runtime_[rule.id];
  if (!rt) rt = std::make_shared<RuleRuntime>();
  const bool busy = rt->running > 0;
  RunRecord rec{0, rule.id, trigger, scheduled, now, std::nullopt, "running", ""};
  if (busy && rule.mode == RunMode::kSingle) {
    rec.status = "skipped_busy";
    rec.finished_s = now;
    rec.detail = "an earlier run was still in progress (mode single)";
  } else if (busy && rule.mode == RunMode::kQueued) {
    rec.status = "queued";
  }
  Result<int64_t> id = store_.record_run(rec, scheduled);
  if (!id.is_ok()) {
    rep.status = "failed";
    rep.detail = id.status().message();
    return rep;
  }
  rep.run_id = *id;
  rep.status = rec.status;
  rep.detail = rec.detail;
  if (rec.status == "skipped_busy") return rep;
  auto ticket = std::make_shared<RunTicket>();
  ticket->run_id = *id;
  ticket->trigger = trigger;
  if (rec.status == "queued") {
    rt->queue.emplace_back(rule, ticket);
    ++active_;
    return rep;
  }
  if (busy && rule.mode == RunMode::kRestart)
    for (auto& t : rt->in_flight) t->cancelled = true;
  ++active_;
  start_run(rule, ticket);  // mu_ held
  return rep;
}

// mu_ held by the caller.
void Scheduler::start_run(const RuleSpec& rule, std::shared_ptr<RunTicket> ticket) {
  std::shared_ptr<RuleRuntime>& rt = runtime_[rule.id];
  rt->running++;
  rt->in_flight.push_back(ticket);
  threads_.emplace_back([this, rule, ticket] { execute(rule, ticket); });
}

namespace {
struct CallState {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  Status status;
};
}  // namespace

void Scheduler::execute(const RuleSpec& rule, std::shared_ptr<RunTicket> ticket) {
  std::string status = "ok", detail;
  for (size_t i = 0; i < rule.actions.size() && status == "ok"; ++i) {
    const ActionSpec& a = rule.actions[i];
    if (ticket->cancelled) {
      status = "cancelled";
      detail = "replaced by a newer run (mode restart) before action " + std::to_string(i + 1);
      break;
    }
    // The call runs on its own thread so that a hanging tool can be abandoned; it owns what it
    // touches (the bridge and its result slot), so it may outlive this run and the scheduler.
    auto call = std::make_shared<CallState>();
    std::thread([bridge = bridge_, call, rule_id = rule.id, tool = a.tool, args = a.args, now = clock_.now()] {
      Status s = bridge->call(rule_id, tool, args, now);
      std::lock_guard<std::mutex> l(call->mu);
      call->status = std::move(s);
      call->finished = true;
      call->cv.notify_all();
    }).detach();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.call_timeout_ms);
    std::unique_lock<std::mutex> l(call->mu);
    while (!call->finished && !ticket->cancelled && std::chrono::steady_clock::now() < deadline)
      call->cv.wait_for(l, std::chrono::milliseconds(10));
    const std::string which = "action " + std::to_string(i + 1) + " (" + a.tool + ")";
    if (call->finished) {
      if (!call->status.is_ok()) {
        status = "failed";
        detail = which + ": " + call->status.message();
      }
    } else if (ticket->cancelled) {
      status = "cancelled";
      detail = "replaced by a newer run (mode restart) during " + which;
    } else {
      status = "timeout";
      detail = which + " did not answer within " + std::to_string(options_.call_timeout_ms) + " ms; abandoned";
    }
  }
  (void)store_.finish_run(ticket->run_id, clock_.now(), status, detail);
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<RuleRuntime>& rt = runtime_[rule.id];
  rt->running--;
  rt->in_flight.erase(std::remove(rt->in_flight.begin(), rt->in_flight.end(), ticket), rt->in_flight.end());
  if (rt->running == 0 && !rt->queue.empty()) {
    auto [next_rule, next_ticket] = std::move(rt->queue.front());
    rt->queue.pop_front();
    start_run(next_rule, next_ticket);  // stays counted in active_
  }
  --active_;
  idle_cv_.notify_all();
}

void Scheduler::wait_idle() {
  std::vector<std::thread> threads;
  {
    std::unique_lock<std::mutex> l(mu_);
    idle_cv_.wait(l, [&] { return active_ == 0; });
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

Status Scheduler::drain_bus(std::vector<RunReport>* reports) {
  std::deque<Event> events;
  {
    std::lock_guard<std::mutex> l(bus_mu_);
    events.swap(bus_);
  }
  for (const Event& e : events) PM_RETURN_IF_ERROR(handle_event(e, reports));
  return Status::ok();
}

Status Scheduler::post_event_json(const std::string& text) {
  PM_ASSIGN_OR_RETURN(Event e, parse_event_json(text));
  std::lock_guard<std::mutex> l(bus_mu_);
  bus_.push_back(std::move(e));
  return Status::ok();
}

Status Scheduler::run_until(int64_t until, const std::atomic<bool>* stop, std::function<void(const RunReport&)> on_run) {
  PM_RETURN_IF_ERROR(load_rules());
  PM_ASSIGN_OR_RETURN(std::vector<RunRecord> missed, catch_up());
  for (const RunRecord& m : missed)
    if (on_run) on_run(RunReport{m.id, m.scheduled_s, m.rule_id, "", m.trigger, m.status, m.detail});
  for (;;) {
    std::vector<std::string> warnings;
    PM_RETURN_IF_ERROR(load_rules(&warnings));  // rules added, removed or disabled meanwhile
    std::vector<RunReport> reports;
    PM_RETURN_IF_ERROR(drain_bus(&reports));
    PM_RETURN_IF_ERROR(tick(&reports));
    if (options_.wait_each_tick) {  // the runs have ended: report how
      wait_idle();
      for (RunReport& r : reports) {
        if (r.run_id == 0 || (r.status != "running" && r.status != "queued")) continue;
        Result<RunRecord> rec = store_.run(r.run_id);
        if (rec.is_ok()) {
          r.status = rec->status;
          r.detail = rec->detail;
        }
      }
    }
    if (on_run)
      for (const RunReport& r : reports) on_run(r);
    const int64_t now = clock_.now();
    if (now >= until || (stop && stop->load())) break;
    int64_t target = until;
    for (const RuleSpec& r : rules_) {
      std::optional<int64_t> n = next_due(r, now);
      if (n) target = std::min(target, *n);
    }
    if (!options_.wait_each_tick) target = std::min(target, now + 1);  // real time: check `stop` each second
    clock_.sleep_until(target);
  }
  std::vector<RunReport> reports;
  PM_RETURN_IF_ERROR(drain_bus(&reports));
  wait_idle();
  if (on_run)
    for (const RunReport& r : reports) on_run(r);
  return Status::ok();
}

}  // namespace pm::automation
