// store_bench: ingest throughput and search latency of the personal-data store at 1k / 10k /
// 100k synthetic records (Chinese and English, all sources). Prints a table and one JSON line.
//   store_bench [--sizes 1000,10000,100000] [--queries 200] [--dir TMPDIR]
// Text is drawn from a Zipf-distributed vocabulary (a few very common words, a long tail);
// queries are 1-3 words from the same distribution, a third with a time / source / person hint.
// Lexical only (no embedding model). Each size gets a fresh store; ingest goes through the same
// path as `pocketmind ingest` (JSON Lines file -> parse -> batched transactions, synchronous=FULL).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

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

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {1000, 10000, 100000};
  int n_queries = 200;
  std::string dir = (fs::temp_directory_path() / "pm-store-bench").string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--sizes")) {
      sizes.clear();
      for (const char* p = argv[i + 1]; *p;) {
        sizes.push_back(std::atoi(p));
        p = std::strchr(p, ',') ? std::strchr(p, ',') + 1 : p + std::strlen(p);
      }
    } else if (!std::strcmp(argv[i], "--queries")) {
      n_queries = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--dir")) {
      dir = argv[i + 1];
    }
  }
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
  nlohmann::json results = nlohmann::json::array();
  std::printf("%-8s %14s %12s %12s %12s %10s\n", "records", "ingest rec/s", "search p50", "search p99", "mean hits",
              "db MiB");
  for (int n : sizes) {
    const std::string d = dir + "/" + std::to_string(n);
    fs::remove_all(d);
    fs::create_directories(d);
    const std::string file = write_records(d + "/input.jsonl", n, vocab, rng);
    auto st = pm::store::Store::open(d + "/store");
    if (!st.is_ok()) {
      std::fprintf(stderr, "store_bench: %s\n", st.status().to_string().c_str());
      return 1;
    }
    pm::store::IngestOptions o;
    const auto t0 = Clock::now();
    auto s = pm::store::ingest(**st, {file}, o);
    const double ingest_s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!s.is_ok()) {
      std::fprintf(stderr, "store_bench: %s\n", s.status().to_string().c_str());
      return 1;
    }
    pm::store::SearchOptions so;
    so.k = 10;
    so.now = *pm::store::parse_iso8601("2026-11-20T10:00:00+08:00");
    std::vector<double> ms;
    double hits = 0;
    for (int rep = 0; rep < 2; ++rep)  // first pass warms the page cache
      for (const auto& q : queries) {
        const auto q0 = Clock::now();
        auto r = pm::store::search(**st, q, so);
        const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - q0).count();
        if (rep == 1) {
          ms.push_back(elapsed);
          hits += r.is_ok() ? double(r->hits.size()) : 0;
        }
      }
    std::error_code ec;
    const double db_mib = double(fs::file_size(d + "/store/pocketmind.db", ec)) / 1048576.0;
    const double rate = double(n) / ingest_s;
    std::printf("%-8d %14.0f %9.2f ms %9.2f ms %12.1f %10.1f\n", n, rate, percentile(ms, 0.5), percentile(ms, 0.99),
                hits / double(ms.size()), db_mib);
    results.push_back({{"records", n},
                       {"ingest_records_per_s", rate},
                       {"search_p50_ms", percentile(ms, 0.5)},
                       {"search_p99_ms", percentile(ms, 0.99)},
                       {"queries", ms.size()},
                       {"db_bytes", int64_t(db_mib * 1048576)}});
    st->reset();
    fs::remove_all(d);
  }
  std::printf("%s\n", nlohmann::json{{"store_bench", results}, {"mode", "lexical"}}.dump().c_str());
  return 0;
}
