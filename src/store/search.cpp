#include "store/search.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "store/utf8.h"

namespace pm::store {
namespace {

// Builds " AND ..." filter clauses with their parameters (bound as text or integers).
struct Filters {
  std::string sql;
  std::vector<std::variant<std::string, int64_t>> params;

  void add(const std::string& clause) { sql += " AND " + clause; }
  std::string param(std::variant<std::string, int64_t> v) {
    params.push_back(std::move(v));
    return std::string(1, '?').append(std::to_string(params.size() + 1));  // ?1 is the MATCH text
  }
  bool empty() const { return sql.empty(); }
  void bind(sqlite3_stmt* st) const {
    for (size_t i = 0; i < params.size(); ++i) {
      const int slot = int(i) + 2;
      if (std::holds_alternative<int64_t>(params[i]))
        sqlite3_bind_int64(st, slot, std::get<int64_t>(params[i]));
      else
        bind_text(st, slot, std::get<std::string>(params[i]));
    }
  }
};

Filters build_filters(const QueryPlan& plan) {
  Filters f;
  if (!plan.sources.empty()) {
    std::string in;
    for (const auto& s : plan.sources) in += (in.empty() ? "" : ", ") + f.param(s);
    f.add("r.source IN (" + in + ")");
  }
  if (plan.time) {
    f.add("r.t_begin < " + f.param(plan.time->end_s));
    f.add("r.t_end >= " + f.param(plan.time->begin_s));
  }
  for (const PersonFilter& p : plan.people) {
    if (!p.filter || p.names.empty()) continue;
    std::string any;
    for (const auto& n : p.names) {
      any += (any.empty() ? "" : " OR ") + ("r.sender = " + f.param(n));
      if (p.role == PersonRole::kAny)
        any += " OR instr(r.people, " + f.param(std::string(1, '\x1f') + fold_name(n) + '\x1f') + ") > 0";
    }
    f.add("(" + any + ")");
  }
  return f;
}

// Multiplier for boosted people and sources.
double boost(const QueryPlan& plan, const std::string& source, const std::string& people) {
  double b = 1.0;
  for (const auto& s : plan.boost_sources)
    if (s == source) b *= 1.3;
  for (const PersonFilter& p : plan.people) {
    if (p.filter) continue;
    for (const auto& n : p.names)
      if (people.find('\x1f' + fold_name(n) + '\x1f') != std::string::npos) {
        b *= 1.5;
        break;
      }
  }
  return b;
}

std::string plain_snippet(const nlohmann::json& rec) {
  std::string s;
  for (const char* field : {"title", "text", "location"}) {
    auto it = rec.find(field);
    if (it == rec.end() || !it->is_string()) continue;
    if (!s.empty()) s += " | ";
    s += it->get<std::string>();
  }
  const std::string_view cut = utf8_prefix(s, 240);
  return cut.size() < s.size() ? std::string(cut) + "…" : s;
}

struct Candidate {
  int64_t rid = 0;
  std::string id, source, people, json;
  double score = 0;
  int64_t t_begin = 0;
};

}  // namespace

Result<SearchResult> search(Store& store, std::string_view query, const SearchOptions& options) {
  if (query.size() > kMaxQueryBytes)
    return Status::invalid_argument("query is " + std::to_string(query.size()) + " bytes; the limit is " +
                                    std::to_string(kMaxQueryBytes));
  if (options.k <= 0) return Status::invalid_argument("k must be positive");
  SearchResult result;
  PM_ASSIGN_OR_RETURN(std::vector<std::string> people, store.people());
  result.plan = understand_query(query, options.now, people);
  PM_ASSIGN_OR_RETURN(TextAnalyzer * analyzer, store.analyzer());
  const std::vector<QueryTerm> terms = analyzer->query_terms(result.plan.text);
  result.match_expression = fts_match_expression(terms);
  const Filters filters = build_filters(result.plan);
  sqlite3* db = store.handle();
  auto db_error = [&](const char* what) {
    return Status::io_error(store.dir() + ": " + what + ": " + sqlite3_errmsg(db));
  };

  std::vector<Candidate> cands;
  if (!result.match_expression.empty()) {
    // Records holding every term first (cheap: the doclists intersect), then, when those are too
    // few, records holding any term. Scores of both passes are BM25 over the same terms.
    const int n_cands = options.k * 4 + 20;
    // Only rowid and rank go through the sort; the records' columns are read for the winners.
    sqlite3_stmt* fetch = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT id, source, people, json, t_begin FROM records WHERE rid = ?1", -1, &fetch,
                           nullptr) != SQLITE_OK)
      return db_error("preparing search");
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> fetch_owner(fetch, sqlite3_finalize);
    auto run = [&](const std::string& expr) -> Status {
      const std::string sql = std::string("SELECT records_fts.rowid, records_fts.rank FROM records_fts") +
                              (filters.empty() ? "" : " JOIN records r ON r.rid = records_fts.rowid") +
                              " WHERE records_fts MATCH ?1" + filters.sql + " ORDER BY records_fts.rank LIMIT " +
                              std::to_string(n_cands);
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return db_error("preparing search");
      bind_text(st, 1, expr);
      filters.bind(st);
      int rc;
      while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const int64_t rid = sqlite3_column_int64(st, 0);
        if (std::any_of(cands.begin(), cands.end(), [&](const Candidate& c) { return c.rid == rid; })) continue;
        sqlite3_bind_int64(fetch, 1, rid);
        if (sqlite3_step(fetch) == SQLITE_ROW) {
          Candidate c{rid,
                      column_text(fetch, 0),
                      column_text(fetch, 1),
                      column_text(fetch, 2),
                      column_text(fetch, 3),
                      -sqlite3_column_double(st, 1),
                      sqlite3_column_int64(fetch, 4)};
          c.score *= boost(result.plan, c.source, c.people);
          cands.push_back(std::move(c));
        }
        sqlite3_reset(fetch);
      }
      sqlite3_finalize(st);
      return rc == SQLITE_DONE ? Status::ok() : db_error("searching");
    };
    const std::string all_terms = fts_match_expression(terms, true);
    if (terms.size() > 1) PM_RETURN_IF_ERROR(run(all_terms));
    if (terms.size() <= 1 || cands.size() < size_t(options.k)) PM_RETURN_IF_ERROR(run(result.match_expression));
    // Equal scores (occurrences of one recurring event): nearest to now first.
    const int64_t now_s = options.now.epoch_s;
    std::stable_sort(cands.begin(), cands.end(), [now_s](const Candidate& a, const Candidate& b) {
      if (a.score != b.score) return a.score > b.score;
      return std::llabs(a.t_begin - now_s) < std::llabs(b.t_begin - now_s);
    });
  }
  // Only filters, or words that matched nothing within the filters: list what the filters select.
  if (cands.empty() && !filters.empty()) {
    result.filters_only = true;
    const bool ahead = result.plan.time && result.plan.time->begin_s >= options.now.epoch_s;
    // Newest first, but what has not happened yet after what has (unless the range lies ahead).
    const std::string now_s = std::to_string(options.now.epoch_s);
    const std::string sql =
        "SELECT r.rid, r.id, r.source, r.people, r.json FROM records r WHERE 1" + filters.sql +
        (ahead ? " ORDER BY r.t_begin ASC" : " ORDER BY r.t_begin > " + now_s + ", r.t_begin DESC") + " LIMIT " +
        std::to_string(options.k);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return db_error("preparing search");
    filters.bind(st);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      Candidate c{sqlite3_column_int64(st, 0), column_text(st, 1), column_text(st, 2),
                  column_text(st, 3),          column_text(st, 4), 0.0};
      c.score = boost(result.plan, c.source, c.people) / double(cands.size() + 1);  // time order, as a score
      cands.push_back(std::move(c));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return db_error("searching");
  }
  if (cands.size() > size_t(options.k)) cands.resize(size_t(options.k));

  sqlite3_stmt* snip = nullptr;
  if (!result.filters_only &&
      sqlite3_prepare_v2(
          db,
          "SELECT snippet(records_fts, 1, '[', ']', '…', 24), snippet(records_fts, -1, '[', ']', '…', 24), "
          "snippet(records_fts, 2, '[', ']', '…', 24) FROM records_fts "
          "WHERE records_fts MATCH ?1 AND rowid = ?2",
          -1, &snip, nullptr) != SQLITE_OK)
    return db_error("preparing snippets");
  for (const Candidate& c : cands) {
    SearchHit h;
    h.id = c.id;
    h.source = c.source;
    h.score = c.score;
    const nlohmann::json rec = nlohmann::json::parse(c.json, nullptr, false);
    if (rec.is_object() && rec.contains("time") && rec["time"].is_string()) h.time = rec["time"].get<std::string>();
    if (snip) {
      bind_text(snip, 1, result.match_expression);
      sqlite3_bind_int64(snip, 2, c.rid);
      // The text column when it matched; else the best column, unless that is just the sender's name.
      if (sqlite3_step(snip) == SQLITE_ROW) {
        const std::string text = column_text(snip, 0), best = column_text(snip, 1), sender = column_text(snip, 2);
        if (text.find('[') != std::string::npos)
          h.snippet = text;
        else if (best != sender)
          h.snippet = best;
      }
      sqlite3_reset(snip);
    }
    if (h.snippet.empty() && rec.is_object()) h.snippet = plain_snippet(rec);
    result.hits.push_back(std::move(h));
  }
  sqlite3_finalize(snip);
  return result;
}

}  // namespace pm::store
