#include "store/search.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <unordered_map>

#include "store/embeddings.h"
#include "store/fts_rank.h"
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

// How the lexical passes are ranked and bounded. Scoring costs about a microsecond per matching
// row, so a word found in most of 100k records cannot be ranked in full within a few ms. Phrases
// found in more than kRankBudget records ("frequent") are ranked only over the most recently
// ingested rows expected to hold about kRankBudget of their matches (the range widened 8-fold,
// once, when filters leave fewer than k hits; when none is found, the filters alone list
// records by time); rarer phrases are always ranked over the whole store, and the all-terms pass is
// bounded by its rarest term.
constexpr double kRankBudget = 1000;
constexpr int kMaxWidenings = 1;
constexpr int64_t kDfWindow = 4096;  // rows sampled to estimate a frequent phrase's df

struct Phrase {
  std::string expr;  // FTS5 MATCH text of this one phrase
  double df = 0;     // rows holding it (estimated when frequent)
  double idf = 0;
  bool frequent() const { return df > kRankBudget; }
};

struct LexicalPlan {
  std::vector<Phrase> phrases;  // in the order the MATCH expressions list them
  std::vector<size_t> term_of;  // phrase -> index of its query term
  int64_t min_rowid = 0, max_rowid = 0;
  double span = 1;
  // pm_bm25(...) for a MATCH expression over the phrases `which` (in that order).
  std::string rank_sql(const std::vector<size_t>& which) const {
    std::string sql = std::string(kFtsRankName) + "(records_fts, 2.0, 1.0, 1.5, 1.0";
    char buf[40];
    for (size_t i : which) {
      std::snprintf(buf, sizeof buf, ", %.9g", phrases[i].idf);
      sql += buf;
    }
    return sql + ")";
  }
  // Lowest rowid of the recent range expected to hold kRankBudget matches of `df` rows.
  int64_t window_start(double df) const {
    return df <= kRankBudget ? min_rowid : std::max(min_rowid, max_rowid - int64_t(span * kRankBudget / df));
  }
};

Result<LexicalPlan> plan_lexical(sqlite3* db, const std::vector<QueryTerm>& terms) {
  LexicalPlan lp;
  auto one_int = [&](const std::string& sql, const std::string* match) -> Result<int64_t> {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      return Status::io_error(std::string("planning search: ") + sqlite3_errmsg(db));
    if (match) bind_text(st, 1, *match);
    int64_t v = 0;
    const int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return Status::io_error(std::string("planning search: ") + sqlite3_errmsg(db));
    return v;
  };
  PM_ASSIGN_OR_RETURN(lp.min_rowid, one_int("SELECT coalesce(min(rid), 0) FROM records", nullptr));
  PM_ASSIGN_OR_RETURN(lp.max_rowid, one_int("SELECT coalesce(max(rid), 0) FROM records", nullptr));
  lp.span = double(lp.max_rowid - lp.min_rowid + 1);
  for (size_t ti = 0; ti < terms.size(); ++ti)
    for (const auto& alt : terms[ti].alternatives) {
      QueryTerm single;
      single.alternatives = {alt};
      Phrase ph;
      ph.expr = fts_match_expression({single});
      int64_t df = 0;
      if (lp.span <= 2.0 * kDfWindow) {
        PM_ASSIGN_OR_RETURN(df, one_int("SELECT count(*) FROM records_fts WHERE records_fts MATCH ?1", &ph.expr));
      } else {
        PM_ASSIGN_OR_RETURN(int64_t in_window,
                            one_int("SELECT count(*) FROM records_fts WHERE records_fts MATCH ?1 AND rowid > " +
                                        std::to_string(lp.max_rowid - kDfWindow),
                                    &ph.expr));
        const double estimate = double(in_window) * lp.span / double(kDfWindow);
        if (estimate < 2 * kRankBudget) {
          PM_ASSIGN_OR_RETURN(df, one_int("SELECT count(*) FROM records_fts WHERE records_fts MATCH ?1", &ph.expr));
        } else {
          df = int64_t(estimate);
        }
      }
      ph.df = double(df);
      ph.idf = bm25_idf(lp.span, std::min(ph.df, lp.span));
      lp.phrases.push_back(std::move(ph));
      lp.term_of.push_back(ti);
    }
  return lp;
}

