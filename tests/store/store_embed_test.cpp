// Embeddings in a store, through the real binary: `ingest --embed-model` embeds every record,
// search becomes hybrid, the vector index file is rebuilt when missing or damaged, forget removes
// vectors, a changed record or a changed model is embedded again, and bad models are refused.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "models/bert.h"
#include "store/embeddings.h"
#include "store/store.h"
#include "test_util.h"

namespace pm::test {
namespace {

using nlohmann::json;
const char* const kNow = "2026-11-25T10:00:00+08:00";

std::string demo(const std::string& rel) { return std::string(PM_TEST_DATA_DIR) + "/../../data/demo/" + rel; }

int64_t count_embeddings(const std::string& db) {
  auto st = store::Store::open(db);
  EXPECT_TRUE(st.is_ok());
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2((*st)->handle(), "SELECT count(*) FROM embeddings", -1, &s, nullptr);
  sqlite3_step(s);
  const int64_t n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return n;
}

json search(const std::string& db, const std::string& q) {
  CommandResult r = run_pocketmind({"search", "--db", db, "--now", kNow, "-k", "5", "--json", q});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out, nullptr, false);
}

TEST(StoreEmbed, IngestEmbedsSearchIsHybridIndexRebuildsForgetAndModelChange) {
  PM_REQUIRE_FIXTURE(model, "gguf/bert-bge-tiny-f16.gguf");
  const std::string db = temp_dir() + "/store";
  CommandResult r = run_pocketmind({"ingest", "--db", db, "--now", kNow, "--json", "--embed-model", model,
                                    demo("phone.jsonl"), demo("calendar.ics")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json s = json::parse(r.out);
  const int64_t n = s["records_in_store"];
  EXPECT_EQ(s["embedded"], n);
  EXPECT_EQ(count_embeddings(db), n);
  const std::string index_file = db + "/" + store::kVectorIndexFile;
  EXPECT_TRUE(std::filesystem::exists(index_file));

  json hits = search(db, "flight Shanghai");
  EXPECT_EQ(hits["mode"], "hybrid") << hits.dump();
  EXPECT_EQ(hits["lexical_only"], false);
  ASSERT_FALSE(hits["hits"].empty());
  EXPECT_EQ(hits["hits"][0]["id"], "sms-bob-flight");

  // Missing or damaged index file: rebuilt from the database, same answers.
  std::filesystem::remove(index_file);
  EXPECT_EQ(search(db, "flight Shanghai")["hits"], hits["hits"]);
  EXPECT_TRUE(std::filesystem::exists(index_file));
  {
    std::fstream f(index_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  EXPECT_EQ(search(db, "flight Shanghai")["hits"], hits["hits"]);
  EXPECT_TRUE(store::VectorIndex::load(index_file).is_ok());

  // Re-import unchanged: nothing embedded; a changed text: that record embedded again.
  r = run_pocketmind({"ingest", "--db", db, "--json", demo("phone.jsonl")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["embedded"], 0);
  const std::string changed = temp_dir() + "/changed.jsonl";
  std::ofstream(changed) << R"({"id": "sms-bob-flight", "source": "sms", "time": "2026-11-18T22:10:00+08:00", )"
                            R"("sender": "Bob", "text": "Train G7 arrives at Hongqiao at 9pm"})"
                         << "\n";
  r = run_pocketmind({"ingest", "--db", db, "--json", changed});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["embedded"], 1);
  EXPECT_EQ(count_embeddings(db), n);

  // forget removes the vector from the table and the index file.
  r = run_pocketmind({"forget", "--db", db, "--id", "sms-bob-flight"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_embeddings(db), n - 1);
  {
    auto idx = store::VectorIndex::load(index_file);
    ASSERT_TRUE(idx.is_ok()) << idx.status().to_string();
    EXPECT_EQ(int64_t((*idx)->size()), n - 1);
  }
  const nlohmann::json after_forget = search(db, "Hongqiao train");  // (a temporary's ["hits"] dies before the loop)
  for (const auto& h : after_forget["hits"]) EXPECT_NE(h["id"], "sms-bob-flight");

  // Another model: every record embedded again, with its dimension.
  const std::string other = temp_dir() + "/rand-bert.gguf";
  BertShape shape;
  shape.n_embd = 48;
  shape.n_layer = 1;
  shape.n_head = 4;
  shape.n_ff = 96;
  shape.n_vocab = 3000;
  shape.n_ctx = 128;
  ASSERT_TRUE(write_random_bert(other, shape, 3).is_ok());
  r = run_pocketmind({"ingest", "--db", db, "--json", "--embed-model", other, demo("phone.jsonl")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  s = json::parse(r.out);
  EXPECT_EQ(s["embedded"], s["records_in_store"]);
  EXPECT_NE(s["embed_note"].get<std::string>().find("changed"), std::string::npos);
  {
    auto idx = store::VectorIndex::load(index_file);
    ASSERT_TRUE(idx.is_ok());
    EXPECT_EQ((*idx)->dim(), 48u);
  }
  EXPECT_EQ(search(db, "flight")["mode"], "hybrid");

  // The model file gone: search stays lexical and says why.
  std::filesystem::remove(other);
  json lex = search(db, "flight");
  EXPECT_EQ(lex["lexical_only"], true);
  EXPECT_NE(lex["note"].get<std::string>().find("rand-bert.gguf"), std::string::npos) << lex.dump();
}

TEST(StoreEmbed, RefusesModelsThatCannotEmbed) {
  const std::string db = temp_dir() + "/store2";
  CommandResult r =
      run_pocketmind({"ingest", "--db", db, "--embed-model", temp_dir() + "/none.gguf", demo("phone.jsonl")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("none.gguf"), std::string::npos) << r.err;
  const std::string junk = temp_dir() + "/junk.gguf";
  std::ofstream(junk) << "GGUF this is not a model";
  r = run_pocketmind({"ingest", "--db", db, "--embed-model", junk, demo("phone.jsonl")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("junk.gguf"), std::string::npos) << r.err;
  const std::string llama = fixture("gguf/llama-spm-tiny-f16.gguf");
  if (!llama.empty()) {
    r = run_pocketmind({"ingest", "--db", db, "--embed-model", llama, demo("phone.jsonl")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("not an embedding model"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace pm::test
