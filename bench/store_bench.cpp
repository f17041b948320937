// store_bench: ingest throughput, retrieval quality and search latency of the personal-data store
// at 1k / 10k / 100k synthetic records (Chinese and English, all sources), lexical only and
// hybrid, plus the HNSW index alone on 384-d vectors. Prints tables and one JSON line.
//   store_bench [--sizes 1000,10000,100000] [--queries 200] [--dir TMPDIR] [--keep 0|1]
//               [--reuse 0|1] [--embed 0|1] [--hnsw N] [--labelled N] [--m M]
//               [--ef-construction N] [--ef-search N,N,...]   (store_bench --help)
// Quality: N labelled queries, each with 3 planted relevant records holding both of its two
// long-tail keywords (amid records holding only one); recall@5 / @10 = share of them found.
// Hybrid: a random-weight BERT of bge-small-zh's shape (384 dim, 12 layers, 12 heads, 1536 ff,
// 21128 vocab) embeds each query; the records' vectors are random unit vectors inserted directly
// (embedding 100k records with it would take ~30 min on 2 cores; its rate is measured on a
// sample). Random weights measure speed only: quality needs a real model.
// HNSW: N random 384-d unit vectors, isotropic (the worst case: no neighbourhood structure) and
// embedding-like (near a 32-d subspace, as real sentence embeddings), recall@10 vs exact.
// Text is drawn from a Zipf-distributed vocabulary (a few very common words, a long tail);
// queries are 1-3 words from the same distribution, a third with a time / source / person hint.
// Lexical only (no embedding model). Each size gets a fresh store; ingest goes through the same
// path as `pocketmind ingest` (JSON Lines file -> parse -> batched transactions, synchronous=FULL).
#include <algorithm>
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "models/bert.h"
#include "store/embeddings.h"
#include "store/ingest.h"
#include "store/search.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

const char* kCnWords[] = {"火锅", "会议", "妈妈",   "周末", "吃饭", "快递", "取件码", "机票", "酒店",
                          "医院", "体检", "报告",   "预算", "项目", "评审", "生日",   "蛋糕", "礼物",
                          "电影", "健身", "跑步",   "钥匙", "密码", "停车", "地铁",   "加班", "咖啡",
                          "孩子", "学校", "家长会", "房租", "合同", "银行", "账单",   "天气", "下雨"};
const char* kEnWords[] = {"meeting", "budget",   "report",  "flight",   "hotel",   "dinner", "lunch",
                          "receipt", "project",  "review",  "birthday", "party",   "doctor", "appointment",
                          "invoice", "payment",  "weekend", "movie",    "coffee",  "gym",    "train",
                          "ticket",  "password", "parking", "school",   "contract"};
const char* kPeople[] = {"妈妈", "爸爸", "Alice Chen", "Bob Wang", "张伟", "李娜", "Emma Liu", "王经理"};
const char* kSources[] = {"sms", "sms", "sms", "note", "calendar", "call", "photo", "email"};

// A vocabulary with a realistic long tail: the fixed words above plus synthetic Chinese words
// (pairs of common characters) and English-like words, drawn with Zipf's law (rank r ~ 1/r).
struct Vocabulary {
  std::vector<std::string> words;
  std::vector<double> cdf;

  explicit Vocabulary(std::mt19937& rng) {
    for (const char* w : kCnWords) words.push_back(w);
    for (const char* w : kEnWords) words.push_back(w);
    const char* chars[] = {"天", "地", "人", "山", "水", "花", "车", "书", "家", "路", "门", "店",
                           "学", "工", "作", "电", "话", "信", "明", "白", "红", "绿", "东", "西",
                           "南", "北", "中", "国", "新", "年", "春", "秋", "海", "湖", "桥", "楼",
                           "饭", "茶", "酒", "鱼", "米", "面", "药", "病", "钱", "票", "包", "衣"};
    const char* syl[] = {"ka", "ro",  "mi",  "ten", "sal", "vo",  "lin", "der",
                         "pa", "gus", "tor", "en",  "ish", "bel", "mon"};
    std::vector<std::string> extra;
    for (const char* a : chars)
      for (const char* b : chars) extra.push_back(std::string(a) + b);
    for (const char* a : syl)
      for (const char* b : syl)
        for (const char* c : syl) extra.push_back(std::string(a) + b + c);
    std::shuffle(extra.begin(), extra.end(), rng);
    words.insert(words.end(), extra.begin(), extra.end());
    double total = 0;
    for (size_t r = 0; r < words.size(); ++r) cdf.push_back(total += 1.0 / double(r + 1));
    for (double& c : cdf) c /= total;
  }
  const std::string& draw(std::mt19937& rng) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return words[size_t(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin()) % words.size()];
  }
};

