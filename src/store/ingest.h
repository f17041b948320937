// Ingestion: files -> validated records -> the store, in batched transactions.
//
// Inputs (by extension, else by their first bytes):
//   .jsonl / .ndjson / .json   JSON Lines in the record format (record.h); one bad line is
//                              rejected with file:line and the rest still lands
//   .ics                       iCalendar events; recurring events expanded over a window (ical.h)
//   .vcf / .vcard              vCard contacts (vcard.h)
//   a directory, .txt, .md     plain-text notes (one record per file, id "note:<path>")
// Re-ingesting an id replaces the record (an identical one is left untouched: "unchanged").
//
// Acknowledgement: records are written in transactions of `batch_records`; after each COMMIT
// (durable: WAL + synchronous=FULL) on_commit(total committed so far) is called. Everything
// reported through on_commit survives a crash that happens afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace pm::store {

struct IngestReject {
  std::string file;
  int64_t line = 0;  // 1-based; 0 when the whole file was rejected
  std::string reason;
};

struct IngestSummary {
  int64_t added = 0;
  int64_t replaced = 0;
  int64_t unchanged = 0;
  int64_t rejected = 0;
  std::vector<IngestReject> rejects;  // the first max_rejects_kept of them
  int64_t files = 0;
  int64_t committed = 0;  // records written in committed transactions (added + replaced + unchanged)
};

struct IngestOptions {
  int batch_records = 500;
  Timestamp now;  // recurring events are expanded over [now - past, now + future]
  int window_days_past = 365;
  int window_days_future = 365;
  size_t max_rejects_kept = 1000;
  std::function<void(int64_t committed)> on_commit;
  std::function<void(uint64_t done_bytes, uint64_t total_bytes)> on_progress;
  std::function<void(const IngestReject&)> on_reject;  // as each one happens
};

// Fails only when the store cannot be written (then the open transaction is rolled back) or a
// path does not exist; bad content is counted in `rejected`.
Result<IngestSummary> ingest(Store& store, const std::vector<std::string>& paths, const IngestOptions& options);

// JSON Lines given as text (an app or the HTTP API handing records over), under the same rules as
// a .jsonl file; rejects are named `origin`:line.
Result<IngestSummary> ingest_jsonl_text(Store& store, std::string_view text, const std::string& origin,
                                        const IngestOptions& options);

}  // namespace pm::store
