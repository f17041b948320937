#include "store/fts_rank.h"

#include <cmath>
#include <string>
#include <vector>

namespace pm::store {
namespace {

constexpr double kK1 = 1.2, kB = 0.75;

fts5_api* get_api(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) != SQLITE_OK) return nullptr;
  sqlite3_bind_pointer(stmt, 1, reinterpret_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  return api;
}

void pm_bm25(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int n_val, sqlite3_value** val) {
  const int n_cols = api->xColumnCount(fts);
  const int n_phrases = api->xPhraseCount(fts);
  if (n_val != n_cols + n_phrases) {
    const std::string msg = std::string(kFtsRankName) + ": expected " + std::to_string(n_cols) +
                            " column weights and " + std::to_string(n_phrases) + " phrase IDFs";
    sqlite3_result_error(ctx, msg.c_str(), -1);
    return;
  }
  // Hits per phrase, weighted by column.
  double freq[64] = {};
  int n_inst = 0;
  if (api->xInstCount(fts, &n_inst) != SQLITE_OK) return sqlite3_result_error(ctx, "pm_bm25: xInstCount", -1);
  for (int i = 0; i < n_inst; ++i) {
    int phrase = 0, col = 0, off = 0;
    if (api->xInst(fts, i, &phrase, &col, &off) != SQLITE_OK) continue;
    if (phrase < 64 && col < n_cols) freq[phrase] += sqlite3_value_double(val[col]);
  }
  int row_tokens = 0;
  sqlite3_int64 n_rows = 0, total_tokens = 0;
  api->xColumnSize(fts, -1, &row_tokens);
  api->xRowCount(fts, &n_rows);
  api->xColumnTotalSize(fts, -1, &total_tokens);
  const double avg = n_rows > 0 ? double(total_tokens) / double(n_rows) : 1.0;
  const double norm = kK1 * (1 - kB + kB * double(row_tokens) / (avg > 0 ? avg : 1.0));
  double score = 0;
  for (int p = 0; p < n_phrases && p < 64; ++p) {
    const double idf = sqlite3_value_double(val[n_cols + p]);
    score += idf * freq[p] * (kK1 + 1) / (freq[p] + norm);
  }
  sqlite3_result_double(ctx, -score);
}

}  // namespace

double bm25_idf(double n_rows, double df) {
  const double idf = std::log((n_rows - df + 0.5) / (df + 0.5));
  return idf > 1e-6 ? idf : 1e-6;
}

Status register_fts_rank(sqlite3* db, int) {
  fts5_api* api = get_api(db);
  if (api == nullptr) return Status::unsupported("this SQLite has no FTS5");
  if (api->xCreateFunction(api, kFtsRankName, nullptr, pm_bm25, nullptr) != SQLITE_OK)
    return Status::internal(std::string("registering ") + kFtsRankName + ": " + sqlite3_errmsg(db));
  return Status::ok();
}

}  // namespace pm::store
