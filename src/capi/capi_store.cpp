// C API: embedding models and the personal-data store (ingest, search, forget).
#include <chrono>
#include <cstdlib>
#include <ctime>

#include <nlohmann/json.hpp>

#include "capi/capi_internal.h"
#include "store/embeddings.h"
#include "store/ingest.h"
#include "store/record.h"
#include "store/search.h"
#include "store/time_util.h"

using pm::Result;
using pm::Status;
using pm::capi::guarded;
using pm::capi::need;
namespace st = pm::store;

namespace pm::capi {
namespace {

constexpr int kBatchRecords = 500;  // records per transaction, as `pocketmind ingest` writes them

// An ISO 8601 time, or (NULL) the system clock on the local UTC offset.
Result<st::Timestamp> parse_now(const char* text, const char* what) {
  if (text != nullptr) {
    Result<st::Timestamp> t = st::parse_iso8601(text);
    if (!t.is_ok()) return t.status().with_context(what);
    return t;
  }
  st::Timestamp t;
  t.epoch_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::time_t tt = std::time_t(t.epoch_s);
  std::tm tm{};
  if (localtime_r(&tt, &tm)) t.offset_s = int32_t(tm.tm_gmtoff);
  return t;
}

// After records landed: embeds the new and changed ones when the caller set an embedder, and saves
// the vector index in step with them.
Result<int64_t> embed_new_records(pm_store& s) {
  if (s.embedder == nullptr) return int64_t(0);
  PM_ASSIGN_OR_RETURN(int64_t n, st::embed_pending(*s.store, *s.embedder->embedder));
  PM_ASSIGN_OR_RETURN(st::VectorIndex * index, s.store->vector_index());
  (void)index;
  return n;
}

Status check_counts(const pm_ingest_counts* counts) {
  if (counts == nullptr) return Status::ok();
  PM_RETURN_IF_ERROR(check_out_struct(counts, sizeof(pm_ingest_counts), "counts"));
  if (counts->first_rejection != nullptr)
    return Status::invalid_argument("counts->first_rejection still holds a string: pm_string_free it first");
  return Status::ok();
}

void write_counts(pm_ingest_counts* counts, const st::IngestSummary& s, int64_t embedded, const std::string& first) {
  if (counts == nullptr) return;
  pm_ingest_counts out;
  pm_ingest_counts_init(&out);
  out.added = s.added;
  out.replaced = s.replaced;
  out.unchanged = s.unchanged;
  out.rejected = s.rejected;
  out.embedded = embedded;
  out.first_rejection = first.empty() ? nullptr : copy_string(first);
  write_struct(counts, out);
}

// JSON Lines text -> records, in transactions of kBatchRecords (the same rules as ingesting a
// .jsonl file: a bad line is counted and skipped, the rest lands).
Status ingest_lines(st::Store& store, std::string_view text, const std::string& origin, st::IngestSummary& summary,
                    std::string& first_rejection) {
  int64_t pending[3] = {0, 0, 0};  // by UpsertOutcome
  int in_batch = 0;
  auto commit = [&]() -> Status {
    if (in_batch == 0) return Status::ok();
    Status c = store.commit();
    if (!c.is_ok()) {
      (void)store.rollback();
      return c;
    }
    summary.added += pending[0];
    summary.replaced += pending[1];
    summary.unchanged += pending[2];
    pending[0] = pending[1] = pending[2] = 0;
    in_batch = 0;
    return Status::ok();
  };
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.remove_prefix(3);  // byte order mark
  int64_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    Status bad;
    if (line.size() > st::kMaxLineBytes)
      bad = Status::invalid_argument("line is " + std::to_string(line.size()) + " bytes; the limit is " +
                                     std::to_string(st::kMaxLineBytes));
    Result<st::Record> r = bad.is_ok() ? st::parse_record(line) : Result<st::Record>(bad);
    if (!r.is_ok()) {
      summary.rejected += 1;
      if (first_rejection.empty()) first_rejection = "line " + std::to_string(line_no) + ": " + r.status().message();
      continue;
    }
    if (in_batch == 0) PM_RETURN_IF_ERROR(store.begin());
    Result<st::UpsertOutcome> outcome = store.upsert(*r, origin);
    if (!outcome.is_ok()) {
      (void)store.rollback();
      return outcome.status();
    }
    pending[int(*outcome)] += 1;
    if (++in_batch >= kBatchRecords) PM_RETURN_IF_ERROR(commit());
  }
  return commit();
}

}  // namespace
}  // namespace pm::capi