std::string make_text(const Vocabulary& v, std::mt19937& rng) {
  std::string t;
  const int n = 6 + int(rng() % 20);
  for (int i = 0; i < n; ++i) {
    const std::string& w = v.draw(rng);
    t += w;
    if (uint8_t(w[0]) < 0x80 || rng() % 3 == 0) t += " ";
    if (rng() % 7 == 0) t += "，";
  }
  return t;
}

std::string write_records(const std::string& path, int n, const Vocabulary& v, std::mt19937& rng) {
  std::ofstream out(path);
  const int64_t base = 1790000000;  // 2026-09
  for (int i = 0; i < n; ++i) {
    const int64_t t = base + int64_t(rng() % (90 * 86400));
    nlohmann::json j = {{"id", "r" + std::to_string(i)},
                        {"source", kSources[rng() % std::size(kSources)]},
                        {"time", pm::store::format_iso8601(t, 8 * 3600)},
                        {"sender", kPeople[rng() % std::size(kPeople)]},
                        {"recipients", {"me"}},
                        {"text", make_text(v, rng)}};
    out << j.dump() << "\n";
  }
  return path;
}

// Labelled queries: two long-tail keywords each (synthetic, never drawn by the vocabulary).
struct Labelled {
  std::string query;
  std::vector<std::string> relevant_ids;
};

std::string keyword(int q, int which) { return "zq" + std::to_string(q) + (which ? "vex" : "lor"); }

void write_labelled(std::ofstream& out, int n_queries, int n_records, const Vocabulary& v, std::mt19937& rng,
                    std::vector<Labelled>* labels) {
  const int64_t base = 1790000000;
  for (int q = 0; q < n_queries; ++q) {
    Labelled l;
    l.query = keyword(q, 0) + " " + keyword(q, 1);
    auto emit = [&](const std::string& id, const std::string& text) {
      nlohmann::json j = {{"id", id},
                          {"source", kSources[rng() % std::size(kSources)]},
                          {"time", pm::store::format_iso8601(base + int64_t(rng() % (90 * 86400)), 8 * 3600)},
                          {"sender", kPeople[rng() % std::size(kPeople)]},
                          {"text", text}};
      out << j.dump() << "\n";
    };
    for (int r = 0; r < 3; ++r) {
      const std::string id = "rel" + std::to_string(q) + "-" + std::to_string(r);
      emit(id, make_text(v, rng) + " " + keyword(q, 0) + " " + make_text(v, rng) + " " + keyword(q, 1));
      l.relevant_ids.push_back(id);
    }
    for (int r = 0; r < 6; ++r)  // distractors: one keyword only
      emit("dis" + std::to_string(q) + "-" + std::to_string(r), make_text(v, rng) + " " + keyword(q, r % 2));
    labels->push_back(l);
  }
  (void)n_records;
}

