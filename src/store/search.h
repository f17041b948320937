// Search over a store: query understanding (query.h) + full-text ranking (FTS5 BM25) + filters.
//
// Hybrid when the store has an embedding model configured (store/embeddings.h) and the caller
// passes that model: the query text is embedded, the vector index searched with the same
// filters (pre-filtered in the index, checked again in SQL), and the lexical and vector rankings
// fused by reciprocal rank fusion (score = sum over rankings of 1 / (60 + rank), times the
// boosts). Otherwise lexical only, and the result says why.
// Lexical matching: records holding every query term first; when fewer than k, records holding any.
// Ranking: BM25 over title / text / sender / location (weights 2, 1, 1.5, 1; fts_rank.h, with
// document frequencies estimated once per query), multiplied by
// 1.5 when a boosted person is the sender or a recipient and by 1.3 for a boosted source.
// Bounded work: when the query's words together occur in more than ~1000 records, only the most
// recently ingested records expected to hold ~1000 matches are ranked (widened when filters leave
// fewer than k); words rarer than that are always ranked over the whole store.
// A query that is only filters ("上周妈妈发的短信") lists the matching records by time (newest
// first; soonest first when the time range lies ahead of --now).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/embedder.h"
#include "store/query.h"
#include "store/store.h"

namespace pm::store {

inline constexpr size_t kMaxQueryBytes = 4096;

struct SearchOptions {
  int k = 10;     // hits wanted
  Timestamp now;  // what relative times resolve against
  // The store's embedding model, to embed the query (null: lexical only).
  const TextEmbedder* embedder = nullptr;
  // The query text's vector when the caller already has it (embedded while doing other work);
  // null: `embedder` embeds SearchResult::plan.text.
  const std::vector<float>* query_vector = nullptr;
  int rrf_k = 60;  // reciprocal rank fusion constant
};

struct SearchHit {
  std::string id;
  std::string source;
  std::string time;     // ISO 8601 as stored
  double score = 0;     // higher is better
  std::string snippet;  // matched text, matches in [brackets]
};

struct SearchResult {
  std::vector<SearchHit> hits;
  QueryPlan plan;
  std::string match_expression;  // FTS5 MATCH text ("" when the query was only filters)
  bool lexical_only = true;
  std::string note;  // why the search was lexical only ("" when hybrid)
  size_t vector_candidates = 0;  // hits the vector index contributed before fusion
  bool filters_only = false;  // no words to match: listed by time
};

Result<SearchResult> search(Store& store, std::string_view query, const SearchOptions& options);

}  // namespace pm::store
