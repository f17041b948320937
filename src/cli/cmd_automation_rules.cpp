// `pocketmind automation add|list|remove|enable|disable|history|emit|simulate|run|calls`: saved rules
// (DIR/automations.sqlite) and their scheduler (assistant/automation/scheduler.h).
#ifdef PM_WITH_ASSISTANT
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "assistant/automation/device_bridge.h"
#include "assistant/automation/rule.h"
#include "assistant/automation/rule_store.h"
#include "assistant/automation/scheduler.h"
#include "assistant/automation/tool_store.h"
#include "cli/automation_common.h"
#include "cli/common.h"
#include "store/time_util.h"

namespace pm::cli {
namespace {

using nlohmann::json;
namespace au = pm::automation;

Result<int64_t> parse_time_arg(const std::string& opt, const std::string& text) {
  Result<store::Timestamp> t = store::parse_iso8601(text);
  if (!t.is_ok()) return Status::invalid_argument(opt + ": " + t.status().message());
  return t->epoch_s;
}

json run_json(const au::RunRecord& r, const au::Zone& z) {
  return {{"id", r.id}, {"rule", r.rule_id}, {"trigger", r.trigger},
          {"scheduled", r.scheduled_s ? json(z.format(*r.scheduled_s)) : json(nullptr)},
          {"started", z.format(r.started_s)},
          {"finished", r.finished_s ? json(z.format(*r.finished_s)) : json(nullptr)},
          {"status", r.status}, {"detail", r.detail}};
}

// ---- add ------------------------------------------------------------------------------------------

struct AddArgs {
  std::string db, rule_file, now, tz;
  std::string passphrase_file;
  std::vector<std::string> text;
  bool yes = false, json = false;
};

// The rules to add, as the rule type of the validator: from a request in plain language (the
// deterministic parser, as `automation parse` runs it) or from a rules JSON file.
Result<std::vector<au::Rule>> rules_to_add(const AddArgs& a, RuleStoreKey& key, bool* zh) {
  // Built-in tools and the tools registered in --db (pocketmind tools add).
  PM_ASSIGN_OR_RETURN(au::ToolRegistry registry, load_tools(key));
  if (!a.text.empty()) {
    if (!a.rule_file.empty()) return Status::invalid_argument("give either a request TEXT or --rule-file, not both");
    std::string request;
    for (const std::string& t : a.text) request += (request.empty() ? "" : " ") + t;
    PM_ASSIGN_OR_RETURN(au::LocalTime now, automation_now(a.now, a.tz));
    PM_ASSIGN_OR_RETURN(au::ParsedRequest parsed, au::parse_request(request, now, registry));
    *zh = parsed.zh;
    return parsed.rules;
  }
  if (a.rule_file.empty()) return Status::invalid_argument("give a request TEXT or --rule-file FILE");
  std::string text;
  std::stringstream ss;
  if (a.rule_file == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream f(a.rule_file, std::ios::binary);
    if (!f) return Status::not_found(a.rule_file + ": cannot read the rule file");
    ss << f.rdbuf();
  }
  text = ss.str();
  const std::string src = a.rule_file == "-" ? "stdin" : a.rule_file;
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return Status::invalid_argument(src + ": not valid JSON");
  Result<std::vector<json>> docs = au::split_rules_document(doc);
  if (!docs.is_ok()) return docs.status().with_context(src);
  std::vector<au::Rule> rules;
  for (size_t i = 0; i < docs->size(); ++i) {
    const std::string where = src + ": rule " + std::to_string(i + 1) + " of " + std::to_string(docs->size());
    Result<au::Rule> r = au::rule_from_json(nlohmann::ordered_json::parse((*docs)[i].dump()));
    if (!r.is_ok()) return r.status().with_context(where);
    au::normalize_rule(*r);
    const std::vector<std::string> problems = au::validate(*r, registry);
    if (!problems.empty()) {
      std::string msg;
      for (const std::string& p : problems) msg += (msg.empty() ? "" : "; ") + p;
      return Status::invalid_argument(where + ": " + msg);
    }
    *zh = *zh || au::is_chinese_text(r->name);
    rules.push_back(std::move(*r));
  }
  return rules;
}

int run_add(const AddArgs& a) {
  const char* verb = "automation add";
  bool zh = false;
  RuleStoreKey key(a.db, a.passphrase_file);  // one unlock for the tool catalog and the save
  Result<std::vector<au::Rule>> rules = rules_to_add(a, key, &zh);
  if (!rules.is_ok()) return fail(verb, rules.status().message() + " (nothing was saved)");
  // The scheduler's own checks, then the form it stores.
  std::vector<au::RuleSpec> specs;
  std::vector<std::string> texts;
  for (size_t i = 0; i < rules->size(); ++i) {
    const json j = json::parse(au::rule_to_json((*rules)[i]).dump());
    Result<au::RuleSpec> r = au::parse_rule(j);
    if (!r.is_ok()) return fail(verb, r.status().with_context("rule " + std::to_string(i + 1)));
    specs.push_back(*r);
    texts.push_back(j.dump());
  }
  Result<std::unique_ptr<au::RuleStore>> st = open_rule_store(key, true);
  if (!st.is_ok()) return fail(verb, st.status());
  // Conflicts with each other and with the rules already saved are shown before asking.
  Result<std::vector<au::StoredRule>> saved = (*st)->list();
  if (!saved.is_ok()) return fail(verb, saved.status());
  std::vector<au::Rule> all = *rules;
  for (const au::StoredRule& sr : *saved) {
    Result<au::Rule> r = au::rule_from_json(nlohmann::ordered_json::parse(sr.json, nullptr, false));
    if (r.is_ok()) all.push_back(std::move(*r));
  }
  std::vector<std::string> conflicts;
  for (const au::Conflict& c : au::find_conflicts(all))
    if (c.rule_a < rules->size() || c.rule_b < rules->size()) conflicts.push_back(au::conflict_text(c, all, zh));
  if (!a.json || !a.yes) {
    std::FILE* out = a.json ? stderr : stdout;
    std::fprintf(out, "%s", au::confirmation_text(*rules, zh).c_str());
    for (const std::string& c : conflicts) std::fprintf(out, "%s %s\n", zh ? "冲突：" : "conflict:", c.c_str());
  }
  if (!a.yes) {
    if (!isatty(STDIN_FILENO))
      return fail(verb, "refusing to save without confirmation: stdin is not a terminal (review the rules, then pass --yes)");
    std::printf(zh ? "保存？[y/N] " : "Save? [y/N] ");
    std::fflush(stdout);
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") return fail(verb, "not confirmed; nothing saved");
  }
  au::RealClock clock;
  Result<std::vector<std::string>> ids = (*st)->add(texts, clock.now());
  if (!ids.is_ok()) return fail(verb, ids.status());
  if (a.json) {
    json out = json::array();
    for (size_t i = 0; i < ids->size(); ++i) out.push_back({{"id", (*ids)[i]}, {"name", specs[i].name}});
    print_json({{"added", out}, {"conflicts", conflicts}});
    return 0;
  }
  for (size_t i = 0; i < ids->size(); ++i) std::printf("added %s \"%s\"\n", (*ids)[i].c_str(), specs[i].name.c_str());
  return 0;
}

// ---- list / remove / enable / disable / history ----------------------------------------------------

struct IdArgs {
  std::string db, id, rule, tz;
  std::string passphrase_file;
  bool json = false;
};

int run_list(const IdArgs& a) {
  const char* verb = "automation list";
  Result<std::unique_ptr<au::RuleStore>> st = open_rule_store(a.db, a.passphrase_file, false);
  if (!st.is_ok()) return fail(verb, st.status());
  Result<std::vector<au::StoredRule>> rules = (*st)->list();
  if (!rules.is_ok()) return fail(verb, rules.status());
  Result<au::Zone> zone = au::Zone::open(a.tz);
  if (!zone.is_ok()) return fail(verb, zone.status());
  if (a.json) {
    json out = json::array();
    for (const au::StoredRule& r : *rules)
      out.push_back({{"id", r.id}, {"enabled", r.enabled}, {"created", zone->format(r.created_s)},
                     {"rule", json::parse(r.json, nullptr, false)}});
    print_json({{"rules", out}});
    return 0;
  }
  if (rules->empty()) std::printf("no rules\n");
  for (const au::StoredRule& r : *rules) {
    Result<au::RuleSpec> spec = au::parse_rule(json::parse(r.json, nullptr, false));
    std::printf("%s [%s] %s", r.id.c_str(), r.enabled ? "enabled" : "disabled",
                spec.is_ok() ? au::describe_rule(*spec).c_str() : ("(cannot read: " + spec.status().message() + ")\n").c_str());
  }
  return 0;
}

int run_change(const IdArgs& a, const std::string& what) {
  const std::string verb = "automation " + what;
  Result<std::unique_ptr<au::RuleStore>> st = open_rule_store(a.db, a.passphrase_file, false);
  if (!st.is_ok()) return fail(verb, st.status());
  Status s;
  if (what == "remove") {
    s = (*st)->remove(a.id);
  } else {
    s = (*st)->set_enabled(a.id, what == "enable");
    // A re-enabled rule starts from now: the time it was off is neither run nor reported as missed.
    if (s.is_ok() && what == "enable") s = (*st)->advance_progress(a.id, au::RealClock().now() - 1);
  }
  if (!s.is_ok()) return fail(verb, s);
  const char* done = what == "remove" ? "removed" : what == "enable" ? "enabled" : "disabled";
  if (a.json) print_json({{"id", a.id}, {"status", done}});
  else std::printf("%s %s\n", done, a.id.c_str());
  return 0;
}

int run_history(const IdArgs& a) {
  const char* verb = "automation history";
  Result<std::unique_ptr<au::RuleStore>> st = open_rule_store(a.db, a.passphrase_file, false);
  if (!st.is_ok()) return fail(verb, st.status());
  Result<au::Zone> zone = au::Zone::open(a.tz);
  if (!zone.is_ok()) return fail(verb, zone.status());
  Result<std::vector<au::RunRecord>> h = (*st)->history(a.rule, 1000000);
  if (!h.is_ok()) return fail(verb, h.status());
  if (a.json) {
    json out = json::array();
    for (const au::RunRecord& r : *h) out.push_back(run_json(r, *zone));
    print_json({{"runs", out}});
    return 0;
  }
  if (h->empty()) std::printf("no runs\n");
  for (const au::RunRecord& r : *h)
    std::printf("%s  %s  %s  %s%s%s\n", zone->format(r.scheduled_s.value_or(r.started_s)).c_str(), r.rule_id.c_str(),
                r.trigger.c_str(), r.status.c_str(), r.detail.empty() ? "" : ": ", r.detail.c_str());
  return 0;
}

// ---- emit / run -------------------------------------------------------------------------------------

struct ExecArgs {
  std::string db, tz, event, until, start_at;
  std::string passphrase_file;
  std::vector<std::string> params, fail_tools, hang_tools;
  int64_t timeout_ms = 10000;
  bool json = false, events_stdin = false;
};

// The rules of --db and the bridge logging to DIR/device_calls.jsonl (sealed, .enc, with the key of
// an encrypted store): one passphrase read and unlock for both.
struct Exec {
  std::unique_ptr<au::RuleStore> rules;
  std::shared_ptr<au::LoggingBridge> bridge;
};
Result<Exec> open_exec(const ExecArgs& a) {
  PM_ASSIGN_OR_RETURN(std::optional<store::StoreKey> key,
                      side_file_key(a.db, a.passphrase_file, au::RuleStore::kFileName, false));
  Exec e;
  PM_ASSIGN_OR_RETURN(e.rules, au::RuleStore::open(a.db, false, key));
  PM_ASSIGN_OR_RETURN(e.bridge, au::LoggingBridge::open(a.db, key));
  for (const std::string& t : a.fail_tools) e.bridge->inject_failure(t);
  for (const std::string& t : a.hang_tools) e.bridge->inject_hang(t);
  return e;
}

int run_emit(const ExecArgs& a) {
  const char* verb = "automation emit";
  Result<au::Event> ev = au::event_from_args(a.event, a.params);
  if (!ev.is_ok()) return fail(verb, ev.status());
  if (a.timeout_ms < 1) return fail(verb, "--timeout-ms: expected a positive number of milliseconds");
  Result<au::Zone> zone = au::Zone::open(a.tz);
  if (!zone.is_ok()) return fail(verb, zone.status());
  Result<Exec> ex = open_exec(a);
  if (!ex.is_ok()) return fail(verb, ex.status());
  au::RealClock clock;
  au::SchedulerOptions so;
  so.call_timeout_ms = a.timeout_ms;
  std::vector<au::RunReport> reports;
  {
    au::Scheduler sched(*ex->rules, ex->bridge, *zone, clock, so);
    std::vector<std::string> warnings;
    Status s = sched.load_rules(&warnings);
    if (!s.is_ok()) return fail(verb, s);
    for (const std::string& w : warnings) std::fprintf(stderr, "pocketmind %s: warning: %s\n", verb, w.c_str());
    s = sched.handle_event(*ev, &reports);
    if (!s.is_ok()) return fail(verb, s);
    sched.wait_idle();
  }
  Result<std::vector<au::RunRecord>> h = ex->rules->history("", 1000000);
  if (!h.is_ok()) return fail(verb, h.status());
  json runs = json::array();
  for (const au::RunReport& r : reports)
    for (const au::RunRecord& rec : *h)
      if (rec.id == r.run_id) {
        json j = run_json(rec, *zone);
        j["name"] = r.rule_name;
        runs.push_back(j);
      }
  if (a.json) {
    print_json({{"event", ev->name}, {"params", ev->params}, {"runs", runs}});
    return 0;
  }
  if (runs.empty()) std::printf("no enabled rule matched %s\n", ev->name.c_str());
  for (const json& r : runs)
    std::printf("%s \"%s\": %s%s%s\n", r["rule"].get<std::string>().c_str(), r["name"].get<std::string>().c_str(),
                r["status"].get<std::string>().c_str(), r["detail"].get<std::string>().empty() ? "" : ": ",
                r["detail"].get<std::string>().c_str());
  return 0;
}

std::atomic<bool> g_stop{false};  // set by SIGINT / SIGTERM for `automation run` only
extern "C" void on_stop_signal(int) { g_stop = true; }

int run_daemon(const ExecArgs& a) {
  const char* verb = "automation run";
  Result<au::Zone> zone = au::Zone::open(a.tz);
  if (!zone.is_ok()) return fail(verb, zone.status());
  int64_t until = INT64_MAX;
  if (!a.until.empty()) {
    Result<int64_t> u = parse_time_arg("--until", a.until);
    if (!u.is_ok()) return fail(verb, u.status());
    until = *u;
  }
  std::unique_ptr<au::Clock> clock;
  au::SchedulerOptions so;
  so.call_timeout_ms = a.timeout_ms;
  if (a.timeout_ms < 1) return fail(verb, "--timeout-ms: expected a positive number of milliseconds");
  if (!a.start_at.empty()) {
    Result<int64_t> s = parse_time_arg("--start-at", a.start_at);
    if (!s.is_ok()) return fail(verb, s.status());
    if (a.until.empty()) return fail(verb, "--start-at (a virtual clock) needs --until");
    clock = std::make_unique<au::VirtualClock>(*s);
    so.wait_each_tick = true;
  } else {
    clock = std::make_unique<au::RealClock>();
  }
  Result<Exec> ex = open_exec(a);
  if (!ex.is_ok()) return fail(verb, ex.status());
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  au::Scheduler sched(*ex->rules, ex->bridge, *zone, *clock, so);
  // The bridge's events arrive as JSON lines on stdin; a bad line is reported and skipped; the
  // end of stdin (the bridge went away) stops the daemon once the events read are handled.
  std::thread reader;
  std::atomic<bool> reader_quit{false};
  if (a.events_stdin) {
    reader = std::thread([&sched, &reader_quit] {
      std::string pending;
      int n = 0;
      auto handle = [&](const std::string& line) {
        ++n;
        if (line.find_first_not_of(" \t\r") == std::string::npos) return;
        Status st = sched.post_event_json(line);
        if (!st.is_ok()) std::fprintf(stderr, "pocketmind automation run: stdin line %d rejected: %s\n", n, st.message().c_str());
      };
      while (!reader_quit) {  // poll, so that the daemon can stop while stdin stays open
        pollfd p{STDIN_FILENO, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) continue;
        char buf[4096];
        const ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
        if (got <= 0) break;  // end of stdin: the bridge went away
        pending.append(buf, (size_t)got);
        for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
          handle(pending.substr(0, nl));
          pending.erase(0, nl + 1);
        }
      }
      if (!pending.empty() && !reader_quit) handle(pending);
      g_stop = true;
    });
  }
  int64_t late = 0;  // seen too late while running (the process was suspended)
  Status s = sched.run_until(until, &g_stop, [&](const au::RunReport& r) {
    if (r.status == "missed" && r.run_id != 0) ++late;
    if (a.json) {
      std::printf("%s\n", json({{"run", r.run_id}, {"rule", r.rule_id}, {"trigger", r.trigger},
                                {"scheduled", r.scheduled ? json(zone->format(*r.scheduled)) : json(nullptr)},
                                {"status", r.status}, {"detail", r.detail}})
                              .dump()
                              .c_str());
    } else {
      std::printf("%s  %s  %s  %s%s%s\n", r.scheduled ? zone->format(*r.scheduled).c_str() : "-", r.rule_id.c_str(),
                  r.trigger.c_str(), r.status.c_str(), r.detail.empty() ? "" : ": ", r.detail.c_str());
    }
    std::fflush(stdout);
  });
  if (reader.joinable()) {
    reader_quit = true;
    reader.join();
  }
  if (!s.is_ok()) return fail(verb, s);
  const int64_t missed = sched.missed_total() + late;
  if (missed > 0) std::fprintf(stderr, "pocketmind %s: %lld run%s missed while the scheduler was not running (see history)\n",
                               verb, (long long)missed, missed == 1 ? " was" : "s were");
  return 0;
}

// ---- calls ---------------------------------------------------------------------------------------------

struct CallsArgs {
  std::string db, passphrase_file;
  int64_t tail = 0;
  bool json = false;
};

// The device bridge's log of tool calls, decrypted for an encrypted store.
int run_calls(const CallsArgs& a) {
  const char* verb = "automation calls";
  if (a.tail < 0) return fail(verb, "--tail: expected a number of lines >= 0");
  Result<store::StoreLogContents> log = read_log_of(a.db, a.passphrase_file, au::kDeviceCallLogFiles);
  if (!log.is_ok()) return fail(verb, log.status());
  return print_log(verb, *log, a.tail, a.json, "calls", [](const std::string& line) {
    json j = json::parse(line, nullptr, false);
    return j.is_discarded() ? json({{"unparsed", line}}) : j;
  });
}

// ---- simulate -----------------------------------------------------------------------------------------

struct SimArgs {
  std::string db, rule_file, from, to, tz, events;
  std::string passphrase_file;
  std::vector<std::string> state;
  bool json = false;
};

int run_simulate(const SimArgs& a) {
  const char* verb = "automation simulate";
  if (a.db.empty() == a.rule_file.empty()) return fail(verb, "give either --db DIR (saved rules) or --rule-file FILE");
  Result<au::Zone> zone = au::Zone::open(a.tz);
  if (!zone.is_ok()) return fail(verb, zone.status());
  Result<int64_t> from = parse_time_arg("--from", a.from), to = parse_time_arg("--to", a.to);
  if (!from.is_ok()) return fail(verb, from.status());
  if (!to.is_ok()) return fail(verb, to.status());
  if (*to < *from) return fail(verb, "--to is before --from");
  std::vector<au::RuleSpec> rules;
  if (!a.db.empty()) {
    Result<std::unique_ptr<au::RuleStore>> st = open_rule_store(a.db, a.passphrase_file, false);
    if (!st.is_ok()) return fail(verb, st.status());
    Result<std::vector<au::StoredRule>> stored = (*st)->list();
    if (!stored.is_ok()) return fail(verb, stored.status());
    for (const au::StoredRule& s : *stored) {
      if (!s.enabled) continue;
      Result<au::RuleSpec> r = au::parse_rule(json::parse(s.json, nullptr, false));
      if (!r.is_ok()) {
        std::fprintf(stderr, "pocketmind %s: warning: rule %s skipped: %s\n", verb, s.id.c_str(), r.status().message().c_str());
        continue;
      }
      r->id = s.id;
      rules.push_back(*r);
    }
  } else {
    std::ifstream f(a.rule_file, std::ios::binary);
    if (!f) return fail(verb, a.rule_file + ": cannot read the rule file");
    std::stringstream ss;
    ss << f.rdbuf();
    json doc = json::parse(ss.str(), nullptr, false);
    if (doc.is_discarded()) return fail(verb, a.rule_file + ": not valid JSON");
    Result<std::vector<json>> docs = au::split_rules_document(doc);
    if (!docs.is_ok()) return fail(verb, docs.status().with_context(a.rule_file));
    for (size_t i = 0; i < docs->size(); ++i) {
      Result<au::RuleSpec> r = au::parse_rule((*docs)[i]);
      if (!r.is_ok()) return fail(verb, r.status().with_context(a.rule_file + ": rule " + std::to_string(i + 1)));
      r->id = "#" + std::to_string(i + 1);
      rules.push_back(*r);
    }
  }
  au::DeviceState state;
  for (const std::string& kv : a.state) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return fail(verb, "--state '" + kv + "': expected KEY=VALUE");
    Status s = state.set(kv.substr(0, eq), kv.substr(eq + 1));
    if (!s.is_ok()) return fail(verb, s.with_context("--state"));
  }
  std::vector<au::TimedEvent> events;
  if (!a.events.empty()) {
    std::ifstream f(a.events, std::ios::binary);
    if (!f) return fail(verb, a.events + ": cannot read the events file");
    std::string line;
    for (int n = 1; std::getline(f, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = a.events + ":" + std::to_string(n);
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded()) return fail(verb, where + ": not valid JSON");
      if (!j.is_object() || !j.contains("time") || !j["time"].is_string())
        return fail(verb, where + ": expected {\"time\": ISO8601, \"event\": NAME, ...}");
      Result<int64_t> t = parse_time_arg("time", j["time"].get<std::string>());
      if (!t.is_ok()) return fail(verb, t.status().with_context(where));
      Result<au::Event> e = au::event_from_json(j);
      if (!e.is_ok()) return fail(verb, e.status().with_context(where));
      events.push_back({*t, *e});
    }
  }
  std::vector<au::SimFiring> firings = au::simulate(rules, *zone, *from, *to, events, state);
  if (a.json) {
    json out = json::array();
    for (const au::SimFiring& f : firings) {
      json acts = json::array();
      for (const au::ActionSpec& x : f.actions) acts.push_back({{"tool", x.tool}, {"args", x.args}});
      out.push_back({{"time", zone->format(f.time)}, {"rule", f.rule_id}, {"name", f.rule_name}, {"trigger", f.trigger},
                     {"status", f.fired ? "fire" : "skipped_condition"}, {"actions", f.fired ? acts : json::array()}});
    }
    print_json({{"zone", zone->id()}, {"from", zone->format(*from)}, {"to", zone->format(*to)}, {"firings", out}});
    return 0;
  }
  if (firings.empty()) std::printf("nothing fires between %s and %s\n", zone->format(*from).c_str(), zone->format(*to).c_str());
  for (const au::SimFiring& f : firings) {
    std::string acts;
    for (const au::ActionSpec& x : f.actions) acts += (acts.empty() ? "" : "; ") + x.tool + " " + x.args.dump();
    std::printf("%s  %s \"%s\"  %s  %s\n", zone->format(f.time).c_str(), f.rule_id.c_str(), f.rule_name.c_str(),
                f.trigger.c_str(), f.fired ? ("-> " + acts).c_str() : "skipped (a condition did not hold)");
  }
  return 0;
}

}  // namespace