std::vector<float> unit_vectors(size_t n, uint32_t dim, uint32_t intrinsic, uint64_t seed) {
  std::mt19937_64 basis_rng(1234), rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> basis(size_t(dim) * intrinsic), z(intrinsic), v(n * dim);
  for (float& b : basis) b = g(basis_rng) / std::sqrt(float(std::max(1u, intrinsic)));
  for (size_t i = 0; i < n; ++i) {
    for (float& x : z) x = g(rng);
    double ss = 0;
    for (uint32_t c = 0; c < dim; ++c) {
      float s = intrinsic ? 0.3f * g(rng) : g(rng);
      for (uint32_t j = 0; j < intrinsic; ++j) s += basis[size_t(c) * intrinsic + j] * z[j];
      v[i * dim + c] = s;
      ss += double(s) * s;
    }
    for (uint32_t c = 0; c < dim; ++c) v[i * dim + c] = float(v[i * dim + c] / std::sqrt(ss));
  }
  return v;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

// CPU time of this thread (ms): on a shared machine, less disturbed by other processes than the
// wall clock (which stays the reported latency).
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

struct Measured {
  std::vector<double> ms, cpu_ms;
  double hits = 0, recall5 = 0, recall10 = 0;
};

// Runs the queries twice (the first pass warms caches) and the labelled queries once.
Measured measure(pm::store::Store& st, const std::vector<std::string>& queries, const std::vector<Labelled>& labels,
                 const pm::store::TextEmbedder* embedder, bool precomputed_query_vectors = false) {
  pm::store::SearchOptions so;
  so.k = 10;
  so.now = *pm::store::parse_iso8601("2026-11-20T10:00:00+08:00");
  so.embedder = embedder;
  Measured m;
  for (int rep = 0; rep < 2; ++rep)
    for (const auto& q : queries) {
      std::vector<float> qv;
      if (precomputed_query_vectors) {
        auto plan = pm::store::understand_query(q, so.now, {});
        (void)embedder->embed({plan.text}, &qv);
        so.query_vector = &qv;
      }
      const double c0 = thread_cpu_ms();
      const auto q0 = Clock::now();
      auto r = pm::store::search(st, q, so);
      const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - q0).count();
      const double cpu = thread_cpu_ms() - c0;
      if (!r.is_ok()) {
        std::fprintf(stderr, "store_bench: %s: %s\n", q.c_str(), r.status().to_string().c_str());
        continue;
      }
      if (rep == 1) {
        m.ms.push_back(elapsed);
        m.cpu_ms.push_back(cpu);
        m.hits += double(r->hits.size());
      }
    }
  m.hits /= double(std::max<size_t>(1, m.ms.size()));
  so.query_vector = nullptr;
  size_t found5 = 0, found10 = 0, total = 0;
  for (const Labelled& l : labels) {
    auto r = pm::store::search(st, l.query, so);
    if (!r.is_ok()) continue;
    for (const std::string& id : l.relevant_ids) {
      ++total;
      for (size_t i = 0; i < r->hits.size(); ++i)
        if (r->hits[i].id == id) {
          found10 += i < 10;
          found5 += i < 5;
        }
    }
  }
  m.recall5 = total ? double(found5) / double(total) : 0;
  m.recall10 = total ? double(found10) / double(total) : 0;
  return m;
}