extern "C" {

// ---- embeddings ---------------------------------------------------------------------------------

pm_status pm_embedder_open(const char* path, int32_t n_threads, pm_embedder** embedder, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(embedder, "embedder (out)"));
    *embedder = nullptr;
    PM_RETURN_IF_ERROR(need(path, "path"));
    if (n_threads < 0 || n_threads > 1024)
      return Status::invalid_argument("n_threads must be in 0..1024, got " + std::to_string(n_threads));
    auto e = std::make_unique<pm_embedder>();
    PM_ASSIGN_OR_RETURN(e->embedder, st::TextEmbedder::open(path, n_threads));
    *embedder = e.release();
    return Status::ok();
  });
}

void pm_embedder_free(pm_embedder* embedder) { delete embedder; }

pm_status pm_embedder_get_dim(const pm_embedder* embedder, int64_t* dim, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(embedder, "embedder"));
    PM_RETURN_IF_ERROR(need(dim, "dim (out)"));
    *dim = embedder->embedder->dim();
    return Status::ok();
  });
}

pm_status pm_embed(const pm_embedder* embedder, const char* const* texts, size_t n_texts, int flags, float* out,
                   size_t capacity, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(embedder, "embedder"));
    PM_RETURN_IF_ERROR(need(texts, "texts"));
    PM_RETURN_IF_ERROR(need(out, "out"));
    if (n_texts == 0) return Status::invalid_argument("n_texts is 0");
    const st::TextEmbedder& e = *embedder->embedder;
    const size_t dim = size_t(e.dim());
    if (capacity / dim < n_texts)
      return Status::out_of_range(std::to_string(n_texts) + " vectors of " + std::to_string(dim) + " floats need " +
                                  std::to_string(n_texts * dim) + " floats; out holds " + std::to_string(capacity));
    if ((flags & PM_EMBED_POOL_MEAN) && (flags & PM_EMBED_POOL_CLS))
      return Status::invalid_argument("flags: give at most one of PM_EMBED_POOL_MEAN and PM_EMBED_POOL_CLS");
    std::vector<std::string> batch;
    batch.reserve(n_texts);
    for (size_t i = 0; i < n_texts; ++i) {
      if (texts[i] == nullptr) return Status::invalid_argument("texts[" + std::to_string(i) + "] is NULL");
      batch.emplace_back(texts[i]);
    }
    const pm::Pooling pooling = (flags & PM_EMBED_POOL_MEAN)  ? pm::Pooling::kMean
                                : (flags & PM_EMBED_POOL_CLS) ? pm::Pooling::kCls
                                                              : e.default_pooling();
    std::vector<float> v;
    PM_RETURN_IF_ERROR(e.embed(batch, pooling, (flags & PM_EMBED_NO_NORMALIZE) == 0, &v));
    if (v.size() != n_texts * dim) return Status::internal("embedder returned " + std::to_string(v.size()) + " floats");
    std::copy(v.begin(), v.end(), out);
    return Status::ok();
  });
}

// ---- store --------------------------------------------------------------------------------------

pm_status pm_store_open(const char* dir, int flags, pm_store** store, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(store, "store (out)"));
    *store = nullptr;
    PM_RETURN_IF_ERROR(need(dir, "dir"));
    st::StoreOptions o;
    o.create = (flags & PM_STORE_NO_CREATE) == 0;
    auto s = std::make_unique<pm_store>();
    PM_ASSIGN_OR_RETURN(s->store, st::Store::open(dir, o));
    *store = s.release();
    return Status::ok();
  });
}

void pm_store_close(pm_store* store) { delete store; }

pm_status pm_store_set_embedder(pm_store* store, const pm_embedder* embedder, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(store, "store"));
    if (embedder != nullptr) {
      PM_ASSIGN_OR_RETURN(bool changed, st::configure_embedding_model(*store->store, *embedder->embedder));
      (void)changed;  // the old vectors are gone; the next ingest embeds every record again
    }
    store->embedder = embedder;
    return Status::ok();
  });
}