void add_automation_rules(CLI::App* automation, int& result) {
  {
    auto a = std::make_shared<AddArgs>();
    CLI::App* c = automation->add_subcommand(
        "add", "Save rules from a request in plain language, or from JSON (one rule, an array, or {\"rules\": [...]}); "
               "every rule is validated and shown for confirmation first");
    c->add_option("TEXT", a->text, "the request, e.g. \"每天早上7点播报天气\" (as `automation parse` reads it)");
    c->add_option("--db", a->db, "directory holding automations.sqlite (created when missing)")->required();
    add_passphrase_option(c, &a->passphrase_file);
    c->add_option("--rule-file", a->rule_file, "rules JSON file, or - for stdin");
    c->add_option("--now", a->now, "with TEXT: the current time, ISO 8601; default: the system clock");
    c->add_option("--tz", a->tz, "with TEXT: the user's UTC offset (+08:00)");
    c->add_flag("--yes", a->yes, "save without asking (otherwise a summary is shown and y/N asked on the terminal)");
    c->add_flag("--json", a->json, "machine-readable output");
    c->callback([a, &result] { result = run_add(*a); });
  }
  {
    auto a = std::make_shared<IdArgs>();
    CLI::App* c = automation->add_subcommand("list", "List saved rules");
    c->add_option("--db", a->db, "rules directory")->required();
    add_passphrase_option(c, &a->passphrase_file);
    c->add_option("--tz", a->tz, "time zone for times shown (default: TZ / system zone)");
    c->add_flag("--json", a->json, "machine-readable output");
    c->callback([a, &result] { result = run_list(*a); });
  }
  for (const char* what : {"remove", "enable", "disable"}) {
    auto a = std::make_shared<IdArgs>();
    const std::string w = what;
    CLI::App* c = automation->add_subcommand(w, w == "remove" ? "Delete a saved rule (its run history stays)"
                                                : w == "enable" ? "Enable a rule (it runs from now on; the time it was off is not replayed)"
                                                                : "Disable a rule (kept, not run)");
    c->add_option("ID", a->id, "rule id, as `automation list` shows")->required();
    c->add_option("--db", a->db, "rules directory")->required();
    add_passphrase_option(c, &a->passphrase_file);
    c->add_flag("--json", a->json, "machine-readable output");
    c->callback([a, w, &result] { result = run_change(*a, w); });
  }
  {
    auto a = std::make_shared<IdArgs>();
    CLI::App* c = automation->add_subcommand("history", "Show the run history (ok, failed, timeout, skipped_*, missed, ...)");
    c->add_option("--db", a->db, "rules directory")->required();
    add_passphrase_option(c, &a->passphrase_file);
    c->add_option("--rule", a->rule, "only this rule id");
    c->add_option("--tz", a->tz, "time zone for times shown (default: TZ / system zone)");
    c->add_flag("--json", a->json, "machine-readable output");
    c->callback([a, &result] { result = run_history(*a); });
  }
  auto exec_opts = [](CLI::App* c, ExecArgs& a) {
    c->add_option("--db", a.db, "rules directory (tool calls are logged to DIR/device_calls.jsonl, "
                                "DIR/device_calls.jsonl.enc in an encrypted store)")->required();
    add_passphrase_option(c, &a.passphrase_file);
    c->add_option("--tz", a.tz, "device time zone (default: TZ / system zone)");
    c->add_option("--timeout-ms", a.timeout_ms, "abandon a tool call after this long (recorded as timeout)");
    c->add_option("--fail-tool", a.fail_tools, "testing: calls to this tool fail");
    c->add_option("--hang-tool", a.hang_tools, "testing: calls to this tool never answer");
    c->add_flag("--json", a.json, "machine-readable output");
  };
  {
    auto a = std::make_shared<ExecArgs>();
    CLI::App* c = automation->add_subcommand("emit", "Send a device event now: matching enabled rules run through the device bridge");
    exec_opts(c, *a);
    c->add_option("EVENT", a->event, "event name, e.g. headphones.connected, wifi.connected")->required();
    c->add_option("PARAMS", a->params, "event parameters KEY=VALUE (e.g. ssid=Home place=office)");
    c->callback([a, &result] { result = run_emit(*a); });
  }
  {
    auto a = std::make_shared<ExecArgs>();
    CLI::App* c = automation->add_subcommand("run", "Run the scheduler (reports runs missed while it was not running)");
    exec_opts(c, *a);
    c->add_option("--until", a->until, "stop at this time (ISO 8601 with offset)");
    c->add_flag("--events-stdin", a->events_stdin, "read device events as JSON lines ({\"event\": ..., params}) from stdin; stop at its end");
    c->add_option("--start-at", a->start_at, "testing: a virtual clock starting here that jumps from firing to firing up to --until");
    c->callback([a, &result] { result = run_daemon(*a); });
  }
  {
    auto a = std::make_shared<CallsArgs>();
    CLI::App* c = automation->add_subcommand(
        "calls", "Show the tool calls the device bridge logged (emit/run), decrypted for an encrypted store");
    c->add_option("--db", a->db, "rules directory")->required();
    add_passphrase_option(c, &a->passphrase_file);
    c->add_option("--tail", a->tail, "only the last N calls");
    c->add_flag("--json", a->json, "machine-readable output: {\"file\", \"encrypted\", \"calls\": [...], \"damaged\"}");
    c->callback([a, &result] { result = run_calls(*a); });
  }
  {
    auto a = std::make_shared<SimArgs>();
    CLI::App* c = automation->add_subcommand("simulate", "Show what the rules would do between two times (virtual clock; writes nothing)");
    c->add_option("--db", a->db, "rules directory (enabled rules)");
    add_passphrase_option(c, &a->passphrase_file);
    c->add_option("--rule-file", a->rule_file, "or: rules JSON file (not saved)");
    c->add_option("--from", a->from, "start (ISO 8601 with offset, exclusive)")->required();
    c->add_option("--to", a->to, "end (ISO 8601 with offset, inclusive)")->required();
    c->add_option("--tz", a->tz, "device time zone (default: TZ / system zone)");
    c->add_option("--events", a->events, "JSON Lines of events: {\"time\": ..., \"event\": ..., params...}");
    c->add_option("--state", a->state, "initial device state KEY=VALUE (battery, location, ringer_mode, do_not_disturb, wifi, bluetooth, charging)");
    c->add_flag("--json", a->json, "machine-readable output");
    c->callback([a, &result] { result = run_simulate(*a); });
  }
}

}  // namespace pm::cli
#endif
