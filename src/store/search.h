// Search over a store: query understanding (query.h) + full-text ranking (FTS5 BM25) + filters.
//
// Lexical only for now: no embedding model is configured yet, and the result says so.
// Matching: records holding every query term first; when fewer than k, records holding any.
// Ranking: BM25 over title / text / sender / location (weights 2, 1, 1.5, 1), multiplied by
// 1.5 when a boosted person is the sender or a recipient and by 1.3 for a boosted source.
// A query that is only filters ("上周妈妈发的短信") lists the matching records by time (newest
// first; soonest first when the time range lies ahead of --now).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/query.h"
#include "store/store.h"

namespace pm::store {

inline constexpr size_t kMaxQueryBytes = 4096;

struct SearchOptions {
  int k = 10;     // hits wanted
  Timestamp now;  // what relative times resolve against
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
  bool filters_only = false;  // no words to match: listed by time
};

Result<SearchResult> search(Store& store, std::string_view query, const SearchOptions& options);

}  // namespace pm::store
