// pocketmind ask --db DIR [-m MODEL] [--now T] [--json] QUESTION...
// Retrieves from the store, gates on relevance, then answers extractively (no model) or with the
// model from the retrieved records only (assistant/answer.h).
#ifdef PM_WITH_ASSISTANT
#include <cstdio>
#include <iostream>

#include "assistant/answer.h"
#include "cli/assistant_common.h"
#include "cli/store_common.h"
#include "store/embeddings.h"

namespace pm::cli {
namespace {

struct AskArgs {
  std::string db;
  std::string passphrase_file;
  std::vector<std::string> question;
  std::string now;
  std::string model;
  int k = 8;
  int max_records = 3;
  int32_t n_predict = 256;
  uint64_t seed = 0;
  float temperature = 0.0f;
  LoadOptions load;
  bool json = false;
  bool explain = false;
};

int run_ask(const AskArgs& a) {
  const char* verb = "ask";
  Result<store::Timestamp> now = parse_now(a.now);
  if (!now.is_ok()) return fail(verb, now.status());
  std::string question;
  for (const auto& w : a.question) question += (question.empty() ? "" : " ") + w;
  store::StoreOptions so;
  so.create = false;
  if (Status p = apply_passphrase(a.passphrase_file, &so); !p.is_ok()) return fail(verb, p);
  Result<std::unique_ptr<store::Store>> st = store::Store::open(a.db, so);
  if (!st.is_ok()) return fail(verb, st.status());

  // The store's embedding model, when configured and still the same file (hybrid retrieval).
  std::unique_ptr<store::TextEmbedder> embedder;
  Result<std::optional<store::EmbeddingConfig>> cfg = store::embedding_config(**st);
  if (!cfg.is_ok()) return fail(verb, cfg.status());
  if (*cfg) {
    Result<std::unique_ptr<store::TextEmbedder>> e = store::TextEmbedder::open((*cfg)->model_path, a.load.n_threads);
    if (e.is_ok() && (*e)->identity() == (*cfg)->model_id) embedder = std::move(*e);
  }
  assistant::AskOptions o;
  o.k = a.k;
  o.max_evidence = a.max_records;
  o.now = *now;
  o.embedder = embedder.get();
  Result<assistant::Retrieval> r = assistant::retrieve(**st, question, o);
  if (!r.is_ok()) return fail(verb, r.status());

  assistant::Answer answer;
  if (a.model.empty() || !r->found()) {
    answer = assistant::extractive_answer(*r);  // the not-found answer needs no model either
  } else {
    LoadedModel holder;
    Result<assistant::ChatModel> cm = load_chat_model(a.model, a.load, holder);
    if (!cm.is_ok()) return fail(verb, cm.status());
    GenerateOptions g;
    g.max_tokens = a.n_predict;
    g.sampler.temperature = a.temperature;
    g.sampler.seed = a.seed;
    Result<assistant::Answer> ans = assistant::model_answer(*r, *cm, g);
    if (!ans.is_ok()) return fail(verb, ans.status());
    answer = std::move(*ans);
  }
  if (a.json) {
    print_json(assistant::answer_json(*r, answer));
    return 0;
  }
  if (a.explain) {
    for (const auto& u : r->search.plan.understood) std::printf("understood %s\n", u.c_str());
    std::string terms;
    for (const auto& t : r->content_terms) terms += (terms.empty() ? "" : ", ") + t;
    std::printf("content terms: %s\n", terms.empty() ? "(none)" : terms.c_str());
    for (const auto& e : r->retrieved)
      std::printf("  %-24s score %.3f  matched %d  %s\n", e.id.c_str(), e.score, e.matched_terms,
                  e.relevant ? "relevant" : "-");
  }
  if (!answer.note.empty()) std::fprintf(stderr, "pocketmind ask: %s\n", answer.note.c_str());
  std::printf("%s\n", answer.text.c_str());
  if (!answer.citations.empty() && answer.mode == "model") {
    std::string c;
    for (const auto& id : answer.citations) c += (c.empty() ? "" : ", ") + id;
    std::printf("sources: %s\n", c.c_str());
  }
  return 0;
}

}  // namespace

void add_ask(CLI::App& app, int& result) {
  auto args = std::make_shared<AskArgs>();
  CLI::App* cmd = app.add_subcommand("ask",
                                     "Answer a question from the store's records, citing them (extractive without -m; "
                                     "says so when nothing relevant is found)");
  cmd->add_option("--db", args->db, "store directory")->required();
  add_passphrase_option(cmd, &args->passphrase_file);
  cmd->add_option("question", args->question, "the question (Chinese or English; several words are joined)")
      ->required();
  cmd->add_option("-m,--model", args->model, "GGUF chat model for a generated answer (default: extractive answer)");
  cmd->add_option("--now", args->now, "ISO 8601 time that 'today', '上周' ... refer to (default: the clock)");
  cmd->add_option("-k,--k", args->k, "records retrieved before the relevance check")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--max-records", args->max_records, "relevant records the answer uses")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  cmd->add_option("-n,--n-predict", args->n_predict, "maximum tokens to generate (with -m)")
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--temp", args->temperature, "temperature (with -m); 0 = greedy")->capture_default_str();
  cmd->add_option("--seed", args->seed, "random seed (with -m and --temp > 0)");
  add_model_options(cmd, args->load);
  cmd->add_flag("--explain", args->explain, "show the query understanding and the relevance check");
  cmd->add_flag("--json", args->json, "machine-readable output: {answer, citations[], records[], ...}");
  cmd->callback([args, &result] { result = run_ask(*args); });
}

}  // namespace pm::cli
#endif