void pm_ingest_counts_init(pm_ingest_counts* counts) {
  if (counts == nullptr) return;
  *counts = pm_ingest_counts{};
  counts->struct_size = sizeof(pm_ingest_counts);
}

pm_status pm_store_ingest_jsonl(pm_store* store, const char* text, size_t text_len, const char* origin,
                                pm_ingest_counts* counts, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(store, "store"));
    if (text == nullptr && text_len > 0) return Status::invalid_argument("text is NULL");
    PM_RETURN_IF_ERROR(pm::capi::check_counts(counts));
    st::IngestSummary summary;
    std::string first;
    PM_RETURN_IF_ERROR(pm::capi::ingest_lines(*store->store, std::string_view(text ? text : "", text_len),
                                              origin ? origin : "api", summary, first));
    PM_ASSIGN_OR_RETURN(int64_t embedded, pm::capi::embed_new_records(*store));
    pm::capi::write_counts(counts, summary, embedded, first);
    return Status::ok();
  });
}

pm_status pm_store_ingest_file(pm_store* store, const char* path, const char* now_iso8601, pm_ingest_counts* counts,
                               pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(store, "store"));
    PM_RETURN_IF_ERROR(need(path, "path"));
    PM_RETURN_IF_ERROR(pm::capi::check_counts(counts));
    st::IngestOptions o;
    PM_ASSIGN_OR_RETURN(o.now, pm::capi::parse_now(now_iso8601, "now_iso8601"));
    o.max_rejects_kept = 1;
    PM_ASSIGN_OR_RETURN(st::IngestSummary summary, st::ingest(*store->store, {path}, o));
    std::string first;
    if (!summary.rejects.empty()) {
      const st::IngestReject& r = summary.rejects.front();
      first = r.line > 0 ? "line " + std::to_string(r.line) + ": " + r.reason : r.reason;
    }
    PM_ASSIGN_OR_RETURN(int64_t embedded, pm::capi::embed_new_records(*store));
    pm::capi::write_counts(counts, summary, embedded, first);
    return Status::ok();
  });
}

pm_status pm_store_search(pm_store* store, const char* query, int32_t k, const char* now_iso8601, char** json,
                          pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(json, "json (out)"));
    *json = nullptr;
    PM_RETURN_IF_ERROR(need(store, "store"));
    PM_RETURN_IF_ERROR(need(query, "query"));
    if (k < 1 || k > 1000) return Status::invalid_argument("k must be in 1..1000, got " + std::to_string(k));
    st::SearchOptions o;
    o.k = k;
    PM_ASSIGN_OR_RETURN(o.now, pm::capi::parse_now(now_iso8601, "now_iso8601"));
    o.embedder = store->embedder ? store->embedder->embedder.get() : nullptr;
    PM_ASSIGN_OR_RETURN(st::SearchResult r, st::search(*store->store, query, o));
    nlohmann::json hits = nlohmann::json::array();
    for (const st::SearchHit& h : r.hits)
      hits.push_back({{"id", h.id}, {"source", h.source}, {"time", h.time}, {"score", h.score}, {"snippet", h.snippet}});
    const nlohmann::json j = {{"hits", hits}, {"mode", r.lexical_only ? "lexical" : "hybrid"}, {"note", r.note}};
    *json = pm::capi::copy_string(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return Status::ok();
  });
}

pm_status pm_store_forget_id(pm_store* store, const char* id, int64_t* n_removed, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(store, "store"));
    PM_RETURN_IF_ERROR(need(id, "id"));
    PM_ASSIGN_OR_RETURN(int64_t n, store->store->forget_id(id));
    if (n_removed) *n_removed = n;
    return Status::ok();
  });
}

pm_status pm_store_forget_source(pm_store* store, const char* source, int64_t* n_removed, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(store, "store"));
    PM_RETURN_IF_ERROR(need(source, "source"));
    PM_ASSIGN_OR_RETURN(int64_t n, store->store->forget_source(source));
    if (n_removed) *n_removed = n;
    return Status::ok();
  });
}

pm_status pm_store_count(pm_store* store, int64_t* n_records, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(store, "store"));
    PM_RETURN_IF_ERROR(need(n_records, "n_records (out)"));
    PM_ASSIGN_OR_RETURN(*n_records, store->store->count());
    return Status::ok();
  });
}

}  // extern "C"
