// pocketmind ingest --db DIR [--now T] [--json] [--ack] FILE...
#include <unistd.h>

#include <cstdio>

#include "cli/common.h"
#include "cli/store_common.h"
#include "store/ingest.h"

namespace pm::cli {
namespace {

struct IngestArgs {
  std::string db;
  std::vector<std::string> files;
  std::string now;
  int batch = 500;
  int window_days = 365;
  bool json = false;
  bool ack = false;
  bool quiet = false;
};

constexpr int kMaxRejectsPrinted = 50;

void draw_progress(uint64_t done, uint64_t total) {
  const double frac = total ? double(done) / double(total) : 1.0;
  const int width = 30, filled = int(frac * width + 0.5);
  std::fprintf(stderr, "\r[%.*s%*s] %5.1f%%  %.1f / %.1f MiB", filled, "##############################", width - filled,
               "", frac * 100.0, double(done) / 1048576.0, double(total) / 1048576.0);
  std::fflush(stderr);
}

int run_ingest(const IngestArgs& a) {
  const char* verb = "ingest";
  Result<store::Timestamp> now = parse_now(a.now);
  if (!now.is_ok()) return fail(verb, now.status());
  Result<std::unique_ptr<store::Store>> st = store::Store::open(a.db);
  if (!st.is_ok()) return fail(verb, st.status());

  store::IngestOptions o;
  o.batch_records = a.batch;
  o.now = *now;
  o.window_days_past = o.window_days_future = a.window_days;
  const bool tty = isatty(STDERR_FILENO) && !a.quiet;
  bool progress_drawn = false;
  int printed = 0;
  if (tty)
    o.on_progress = [&](uint64_t done, uint64_t total) {
      draw_progress(done, total);
      progress_drawn = true;
    };
  // Acknowledgement for callers that must know what is durable: one line per committed
  // transaction, flushed, printed only after COMMIT returned.
  if (a.ack)
    o.on_commit = [](int64_t committed) {
      std::printf("committed %lld\n", (long long)committed);
      std::fflush(stdout);
    };
  o.on_reject = [&](const store::IngestReject& r) {
    if (a.quiet) return;
    if (progress_drawn) std::fputc('\n', stderr), progress_drawn = false;
    if (printed < kMaxRejectsPrinted)
      std::fprintf(stderr, "pocketmind ingest: rejected %s:%lld: %s\n", r.file.c_str(), (long long)r.line,
                   r.reason.c_str());
    else if (printed == kMaxRejectsPrinted)
      std::fprintf(stderr, "pocketmind ingest: (further rejections are counted in the summary only)\n");
    ++printed;
  };
  Result<store::IngestSummary> s = store::ingest(**st, a.files, o);
  if (progress_drawn) std::fputc('\n', stderr);
  if (!s.is_ok()) return fail(verb, s.status());
  Result<int64_t> total = (*st)->count();
  if (a.json) {
    nlohmann::json rejects = nlohmann::json::array();
    for (const auto& r : s->rejects) rejects.push_back({{"file", r.file}, {"line", r.line}, {"reason", r.reason}});
    print_json({{"files", s->files},
                {"added", s->added},
                {"replaced", s->replaced},
                {"unchanged", s->unchanged},
                {"rejected", s->rejected},
                {"rejects", rejects},
                {"records_in_store", total.is_ok() ? *total : -1}});
    return 0;
  }
  std::printf("%lld file%s: %lld added, %lld replaced, %lld unchanged, %lld rejected; %lld records in %s\n",
              (long long)s->files, s->files == 1 ? "" : "s", (long long)s->added, (long long)s->replaced,
              (long long)s->unchanged, (long long)s->rejected, total.is_ok() ? (long long)*total : -1LL, a.db.c_str());
  return 0;
}

}  // namespace

void add_ingest(CLI::App& app, int& result) {
  auto args = std::make_shared<IngestArgs>();
  CLI::App* cmd = app.add_subcommand(
      "ingest",
      "Add personal data to a store: JSON Lines records, iCalendar .ics, vCard .vcf, notes folders (.txt/.md)");
  cmd->add_option("--db", args->db, "store directory (created when missing)")->required();
  cmd->add_option("files", args->files, "input files or notes folders")->required();
  cmd->add_option("--now", args->now, "ISO 8601 time recurring events are expanded around (default: the clock)");
  cmd->add_option("--window-days", args->window_days, "expand recurring events this many days before and after --now")
      ->capture_default_str()
      ->check(CLI::Range(1, 36500));
  cmd->add_option("--batch", args->batch, "records per transaction")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--ack", args->ack, "print 'committed N' on stdout after each durable commit");
  cmd->add_flag("-q,--quiet", args->quiet, "no progress bar, no per-line rejections on stderr");
  cmd->add_flag("--json", args->json, "machine-readable summary");
  cmd->callback([args, &result] { result = run_ingest(*args); });
}

}  // namespace pm::cli
