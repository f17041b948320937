// pocketmind embed -m MODEL (--prompt-file F | --tokens 1,2,3 | TEXT...) [--pooling mean|cls]
//                  [--normalize | --no-normalize] [--out OUT.f32] [--json]
// One vector per TEXT argument (or for the prompt file / token list as a whole). Vectors are
// L2-normalized unless --no-normalize (DESIGN.md); --out writes them as float32 rows.
#include <cstdio>
#include <iostream>

#include "cli/common.h"
#include "store/embedder.h"

namespace pm::cli {
namespace {

struct EmbedArgs {
  std::string model, prompt_file, tokens, pooling, out;
  std::vector<std::string> text;
  bool normalize = false, no_normalize = false, json = false;
  int n_threads = 0;
};

int run_embed(const EmbedArgs& a) {
  const char* verb = "embed";
  if (a.normalize && a.no_normalize) return fail(verb, "give either --normalize or --no-normalize, not both");
  const int n_inputs = int(!a.prompt_file.empty()) + int(!a.tokens.empty()) + int(!a.text.empty());
  if (n_inputs != 1)
    return fail(verb, "give the text to embed as arguments, or --prompt-file FILE, or --tokens IDS (one of them)");
  Result<std::unique_ptr<store::TextEmbedder>> e = store::TextEmbedder::open(a.model, a.n_threads);
  if (!e.is_ok()) return fail(verb, e.status());
  const store::TextEmbedder& emb = **e;
  Pooling pooling = emb.default_pooling();
  if (a.pooling == "mean")
    pooling = Pooling::kMean;
  else if (a.pooling == "cls")
    pooling = Pooling::kCls;
  else if (!a.pooling.empty())
    return fail(verb, "--pooling must be mean or cls, not \"" + a.pooling + "\"");
  const bool normalize = !a.no_normalize;

  std::vector<std::string> texts;
  std::vector<std::vector<TokenId>> seqs;
  if (!a.tokens.empty()) {
    Result<std::vector<TokenId>> ids = parse_token_list(a.tokens);
    if (!ids.is_ok()) return fail(verb, ids.status().with_context("--tokens"));
    seqs.push_back(*ids);
    texts.emplace_back();
  } else {
    if (!a.prompt_file.empty()) {
      Result<std::string> t = read_prompt_file(a.prompt_file);
      if (!t.is_ok()) return fail(verb, t.status());
      texts.push_back(*t);
    } else {
      texts = a.text;
    }
    for (size_t i = 0; i < texts.size(); ++i) {
      bool truncated = false;
      seqs.push_back(emb.tokenize(texts[i], &truncated));
      if (truncated)
        std::fprintf(stderr, "pocketmind embed: text %zu cut to the model's %lld tokens\n", i + 1,
                     static_cast<long long>(emb.model().max_tokens()));
    }
  }
  const size_t D = size_t(emb.dim());
  std::vector<float> vecs(seqs.size() * D);
  for (size_t i = 0; i < seqs.size(); ++i) {  // one call per text: an error names the text
    std::vector<std::vector<TokenId>> one{seqs[i]};
    if (Status s = emb.model().embed(one, pooling, normalize, &vecs[i * D]); !s.is_ok())
      return fail(verb, s.with_context(a.model));
  }
  if (!a.out.empty()) {
    std::FILE* f = std::fopen(a.out.c_str(), "wb");
    if (f == nullptr || std::fwrite(vecs.data(), sizeof(float), vecs.size(), f) != vecs.size() || std::fclose(f) != 0)
      return fail(verb, a.out + ": cannot write the vectors");
  }
  if (a.json) {
    nlohmann::json items = nlohmann::json::array();
    for (size_t i = 0; i < seqs.size(); ++i) {
      std::vector<float> v(vecs.begin() + long(i * D), vecs.begin() + long((i + 1) * D));
      items.push_back({{"text", texts[i]}, {"n_tokens", seqs[i].size()}, {"embedding", v}});
    }
    print_json({{"model", a.model},
                {"arch", emb.model().info().arch},
                {"dim", D},
                {"pooling", pooling_name(pooling)},
                {"normalized", normalize},
                {"embeddings", items}});
  } else if (a.out.empty()) {
    for (size_t i = 0; i < seqs.size(); ++i) {
      std::string line;
      char buf[32];
      for (size_t c = 0; c < D; ++c) {
        std::snprintf(buf, sizeof buf, c ? " %.6g" : "%.6g", double(vecs[i * D + c]));
        line += buf;
      }
      std::cout << line << "\n";
    }
  }
  return 0;
}

}  // namespace

void add_embed(CLI::App& app, int& result) {
  auto args = std::make_shared<EmbedArgs>();
  CLI::App* cmd = app.add_subcommand("embed", "Turn texts into vectors with an embedding model (bert, nomic-bert)");
  cmd->add_option("-m,--model", args->model, "GGUF embedding model")->required();
  cmd->add_option("--prompt-file", args->prompt_file, "embed the whole file as one text");
  cmd->add_option("--tokens", args->tokens, "embed these token ids (special tokens included) as one sequence");
  cmd->add_option("text", args->text, "texts to embed (one vector each)");
  cmd->add_option("--pooling", args->pooling, "mean or cls (default: the model's own)");
  cmd->add_flag("--normalize", args->normalize, "scale vectors to unit length (the default)");
  cmd->add_flag("--no-normalize", args->no_normalize, "keep the pooled vectors as they are");
  cmd->add_option("--out", args->out, "write the vectors as float32 rows to this file");
  cmd->add_option("-t,--threads", args->n_threads, "threads (default: all)");
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([args, &result] { result = run_embed(*args); });
}

}  // namespace pm::cli