// A ranked record: the columns ranking needs; the record's JSON is read for the final k only.
struct Candidate {
  int64_t rid = 0;
  std::string id, source, people;
  double score = 0;
  int64_t t_begin = 0;
  bool lexical = false;  // matched the words (snippets are made for these only)
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
    if (sqlite3_prepare_v2(db, "SELECT id, source, people, t_begin FROM records WHERE rid = ?1", -1, &fetch,
                           nullptr) != SQLITE_OK)
      return db_error("preparing search");
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> fetch_owner(fetch, sqlite3_finalize);
    PM_ASSIGN_OR_RETURN(LexicalPlan lp, plan_lexical(db, terms));
    // One ranked pass: MATCH `expr` over the phrases `which`, rows from `min_rowid` on.
    auto run = [&](const std::string& expr, const std::vector<size_t>& which, int64_t min_rowid) -> Status {
      const std::string sql =
          "SELECT records_fts.rowid, " + lp.rank_sql(which) + " AS score FROM records_fts" +
          (filters.empty() ? "" : " JOIN records r ON r.rid = records_fts.rowid") + " WHERE records_fts MATCH ?1" +
          (min_rowid > lp.min_rowid ? " AND records_fts.rowid >= " + std::to_string(min_rowid) : "") + filters.sql +
          " ORDER BY score LIMIT " + std::to_string(n_cands);
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
          Candidate c{rid,          column_text(fetch, 0),           column_text(fetch, 1), column_text(fetch, 2),
                      -sqlite3_column_double(st, 1), sqlite3_column_int64(fetch, 3), true};
          c.score *= boost(result.plan, c.source, c.people);
          cands.push_back(std::move(c));
        }
        sqlite3_reset(fetch);
      }
      sqlite3_finalize(st);
      return rc == SQLITE_DONE ? Status::ok() : db_error("searching");
    };
    std::vector<size_t> all, rare, frequent;
    std::vector<double> term_df(terms.size(), 0.0);
    for (size_t i = 0; i < lp.phrases.size(); ++i) {
      all.push_back(i);
      (lp.phrases[i].frequent() ? frequent : rare).push_back(i);
      term_df[lp.term_of[i]] += lp.phrases[i].df;
    }
    auto or_of = [&](const std::vector<size_t>& which) {
      std::string e;
      for (size_t i : which) e += (e.empty() ? "" : " OR ") + lp.phrases[i].expr;
      return e;
    };
    // 1. Records holding every term: the rarest term bounds the work.
    if (terms.size() > 1) {
      const double rarest = *std::min_element(term_df.begin(), term_df.end());
      int64_t from = lp.window_start(rarest);
      const std::string all_terms = fts_match_expression(terms, true);
      for (int widen = 0;; ++widen) {
        PM_RETURN_IF_ERROR(run(all_terms, all, from));
        if (cands.size() >= size_t(options.k) || from <= lp.min_rowid || widen == kMaxWidenings) break;
        from = lp.max_rowid - (lp.max_rowid - from + 1) * 8;  // widen 8-fold (selective filters)
      }
    }
    // 2. Records holding any term: rare phrases over the whole store, frequent ones over the
    // recent range (widened while fewer than k).
    if (terms.size() <= 1 || cands.size() < size_t(options.k)) {
      if (!rare.empty()) PM_RETURN_IF_ERROR(run(or_of(rare), rare, lp.min_rowid));
      if (!frequent.empty() && cands.size() < size_t(options.k)) {
        double df = 0;
        for (size_t i : frequent) df += lp.phrases[i].df;
        int64_t from = lp.window_start(df);
        for (int widen = 0;; ++widen) {
          PM_RETURN_IF_ERROR(run(or_of(frequent), frequent, from));
          if (cands.size() >= size_t(options.k) || from <= lp.min_rowid || widen == kMaxWidenings) break;
          from = lp.max_rowid - (lp.max_rowid - from + 1) * 8;
        }
      }
    }
    // Equal scores (occurrences of one recurring event): nearest to now first.
    const int64_t now_s = options.now.epoch_s;
    std::stable_sort(cands.begin(), cands.end(), [now_s](const Candidate& a, const Candidate& b) {
      if (a.score != b.score) return a.score > b.score;
      return std::llabs(a.t_begin - now_s) < std::llabs(b.t_begin - now_s);
    });
  }
  // Vector side: nearest records to the embedded query text, fused with the lexical ranking.
  PM_ASSIGN_OR_RETURN(std::optional<EmbeddingConfig> embed_cfg, embedding_config(store));
  if (!embed_cfg) {
    result.note = "lexical only: no embedding model configured";
  } else if (options.embedder == nullptr) {
    result.note = "lexical only: the store's embedding model (" + embed_cfg->model_path + ") is not loaded";
  } else if (options.embedder->identity() != embed_cfg->model_id) {
    result.note = "lexical only: " + options.embedder->path() + " is not the store's embedding model";
  } else if (result.plan.text.empty()) {
    result.note = "lexical only: no words to embed";
  } else {
    result.lexical_only = false;
    PM_ASSIGN_OR_RETURN(VectorIndex * index, store.vector_index());
    std::vector<float> qv;
    if (options.query_vector != nullptr) {
      if (int64_t(options.query_vector->size()) != options.embedder->dim())
        return Status::invalid_argument("query vector has " + std::to_string(options.query_vector->size()) +
                                        " dimensions; the store's model makes " +
                                        std::to_string(options.embedder->dim()));
      qv = *options.query_vector;
    } else {
      PM_RETURN_IF_ERROR(options.embedder->embed({result.plan.text}, &qv));
    }
    VectorFilter vf;
    for (const auto& src : result.plan.sources) vf.sources |= source_bit(src);
    if (result.plan.time) {
      vf.has_time = true;
      vf.begin_s = result.plan.time->begin_s;
      vf.end_s = result.plan.time->end_s;
    }
    // One person filter on the sender is applied in the index too (others only in SQL below).
    int person_filters = 0;
    for (const PersonFilter& p : result.plan.people) person_filters += p.filter && !p.names.empty();
    for (const PersonFilter& p : result.plan.people)
      if (person_filters == 1 && p.filter && p.role == PersonRole::kSender)
        for (const auto& n : p.names) vf.sender_hashes.push_back(sender_hash(fold_name(n)));
    const size_t n_vec = size_t(options.k) * 4 + 20;
    std::vector<VectorHit> vhits = index ? index->search(qv.data(), n_vec, vf) : std::vector<VectorHit>();
    result.vector_candidates = vhits.size();
    // Each hit read back through SQL with the full filters (people, and anything the index
    // cannot know, such as a record deleted since the index was saved).
    sqlite3_stmt* vst = nullptr;
    const std::string vsql =
        "SELECT r.rid, r.id, r.source, r.people, r.t_begin FROM embeddings e JOIN records r ON r.rid = e.rid "
        "WHERE e.eid = ?1" +
        filters.sql;
    if (sqlite3_prepare_v2(db, vsql.c_str(), -1, &vst, nullptr) != SQLITE_OK) return db_error("preparing search");
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> vst_owner(vst, sqlite3_finalize);
    filters.bind(vst);
    std::vector<Candidate> vcands;
    for (const VectorHit& h : vhits) {
      sqlite3_bind_int64(vst, 1, h.key);
      if (sqlite3_step(vst) == SQLITE_ROW)
        vcands.push_back(Candidate{sqlite3_column_int64(vst, 0), column_text(vst, 1), column_text(vst, 2),
                                   column_text(vst, 3), 0.0, sqlite3_column_int64(vst, 4)});
      sqlite3_reset(vst);
    }
    // Reciprocal rank fusion.
    std::unordered_map<int64_t, size_t> at;
    std::vector<Candidate> fused;
    auto fuse = [&](std::vector<Candidate>& list) {
      for (size_t rank = 0; rank < list.size(); ++rank) {
        const double s = 1.0 / double(options.rrf_k + int(rank) + 1);
        auto it = at.find(list[rank].rid);
        if (it == at.end()) {
          at.emplace(list[rank].rid, fused.size());
          fused.push_back(std::move(list[rank]));
          fused.back().score = s;
        } else {
          fused[it->second].score += s;
        }
      }
    };
    fuse(cands);
    fuse(vcands);
    for (Candidate& c : fused) c.score *= boost(result.plan, c.source, c.people);
    const int64_t now_s = options.now.epoch_s;
    std::stable_sort(fused.begin(), fused.end(), [now_s](const Candidate& a, const Candidate& b) {
      if (a.score != b.score) return a.score > b.score;
      return std::llabs(a.t_begin - now_s) < std::llabs(b.t_begin - now_s);
    });
    cands = std::move(fused);
  }

  // Only filters, or words that matched nothing within the filters: list what the filters select.
  if (cands.empty() && !filters.empty()) {
    result.filters_only = true;
    const bool ahead = result.plan.time && result.plan.time->begin_s >= options.now.epoch_s;
    // Newest first, but what has not happened yet after what has (unless the range lies ahead):
    // one query per part, each an ordered walk of the t_begin index (no sort of every match).
    const std::string now_s = std::to_string(options.now.epoch_s);
    std::vector<std::string> parts;
    if (ahead)
      parts = {" ORDER BY r.t_begin ASC"};
    else
      parts = {" AND r.t_begin <= " + now_s + " ORDER BY r.t_begin DESC",
               " AND r.t_begin > " + now_s + " ORDER BY r.t_begin DESC"};
    for (const std::string& part : parts) {
      if (cands.size() >= size_t(options.k)) break;
      const std::string sql = "SELECT r.rid, r.id, r.source, r.people FROM records r WHERE 1" + filters.sql + part +
                              " LIMIT " + std::to_string(size_t(options.k) - cands.size());
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return db_error("preparing search");
      filters.bind(st);
      int rc;
      while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        Candidate c{sqlite3_column_int64(st, 0), column_text(st, 1), column_text(st, 2), column_text(st, 3), 0.0};
        c.score = boost(result.plan, c.source, c.people) / double(cands.size() + 1);  // time order, as a score
        cands.push_back(std::move(c));
      }
      sqlite3_finalize(st);
      if (rc != SQLITE_DONE) return db_error("searching");
    }
  }
  if (cands.size() > size_t(options.k)) cands.resize(size_t(options.k));

  // Snippets (each re-tokenizes a column, so only for the final hits that matched the words):
  // the text column when it matched; else the best column, unless that is just the sender's name.
  using Stmt = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;
  auto prepare = [&](const char* sql) -> Result<Stmt> {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) return db_error("preparing snippets");
    return Stmt(st, sqlite3_finalize);
  };
  const bool snippets = !result.filters_only && !result.match_expression.empty();
  Stmt snip_text(nullptr, sqlite3_finalize), snip_best(nullptr, sqlite3_finalize);
  if (snippets) {
    PM_ASSIGN_OR_RETURN(snip_text, prepare("SELECT snippet(records_fts, 1, '[', ']', '…', 24) FROM records_fts "
                                           "WHERE records_fts MATCH ?1 AND rowid = ?2"));
    PM_ASSIGN_OR_RETURN(snip_best, prepare("SELECT snippet(records_fts, -1, '[', ']', '…', 24), "
                                           "snippet(records_fts, 2, '[', ']', '…', 24) FROM records_fts "
                                           "WHERE records_fts MATCH ?1 AND rowid = ?2"));
  }
  PM_ASSIGN_OR_RETURN(Stmt read_json, prepare("SELECT json FROM records WHERE rid = ?1"));
  for (const Candidate& c : cands) {
    SearchHit h;
    h.id = c.id;
    h.source = c.source;
    h.score = c.score;
    sqlite3_bind_int64(read_json.get(), 1, c.rid);
    const int rc = sqlite3_step(read_json.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error("reading a hit");
    const nlohmann::json rec =
        nlohmann::json::parse(rc == SQLITE_ROW ? column_text(read_json.get(), 0) : std::string(), nullptr, false);
    sqlite3_reset(read_json.get());
    if (rec.is_object() && rec.contains("time") && rec["time"].is_string()) h.time = rec["time"].get<std::string>();
    if (snippets && c.lexical) {
      auto run_snippet = [&](sqlite3_stmt* st, std::string* a, std::string* b) {
        bind_text(st, 1, result.match_expression);
        sqlite3_bind_int64(st, 2, c.rid);
        if (sqlite3_step(st) == SQLITE_ROW) {
          *a = column_text(st, 0);
          if (b) *b = column_text(st, 1);
        }
        sqlite3_reset(st);
      };
      std::string text, best, sender;
      run_snippet(snip_text.get(), &text, nullptr);
      if (text.find('[') != std::string::npos) {
        h.snippet = text;
      } else {
        run_snippet(snip_best.get(), &best, &sender);
        if (best != sender) h.snippet = best;
      }
    }
    if (h.snippet.empty() && rec.is_object()) h.snippet = plain_snippet(rec);
    result.hits.push_back(std::move(h));
  }
  return result;
}

}  // namespace pm::store
