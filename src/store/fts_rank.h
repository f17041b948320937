// The FTS5 ranking function "pm_bm25": BM25 like FTS5's built-in bm25(), except that the
// inverse document frequencies come from the caller instead of a pass over each phrase's whole
// doclist (which the built-in makes on every query: ~40 ms for a word in most of 100k records).
//   pm_bm25(records_fts, w_col0, ..., w_colN-1, idf_phrase0, idf_phrase1, ...)
// Score per row: -sum_p idf_p * f_p * (k1 + 1) / (f_p + k1 * (1 - b + b * |row| / avg|row|)),
// f_p = weighted hits of phrase p (k1 = 1.2, b = 0.75; negative: lower is better, as FTS5's rank).
#pragma once

#include <sqlite3.h>

#include "core/status.h"

namespace pm::store {

inline constexpr const char* kFtsRankName = "pm_bm25";
Status register_fts_rank(sqlite3* db, int n_columns);

// FTS5's own IDF for a phrase found in df of n rows: log((n - df + 0.5) / (df + 0.5)), at least 1e-6.
double bm25_idf(double n_rows, double df);

}  // namespace pm::store
