// pocketmind ingest --db DIR [--now T] [--json] [--ack] FILE...
#include <unistd.h>

#include <cstdio>

#include "cli/common.h"
#include "cli/store_common.h"
#include "store/embeddings.h"
#include "store/ingest.h"

namespace pm::cli {
namespace {

struct IngestArgs {
  std::string db;
  std::string passphrase_file;
  std::vector<std::string> files;
  std::string now;
  int batch = 500;
  int window_days = 365;
  bool json = false;
  bool ack = false;
  bool quiet = false;
  std::string embed_model;
  int embed_batch = 32;
  int n_threads = 0;
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
  store::StoreOptions so;
  if (Status p = apply_passphrase(a.passphrase_file, &so); !p.is_ok()) return fail(verb, p);
  Result<std::unique_ptr<store::Store>> st = store::Store::open(a.db, so);
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
  // Embeddings: --embed-model configures (or changes) the store's model; otherwise the one
  // already configured is used. New and changed records are embedded in batches.
  int64_t embedded = 0;
  std::string embed_note;
  Result<std::optional<store::EmbeddingConfig>> cfg = store::embedding_config(**st);
  if (!cfg.is_ok()) return fail(verb, cfg.status());
  const std::string model_path = !a.embed_model.empty() ? a.embed_model : (*cfg ? (*cfg)->model_path : "");
  if (!model_path.empty()) {
    Result<std::unique_ptr<store::TextEmbedder>> e = store::TextEmbedder::open(model_path, a.n_threads);
    if (!e.is_ok() && !a.embed_model.empty()) return fail(verb, e.status().with_context("--embed-model"));
    if (!e.is_ok()) {
      embed_note = "records not embedded: " + e.status().message();
      if (!a.quiet) std::fprintf(stderr, "pocketmind ingest: %s\n", embed_note.c_str());
    } else {
      if (!a.embed_model.empty()) {
        Result<bool> changed = store::configure_embedding_model(**st, **e);
        if (!changed.is_ok()) return fail(verb, changed.status());
        if (*changed) embed_note = "embedding model changed: every record is embedded again";
      } else if ((*e)->identity() != (*cfg)->model_id) {
        return fail(verb, model_path + " has changed since the store was embedded with it; give --embed-model " +
                              model_path + " to embed every record again with it");
      }
      store::EmbedOptions eo;
      eo.batch_records = a.embed_batch;
      if (tty)
        eo.on_progress = [&](int64_t done, int64_t total) {
          std::fprintf(stderr, "\rembedding %lld / %lld records", (long long)done, (long long)total);
          progress_drawn = true;
        };
      Result<int64_t> n = store::embed_pending(**st, **e, eo);
      if (progress_drawn) std::fputc('\n', stderr), progress_drawn = false;
      if (!n.is_ok()) return fail(verb, n.status());
      embedded = *n;
      Result<store::VectorIndex*> vi = (*st)->vector_index();
      if (!vi.is_ok()) return fail(verb, vi.status());
    }
  }
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
                {"records_in_store", total.is_ok() ? *total : -1},
                {"embedded", embedded},
                {"embed_model", model_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(model_path)},
                {"embed_note", embed_note}});
    return 0;
  }
  std::printf("%lld file%s: %lld added, %lld replaced, %lld unchanged, %lld rejected; %lld records in %s\n",
              (long long)s->files, s->files == 1 ? "" : "s", (long long)s->added, (long long)s->replaced,
              (long long)s->unchanged, (long long)s->rejected, total.is_ok() ? (long long)*total : -1LL, a.db.c_str());
  if (!model_path.empty() && embed_note.rfind("records not embedded", 0) != 0)
    std::printf("%lld record%s embedded with %s\n", (long long)embedded, embedded == 1 ? "" : "s", model_path.c_str());
  if (!embed_note.empty()) std::printf("%s\n", embed_note.c_str());
  return 0;
}

}  // namespace

void add_ingest(CLI::App& app, int& result) {
  auto args = std::make_shared<IngestArgs>();
  CLI::App* cmd = app.add_subcommand(
      "ingest",
      "Add personal data to a store: JSON Lines records, iCalendar .ics, vCard .vcf, notes folders (.txt/.md)");
  cmd->add_option("--db", args->db, "store directory (created when missing)")->required();
  add_passphrase_option(cmd, &args->passphrase_file);
  cmd->add_option("files", args->files, "input files or notes folders")->required();
  cmd->add_option("--now", args->now, "ISO 8601 time recurring events are expanded around (default: the clock)");
  cmd->add_option("--window-days", args->window_days, "expand recurring events this many days before and after --now")
      ->capture_default_str()
      ->check(CLI::Range(1, 36500));
  cmd->add_option("--batch", args->batch, "records per transaction")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--embed-model", args->embed_model,
                  "GGUF embedding model (bert, nomic-bert) for this store; records are embedded with it (all of them "
                  "again when it replaces another model)");
  cmd->add_option("--embed-batch", args->embed_batch, "records per embedding batch")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("-t,--threads", args->n_threads, "threads for embedding (default: all)");
  cmd->add_flag("--ack", args->ack, "print 'committed N' on stdout after each durable commit");
  cmd->add_flag("-q,--quiet", args->quiet, "no progress bar, no per-line rejections on stderr");
  cmd->add_flag("--json", args->json, "machine-readable summary");
  cmd->callback([args, &result] { result = run_ingest(*args); });
}

}  // namespace pm::cli
