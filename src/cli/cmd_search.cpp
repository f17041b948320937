// pocketmind search --db DIR [--k K] [--now T] [--json] [--explain] QUERY...
#include <cstdio>

#include "cli/common.h"
#include "cli/store_common.h"
#include "store/embeddings.h"
#include "store/search.h"

namespace pm::cli {
namespace {

struct SearchArgs {
  std::string db;
  std::string passphrase_file;
  std::vector<std::string> query;
  std::string now;
  int k = 10;
  bool json = false;
  bool explain = false;
  int n_threads = 0;
};

int run_search(const SearchArgs& a) {
  const char* verb = "search";
  Result<store::Timestamp> now = parse_now(a.now);
  if (!now.is_ok()) return fail(verb, now.status());
  std::string query;
  for (const auto& w : a.query) query += (query.empty() ? "" : " ") + w;
  store::StoreOptions so;
  so.create = false;
  if (Status p = apply_passphrase(a.passphrase_file, &so); !p.is_ok()) return fail(verb, p);
  Result<std::unique_ptr<store::Store>> st = store::Store::open(a.db, so);
  if (!st.is_ok()) return fail(verb, st.status());
  store::SearchOptions o;
  o.k = a.k;
  o.now = *now;
  // The store's embedding model, when one is configured and its file is still there.
  std::unique_ptr<store::TextEmbedder> embedder;
  std::string load_note;
  Result<std::optional<store::EmbeddingConfig>> cfg = store::embedding_config(**st);
  if (!cfg.is_ok()) return fail(verb, cfg.status());
  if (*cfg) {
    Result<std::unique_ptr<store::TextEmbedder>> e = store::TextEmbedder::open((*cfg)->model_path, a.n_threads);
    if (e.is_ok() && (*e)->identity() == (*cfg)->model_id)
      embedder = std::move(*e);
    else
      load_note =
          e.is_ok() ? (*cfg)->model_path + " has changed since the store was embedded with it" : e.status().message();
  }
  o.embedder = embedder.get();
  Result<store::SearchResult> r = store::search(**st, query, o);
  if (!r.is_ok()) return fail(verb, r.status());
  const store::QueryPlan& plan = r->plan;
  std::string note = r->note;
  if (!load_note.empty()) note += " (" + load_note + ")";
  if (a.json) {
    using nlohmann::json;
    json hits = json::array();
    for (const auto& h : r->hits)
      hits.push_back(
          {{"id", h.id}, {"score", h.score}, {"source", h.source}, {"time", h.time}, {"snippet", h.snippet}});
    json q = {{"text", plan.text},
              {"sources", plan.sources},
              {"boost_sources", plan.boost_sources},
              {"understood", plan.understood},
              {"filters_only", r->filters_only}};
    q["time"] = plan.time ? json{{"begin", store::format_iso8601(plan.time->begin_s, now->offset_s)},
                                 {"end", store::format_iso8601(plan.time->end_s, now->offset_s)}}
                          : json(nullptr);
    json people = json::array();
    for (const auto& p : plan.people)
      people.push_back({{"mention", p.mention},
                        {"names", p.names},
                        {"filter", p.filter},
                        {"role", p.role == store::PersonRole::kSender ? "sender" : "any"}});
    q["people"] = people;
    if (a.explain) q["match"] = r->match_expression;
    print_json({{"hits", hits},
                {"mode", r->lexical_only ? "lexical" : "hybrid"},
                {"lexical_only", r->lexical_only},
                {"note", note},
                {"query", q}});
    return 0;
  }
  if (r->lexical_only)
    std::printf("%s\n", note.c_str());
  else
    std::printf("hybrid: lexical + vectors (%zu vector candidates), fused by reciprocal rank\n", r->vector_candidates);
  if (a.explain) {
    for (const auto& u : plan.understood) std::printf("  understood %s\n", u.c_str());
    std::printf("  text searched: \"%s\"\n", plan.text.c_str());
  }
  if (r->hits.empty()) std::printf("no matches\n");
  int i = 0;
  for (const auto& h : r->hits)
    std::printf("%2d. %-8s %s  %s  (score %.3f)\n    %s\n", ++i, h.source.c_str(), h.time.c_str(), h.id.c_str(),
                h.score, h.snippet.c_str());
  return 0;
}

}  // namespace

void add_search(CLI::App& app, int& result) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "search", "Search a store (Chinese and English; times, sources and people in the query become filters)");
  cmd->add_option("--db", args->db, "store directory")->required();
  add_passphrase_option(cmd, &args->passphrase_file);
  cmd->add_option("query", args->query, "what to look for (taken literally; several words are joined)")->required();
  cmd->add_option("-k,--k", args->k, "number of hits")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--now", args->now, "ISO 8601 time that 'today', 'last week' ... refer to (default: the clock)");
  cmd->add_option("-t,--threads", args->n_threads, "threads for embedding the query (default: all)");
  cmd->add_flag("--explain", args->explain, "show how the query was understood");
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([args, &result] { result = run_search(*args); });
}

}  // namespace pm::cli
