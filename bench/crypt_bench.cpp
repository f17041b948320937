// crypt_bench: what encryption at rest costs. The same synthetic records (Chinese and English)
// are ingested into a plain store and an encrypted one (ingest path of `pocketmind ingest`:
// batched transactions, synchronous=FULL), then the same lexical queries run on both.
// Prints a table and one JSON line: open (KDF) time, ingest records/s, search p50 / p95 and the
// search p50 with a cold page cache (store reopened before each query batch).
//   crypt_bench [--records N] [--queries Q] [--dir TMPDIR]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "store/ingest.h"
#include "store/search.h"
#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

const char* const kZh[] = {"吃饭", "开会", "周末", "公园", "电影", "妈妈", "快递", "医院", "机票", "酒店",
                           "生日", "礼物", "火锅", "咖啡", "报告", "项目", "合同", "银行", "学校", "老师"};
const char* const kEn[] = {"dinner",   "meeting", "weekend",  "park",    "movie",  "delivery", "hospital",
                           "flight",   "hotel",   "birthday", "gift",    "coffee", "report",   "project",
                           "contract", "bank",    "school",   "teacher", "train",  "invoice"};
constexpr int kWords = 20;

std::string make_records(int n, std::mt19937& rng) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string text;
    const int words = 6 + int(rng() % 12);
    for (int w = 0; w < words; ++w) {
      text += (rng() % 2) ? kZh[rng() % kWords] : kEn[rng() % kWords];
      text += (rng() % 3) ? " " : "，";
    }
    char time[40];
    std::snprintf(time, sizeof time, "2026-%02d-%02dT%02d:00:00+08:00", 1 + int(rng() % 11), 1 + int(rng() % 28),
                  int(rng() % 24));
    out += nlohmann::json{{"id", std::string("r").append(std::to_string(i))},
                          {"source", (i % 3) ? "sms" : "note"},
                          {"time", time},
                          {"text", text}}
               .dump() +
           "\n";
  }
  return out;
}

struct Numbers {
  double open_ms = 0, ingest_records_per_s = 0, search_p50_ms = 0, search_p95_ms = 0, cold_p50_ms = 0;
  uint64_t db_bytes = 0;
};

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

Numbers run(const std::string& dir, const std::string& passphrase, const std::string& records,
            const std::vector<std::string>& queries) {
  Numbers n;
  pm::store::StoreOptions so;
  so.passphrase = passphrase;
  auto t0 = Clock::now();
  auto st = pm::store::Store::open(dir, so);
  if (!st.is_ok()) {
    std::fprintf(stderr, "crypt_bench: %s\n", st.status().to_string().c_str());
    std::exit(1);
  }
  n.open_ms = ms_since(t0);
  pm::store::IngestOptions io;
  io.now = *pm::store::parse_iso8601("2026-11-30T12:00:00+08:00");
  t0 = Clock::now();
  auto s = pm::store::ingest_jsonl_text(**st, records, "bench.jsonl", io);
  const double ingest_ms = ms_since(t0);
  if (!s.is_ok()) {
    std::fprintf(stderr, "crypt_bench: ingest: %s\n", s.status().to_string().c_str());
    std::exit(1);
  }
  n.ingest_records_per_s = double(s->added) / (ingest_ms / 1000.0);
  pm::store::SearchOptions o;
  o.now = io.now;
  std::vector<double> lat;
  for (int pass = 0; pass < 2; ++pass)  // the first pass warms the page cache
    for (const auto& q : queries) {
      t0 = Clock::now();
      auto r = pm::store::search(**st, q, o);
      if (pass == 1) lat.push_back(ms_since(t0));
      if (!r.is_ok()) std::exit(1);
    }
  n.search_p50_ms = pct(lat, 0.5);
  n.search_p95_ms = pct(lat, 0.95);
  st->reset();
  // Cold: a fresh connection (empty page cache; the OS file cache stays warm) per 10 queries.
  std::vector<double> cold;
  so.create = false;
  for (size_t i = 0; i < queries.size(); i += 10) {
    auto c = pm::store::Store::open(dir, so);
    if (!c.is_ok()) std::exit(1);
    t0 = Clock::now();
    auto r = pm::store::search(**c, queries[i], o);
    cold.push_back(ms_since(t0));
  }
  n.cold_p50_ms = pct(cold, 0.5);
  n.db_bytes = fs::file_size(fs::path(dir) / pm::store::kDatabaseFile);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  int records = 20000, n_queries = 200;
  std::string base = fs::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--records"))
      records = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--queries"))
      n_queries = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir"))
      base = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: crypt_bench [--records N] [--queries Q] [--dir TMPDIR]\n");
      return 2;
    }
  }
  if (records < 1 || n_queries < 1) {
    std::fprintf(stderr, "crypt_bench: --records and --queries must be positive\n");
    return 2;
  }
  std::mt19937 rng(7);
  const std::string text = make_records(records, rng);
  std::vector<std::string> queries;
  for (int i = 0; i < n_queries; ++i)
    queries.push_back(i % 2 ? std::string(kZh[rng() % kWords]) + " " + kEn[rng() % kWords] : kZh[rng() % kWords]);
  const std::string root = base + "/crypt_bench-" + std::to_string(::getpid());
  const Numbers plain = run(root + "/plain", "", text, queries);
  const Numbers enc = run(root + "/enc", "bench passphrase", text, queries);
  std::error_code ec;
  fs::remove_all(root, ec);
  std::printf("%d records, %d queries (lexical)\n", records, n_queries);
  std::printf("%-10s %10s %14s %12s %12s %12s %12s\n", "store", "open ms", "ingest rec/s", "search p50", "search p95",
              "cold p50", "db MiB");
  for (const auto& [name, n] : {std::pair{"plain", plain}, std::pair{"encrypted", enc}})
    std::printf("%-10s %10.1f %14.0f %10.3fms %10.3fms %10.3fms %12.1f\n", name, n.open_ms, n.ingest_records_per_s,
                n.search_p50_ms, n.search_p95_ms, n.cold_p50_ms, double(n.db_bytes) / 1048576.0);
  nlohmann::json j;
  for (const auto& [name, n] : {std::pair{"plain", plain}, std::pair{"encrypted", enc}})
    j[name] = {{"open_ms", n.open_ms},
               {"ingest_records_per_s", n.ingest_records_per_s},
               {"search_p50_ms", n.search_p50_ms},
               {"search_p95_ms", n.search_p95_ms},
               {"cold_search_p50_ms", n.cold_p50_ms},
               {"db_bytes", n.db_bytes}};
  j["records"] = records;
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