// Gives every record a random unit vector for `embedder`'s model (see the header comment).
pm::Status insert_random_vectors(pm::store::Store& st, const pm::store::TextEmbedder& embedder, uint64_t seed) {
  PM_RETURN_IF_ERROR(pm::store::configure_embedding_model(st, embedder).status());
  sqlite3* db = st.handle();
  std::vector<int64_t> rids;
  sqlite3_stmt* sel = nullptr;
  sqlite3_prepare_v2(db, "SELECT rid FROM records", -1, &sel, nullptr);
  while (sqlite3_step(sel) == SQLITE_ROW) rids.push_back(sqlite3_column_int64(sel, 0));
  sqlite3_finalize(sel);
  const uint32_t dim = uint32_t(embedder.dim());
  const std::vector<float> vecs = unit_vectors(rids.size(), dim, 32, seed);
  PM_RETURN_IF_ERROR(st.begin());
  sqlite3_stmt* put = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO embeddings(rid, model, vec) VALUES(?1, ?2, ?3)", -1, &put, nullptr);
  for (size_t i = 0; i < rids.size(); ++i) {
    sqlite3_bind_int64(put, 1, rids[i]);
    sqlite3_bind_text(put, 2, embedder.identity().c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(put, 3, &vecs[i * dim], int(dim * 4), SQLITE_STATIC);
    sqlite3_step(put);
    sqlite3_reset(put);
  }
  sqlite3_finalize(put);
  return st.commit();
}

nlohmann::json bench_hnsw(size_t n, uint32_t dim, uint32_t intrinsic, const char* label,
                          const pm::store::HnswParams& params, const std::vector<uint32_t>& efs) {
  const std::vector<float> base = unit_vectors(n, dim, intrinsic, 7), queries = unit_vectors(200, dim, intrinsic, 8);
  pm::store::VectorIndex idx(dim, pm::store::VectorType::kI8, params);
  const auto t0 = Clock::now();
  for (size_t i = 0; i < n; ++i) (void)idx.add(int64_t(i), &base[i * dim], {});
  if (!idx.has_graph()) idx.build_graph();
  const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<std::set<int64_t>> truth;
  std::vector<double> exact_ms;
  for (size_t q = 0; q < 200; ++q) {
    const auto a = Clock::now();
    std::set<int64_t> t;
    for (const auto& h : idx.search_exact(&queries[q * dim], 10)) t.insert(h.key);
    exact_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    truth.push_back(t);
  }
  nlohmann::json rows = nlohmann::json::array();
  std::printf(
      "HNSW %s, %zu x %u int8 (M %u, ef_construction %u): build %.1f s, %.1f MiB, exact scan p50 %.3f ms, p99 %.3f ms\n",
      label, n, dim, params.m, params.ef_construction, build_s, double(idx.memory_bytes()) / 1048576.0,
      percentile(exact_ms, 0.5), percentile(exact_ms, 0.99));
  // The two-stage scan (two-bit codes of every vector, the best candidates scored exactly).
  std::vector<double> codes_ms;
  size_t codes_found = 0;
  for (size_t q = 0; q < 200; ++q) {
    const auto a = Clock::now();
    const auto hits = idx.search_codes(&queries[q * dim], 10);
    codes_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    for (const auto& h : hits) codes_found += truth[q].count(h.key);
  }
  const double codes_recall = double(codes_found) / 2000.0;
  std::printf("  two-stage scan (%zu candidates): recall@10 %.4f, p50 %.3f ms, p99 %.3f ms\n",
              std::max(pm::store::VectorIndex::kCodeCandidates, size_t(32 * 10)), codes_recall,
              percentile(codes_ms, 0.5), percentile(codes_ms, 0.99));
  std::printf("  graph's sampled recall %.3f: search() uses the %s\n", idx.graph_recall(),
              idx.uses_graph() ? "graph" : "two-stage scan");
  for (uint32_t ef : efs) {
    std::vector<double> ms;
    size_t found = 0;
    for (size_t q = 0; q < 200; ++q) {
      const auto a = Clock::now();
      const auto hits = idx.search_graph(&queries[q * dim], 10, {}, ef);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
      for (const auto& h : hits) found += truth[q].count(h.key);
    }
    const double recall = double(found) / 2000.0;
    std::printf("  ef %4u: recall@10 %.4f, p50 %.3f ms, p99 %.3f ms%s\n", ef, recall, percentile(ms, 0.5),
                percentile(ms, 0.99), ef == params.ef_search ? "  (default)" : "");
    rows.push_back(
        {{"ef", ef}, {"recall_at_10", recall}, {"p50_ms", percentile(ms, 0.5)}, {"p99_ms", percentile(ms, 0.99)}});
  }
  return {{"vectors", n},
          {"dim", dim},
          {"data", label},
          {"m", params.m},
          {"ef_construction", params.ef_construction},
          {"build_s", build_s},
          {"memory_bytes", idx.memory_bytes()},
          {"exact_p50_ms", percentile(exact_ms, 0.5)},
          {"exact_p99_ms", percentile(exact_ms, 0.99)},
          {"two_stage", {{"recall_at_10", codes_recall},
                         {"p50_ms", percentile(codes_ms, 0.5)},
                         {"p99_ms", percentile(codes_ms, 0.99)}}},
          {"graph_sampled_recall", idx.graph_recall()},
          {"search_uses", idx.uses_graph() ? "graph" : "two_stage"},
          {"graph", rows}};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {1000, 10000, 100000};
  int n_queries = 200, n_labelled = 100, hnsw_n = 100000;
  bool keep = false, embed = true, reuse = false;
  pm::store::HnswParams hnsw_params;
  std::vector<uint32_t> efs = {64, 128, 256, 512};
  auto usage = [](FILE* f) {
    std::fprintf(f,
                 "usage: store_bench [options]\n"
                 "  --sizes N,N,...        store sizes in records (default 1000,10000,100000)\n"
                 "  --queries N            latency queries per size (default 200)\n"
                 "  --labelled N           labelled queries for recall (default 100, at most records/100)\n"
                 "  --embed 0|1            also run hybrid search with a random bge-small-shaped BERT (default 1)\n"
                 "  --hnsw N               HNSW benchmark on N random 384-d vectors, 0: skip (default 100000)\n"
                 "  --m M                  HNSW links per node (default %u)\n"
                 "  --ef-construction N    HNSW candidate list while building (default %u)\n"
                 "  --ef-search N,N,...    HNSW candidate lists to measure (default 64,128,256,512)\n"
                 "  --dir DIR              working directory (default $TMPDIR/pm-store-bench)\n"
                 "  --keep 0|1             keep the stores afterwards (default 0)\n"
                 "  --reuse 0|1            search a kept store of the same size instead of ingesting again\n",
                 pm::store::HnswParams{}.m, pm::store::HnswParams{}.ef_construction);
  };
  auto list = [](const char* p) {
    std::vector<int> v;
    while (*p) {
      v.push_back(std::atoi(p));
      p = std::strchr(p, ',') ? std::strchr(p, ',') + 1 : p + std::strlen(p);
    }
    return v;
  };
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "store_bench: option %s needs a value\n", argv[argc - 1]);
    usage(stderr);
    return 2;
  }
  std::string dir = (fs::temp_directory_path() / "pm-store-bench").string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--sizes")) {
      sizes = list(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--queries")) {
      n_queries = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--labelled")) {
      n_labelled = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--embed")) {
      embed = std::atoi(argv[i + 1]) != 0;
    } else if (!std::strcmp(argv[i], "--hnsw")) {
      hnsw_n = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--m")) {
      hnsw_params.m = uint32_t(std::atoi(argv[i + 1]));
    } else if (!std::strcmp(argv[i], "--ef-construction")) {
      hnsw_params.ef_construction = uint32_t(std::atoi(argv[i + 1]));
    } else if (!std::strcmp(argv[i], "--ef-search")) {
      efs.clear();
      for (int e : list(argv[i + 1])) efs.push_back(uint32_t(e));
    } else if (!std::strcmp(argv[i], "--reuse")) {
      reuse = std::atoi(argv[i + 1]) != 0;
    } else if (!std::strcmp(argv[i], "--keep")) {
      keep = std::atoi(argv[i + 1]) != 0;
    } else if (!std::strcmp(argv[i], "--dir")) {
      dir = argv[i + 1];
    } else {
      std::fprintf(stderr, "store_bench: unknown option %s\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  fs::create_directories(dir);
  std::mt19937 rng(42);
  const Vocabulary vocab(rng);
  // Queries: 1-3 words (Chinese, English, mixed), some with time / source / person hints.
  std::vector<std::string> queries;
  const char* hints[] = {"", "", "上周", "昨天", "短信", "妈妈发的", "last week", "from Alice", "照片", "明天的会议"};
  for (int i = 0; i < n_queries; ++i) {
    std::string q = hints[rng() % std::size(hints)];
    const int words = 1 + int(rng() % 3);
    for (int w = 0; w < words; ++w) q += " " + vocab.draw(rng);
    queries.push_back(q);
  }
  // A random-weight BERT of bge-small-zh-v1.5's shape for the hybrid runs.
  std::unique_ptr<pm::store::TextEmbedder> embedder;
  double embed_records_per_s = 0;
  if (embed) {
    const std::string model = dir + "/random-bge-small-zh.gguf";
    if (pm::Status s = pm::write_random_bert(model, pm::BertShape{}, 1); !s.is_ok()) {
      std::fprintf(stderr, "store_bench: %s\n", s.to_string().c_str());
      return 1;
    }
    auto e = pm::store::TextEmbedder::open(model, 0);
    if (!e.is_ok()) {
      std::fprintf(stderr, "store_bench: %s\n", e.status().to_string().c_str());
      return 1;
    }
    embedder = std::move(*e);
    std::vector<std::string> sample;
    for (int i = 0; i < 64; ++i) sample.push_back(make_text(vocab, rng));
    std::vector<float> out;
    const auto t0 = Clock::now();
    (void)embedder->embed(sample, &out);
    embed_records_per_s = 64.0 / std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("random bge-small-zh-shaped BERT: %.1f records/s embedded (batches of ~2048 tokens)\n",
                embed_records_per_s);
  }
  nlohmann::json results = nlohmann::json::array();
  std::printf("%-8s %-7s %12s %10s %10s %10s %9s %9s %9s %8s\n", "records", "mode", "ingest rec/s", "p50", "p99",
              "cpu p50", "mean hits", "recall@5", "recall@10", "db MiB");
  for (int n : sizes) {
    const std::string d = dir + "/" + std::to_string(n);
    const bool reusing = reuse && fs::exists(d + "/store/pocketmind.db");
    if (!reusing) fs::remove_all(d);
    fs::create_directories(d);
    std::vector<Labelled> labels;
    const std::string file = write_records(d + "/input.jsonl", n, vocab, rng);
    {
      std::ofstream out(file, std::ios::app);
      write_labelled(out, std::min(n_labelled, std::max(1, n / 100)), n, vocab, rng, &labels);
    }
    auto st = pm::store::Store::open(d + "/store");
    if (!st.is_ok()) {
      std::fprintf(stderr, "store_bench: %s\n", st.status().to_string().c_str());
      return 1;
    }
    double rate = 0;  // not measured when reusing a kept store
    if (!reusing) {
      pm::store::IngestOptions o;
      const auto t0 = Clock::now();
      auto s = pm::store::ingest(**st, {file}, o);
      const double ingest_s = std::chrono::duration<double>(Clock::now() - t0).count();
      if (!s.is_ok()) {
        std::fprintf(stderr, "store_bench: %s\n", s.status().to_string().c_str());
        return 1;
      }
      rate = double(s->added) / ingest_s;
    }
    std::error_code ec;
    const double db_mib = double(fs::file_size(d + "/store/pocketmind.db", ec)) / 1048576.0;
    auto report = [&](const char* mode, const Measured& m, double extra_s) {
      std::printf("%-8d %-7s %12.0f %7.2f ms %7.2f ms %7.2f ms %9.1f %9.3f %9.3f %8.1f\n", n, mode, rate,
                  percentile(m.ms, 0.5), percentile(m.ms, 0.99), percentile(m.cpu_ms, 0.5), m.hits, m.recall5,
                  m.recall10, db_mib);
      results.push_back({{"records", n},
                         {"mode", mode},
                         {"ingest_records_per_s", rate},
                         {"search_p50_ms", percentile(m.ms, 0.5)},
                         {"search_p99_ms", percentile(m.ms, 0.99)},
                         {"search_cpu_p50_ms", percentile(m.cpu_ms, 0.5)},
                         {"recall_at_5", m.recall5},
                         {"recall_at_10", m.recall10},
                         {"labelled_queries", labels.size()},
                         {"queries", m.ms.size()},
                         {"index_build_s", extra_s},
                         {"db_bytes", int64_t(db_mib * 1048576)}});
    };
    report("lexical", measure(**st, queries, labels, nullptr), 0);
    if (embedder) {
      const bool have_vectors = reusing && pm::store::embedding_config(**st).is_ok() &&
                                pm::store::embedding_config(**st)->has_value();
      if (pm::Status e = have_vectors ? pm::Status::ok() : insert_random_vectors(**st, *embedder, uint64_t(n));
          !e.is_ok()) {
        std::fprintf(stderr, "store_bench: %s\n", e.to_string().c_str());
        return 1;
      }
      const auto b0 = Clock::now();
      auto vi = (*st)->vector_index();  // builds the index (HNSW from 20k vectors) and saves it
      const double build_s = std::chrono::duration<double>(Clock::now() - b0).count();
      if (!vi.is_ok()) {
        std::fprintf(stderr, "store_bench: %s\n", vi.status().to_string().c_str());
        return 1;
      }
      report("hybrid", measure(**st, queries, labels, embedder.get()), build_s);
      report("hybrid*", measure(**st, queries, labels, embedder.get(), true), build_s);
    }
    st->reset();
    if (!keep) fs::remove_all(d);
  }
  if (embedder)
    std::printf(
        "hybrid: the query embedded by the random bge-small-shaped BERT inside search; hybrid*: query vector\n"
        "given (embedded beforehand), i.e. lexical + int8 vector retrieval + fusion alone\n");
  nlohmann::json hnsw = nlohmann::json::array();
  if (hnsw_n > 0) {
    hnsw.push_back(bench_hnsw(size_t(hnsw_n), 384, 0, "isotropic", hnsw_params, efs));
    hnsw.push_back(bench_hnsw(size_t(hnsw_n), 384, 32, "embedding-like", hnsw_params, efs));
  }
  std::printf("%s\n",
              nlohmann::json{{"store_bench", results}, {"embed_records_per_s", embed_records_per_s}, {"hnsw", hnsw}}
                  .dump()
                  .c_str());
  return 0;
}
