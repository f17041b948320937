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
#include "store/store_key.h"
#include "store/time_util.h"

using pm::Result;
using pm::Status;
using pm::capi::guarded;
using pm::capi::need;
namespace st = pm::store;

namespace pm::capi {
namespace {

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

namespace {

Status open_store(const char* dir, int flags, const char* passphrase, pm_store** store) {
  PM_RETURN_IF_ERROR(need(store, "store (out)"));
  *store = nullptr;
  PM_RETURN_IF_ERROR(need(dir, "dir"));
  st::StoreOptions o;
  o.create = (flags & PM_STORE_NO_CREATE) == 0;
  if (passphrase != nullptr) {
    if (*passphrase == '\0') return Status::invalid_argument("passphrase is empty");
    o.passphrase = passphrase;
  }
  auto s = std::make_unique<pm_store>();
  PM_ASSIGN_OR_RETURN(s->store, st::Store::open(dir, o));
  *store = s.release();
  return Status::ok();
}

}  // namespace

pm_status pm_store_open(const char* dir, int flags, pm_store** store, pm_error** error) {
  return guarded(error, [&]() -> Status { return open_store(dir, flags, nullptr, store); });
}

pm_status pm_store_open_encrypted(const char* dir, int flags, const char* passphrase, pm_store** store,
                                  pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(passphrase, "passphrase"));
    return open_store(dir, flags, passphrase, store);
  });
}

pm_status pm_store_change_passphrase(const char* dir, const char* old_passphrase, const char* new_passphrase,
                                     pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(dir, "dir"));
    PM_RETURN_IF_ERROR(need(old_passphrase, "old_passphrase"));
    PM_RETURN_IF_ERROR(need(new_passphrase, "new_passphrase"));
    return st::change_store_passphrase(dir, old_passphrase, new_passphrase);
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
    st::IngestOptions o;
    o.max_rejects_kept = 1;
    PM_ASSIGN_OR_RETURN(st::IngestSummary summary,
                        st::ingest_jsonl_text(*store->store, std::string_view(text ? text : "", text_len),
                                              origin ? origin : "api", o));
    std::string first;
    if (!summary.rejects.empty()) first = "line " + std::to_string(summary.rejects.front().line) + ": " + summary.rejects.front().reason;
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
