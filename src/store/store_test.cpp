#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "store/ingest.h"
#include "store/search.h"
#include "store/vcard.h"
#include "test_util.h"

namespace pm::store {
namespace {

Record make(const std::string& id, const std::string& text, const std::string& time = "2026-11-20T08:00:00+08:00",
            const std::string& source = "sms", const std::string& sender = "妈妈") {
  Record r;
  r.id = id;
  r.source = source;
  r.time = *parse_iso8601(time);
  r.text = text;
  r.sender = sender;
  r.recipients = {"me"};
  return r;
}

std::vector<std::string> ids(Store& s, const std::string& query, int k = 10) {
  SearchOptions o;
  o.k = k;
  o.now = *parse_iso8601("2026-11-20T10:00:00+08:00");
  Result<SearchResult> r = search(s, query, o);
  EXPECT_TRUE(r.is_ok()) << query << ": " << r.status().to_string();
  std::vector<std::string> out;
  if (r.is_ok())
    for (const auto& h : r->hits) out.push_back(h.id);
  return out;
}

TEST(Store, CreatesMigratesAndReopens) {
  const std::string dir = test::temp_dir() + "/store";
  {
    auto s = Store::open(dir);
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    EXPECT_EQ((*s)->schema_version(), kSchemaVersion);
  }
  auto s = Store::open(dir);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ((*s)->schema_version(), kSchemaVersion);
  EXPECT_TRUE((*s)->check().is_ok());
  // WAL mode persists in the file.
  sqlite3* db = (*s)->handle();
  sqlite3_stmt* st;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
}

TEST(Store, RefusesNewerSchemasAndNonDatabases) {
  const std::string dir = test::temp_dir();
  {
    auto s = Store::open(dir);
    ASSERT_TRUE(s.is_ok());
    ASSERT_EQ(sqlite3_exec((*s)->handle(), "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  auto s = Store::open(dir);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("schema version 99 is newer"), std::string::npos);

  const std::string junk = test::temp_dir();
  {
    std::FILE* f = std::fopen((junk + "/" + kDatabaseFile).c_str(), "wb");
    std::fputs("this is not sqlite, just text....", f);
    std::fclose(f);
  }
  auto j = Store::open(junk);
  ASSERT_FALSE(j.is_ok());
  EXPECT_NE(j.status().message().find("not a pocketmind store"), std::string::npos) << j.status().message();

  StoreOptions no_create;
  no_create.create = false;
  auto missing = Store::open(test::temp_dir() + "/nothing", no_create);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(Store, UpsertIsIdempotentByIdAndForgetRemovesFromEveryIndex) {
  auto s = Store::open(test::temp_dir());
  ASSERT_TRUE(s.is_ok());
  Store& st = **s;
  EXPECT_EQ(*st.upsert(make("a", "周六回家吃饭吗"), "f"), UpsertOutcome::kAdded);
  EXPECT_EQ(*st.upsert(make("a", "周六回家吃饭吗"), "f"), UpsertOutcome::kUnchanged);
  EXPECT_EQ(*st.upsert(make("a", "周日去爬山"), "f"), UpsertOutcome::kReplaced);
  EXPECT_EQ(*st.upsert(make("b", "the hot pot receipt", "2026-11-08T20:00:00+08:00", "photo", ""), "f"),
            UpsertOutcome::kAdded);
  EXPECT_EQ(*st.count(), 2);
  EXPECT_TRUE(ids(st, "吃饭").empty());  // the replaced text is gone from the index
  EXPECT_EQ(ids(st, "爬山"), std::vector<std::string>{"a"});
  EXPECT_EQ(ids(st, "receipts"), std::vector<std::string>{"b"});
  EXPECT_EQ((*st.get("a"))["text"], "周日去爬山");

  EXPECT_EQ(*st.forget_id("a"), 1);
  EXPECT_EQ(*st.forget_id("a"), 0);
  EXPECT_TRUE(ids(st, "爬山").empty());
  const std::vector<std::string> people = *st.people();  // names only the forgotten record held are gone
  EXPECT_EQ(std::find(people.begin(), people.end(), "妈妈"), people.end());
  EXPECT_NE(std::find(people.begin(), people.end(), "me"), people.end());
  EXPECT_EQ(*st.forget_source("photo"), 1);
  EXPECT_EQ(*st.count(), 0);
  EXPECT_FALSE(st.forget_source("fax").is_ok());
  EXPECT_TRUE(st.check().is_ok());
}

// Records handed over as text (apps, the HTTP API): the same rules as a .jsonl file — a byte
// order mark and CRLF endings are fine, a bad line is rejected by number and the rest lands.
TEST(Store, IngestsJsonLinesText) {
  auto s = Store::open(test::temp_dir());
  ASSERT_TRUE(s.is_ok());
  const std::string text =
      "\xEF\xBB\xBF{\"id\":\"t1\",\"source\":\"note\",\"time\":\"2026-11-20T08:00:00+08:00\",\"text\":\"买牛奶\"}\r\n"
      "\n"
      "{\"id\":\"t2\",\"source\":\"fax\",\"time\":\"2026-11-20T08:00:00+08:00\",\"text\":\"x\"}\n"
      "{\"id\":\"t3\",\"source\":\"sms\",\"time\":\"2026-11-21T09:00:00+08:00\",\"text\":\"到家了\"}";
  Result<IngestSummary> r = ingest_jsonl_text(**s, text, "app:notes", IngestOptions{});
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->added, 2);
  EXPECT_EQ(r->rejected, 1);
  ASSERT_EQ(r->rejects.size(), 1u);
  EXPECT_EQ(r->rejects[0].file, "app:notes");
  EXPECT_EQ(r->rejects[0].line, 3);
  EXPECT_NE(r->rejects[0].reason.find("fax"), std::string::npos) << r->rejects[0].reason;
  EXPECT_EQ(ids(**s, "牛奶"), std::vector<std::string>{"t1"});
  r = ingest_jsonl_text(**s, text, "app:notes", IngestOptions{});  // again: nothing changes
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->unchanged, 2);
  EXPECT_EQ(*(**s).count(), 2);
}

TEST(Store, QueryTextIsNeverSyntax) {
  auto s = Store::open(test::temp_dir());
  ASSERT_TRUE(s.is_ok());
  Store& st = **s;
  ASSERT_TRUE(st.upsert(make("syntax", "Password hint: \"blue\" OR NEAR(cat*) -- DROP TABLE records;"), "f").is_ok());
  ASSERT_TRUE(st.upsert(make("plain", "a blue cat"), "f").is_ok());
  for (const char* q : {"\"",
                        "\"\"",
                        "*",
                        "NEAR(",
                        "NEAR(cat*",
                        "OR",
                        "AND",
                        "NOT",
                        "blue OR",
                        "cat*",
                        "(",
                        ")",
                        "^",
                        "records_fts",
                        "'; DROP TABLE records; --",
                        "title:blue",
                        "-blue",
                        "+",
                        "\\",
                        "{title}: x",
                        "\x01",
                        "\x01near",
                        "NEAR(\"blue\" cat, 5)",
                        "'",
                        "%",
                        "_"}) {
    SearchOptions o;
    o.now = *parse_iso8601("2026-11-20T10:00:00+08:00");
    Result<SearchResult> r = search(st, q, o);
    EXPECT_TRUE(r.is_ok()) << q << ": " << r.status().to_string();
  }
  EXPECT_EQ(*st.count(), 2);
  const auto hits = ids(st, "NEAR(cat*)");
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0], "syntax");  // "near" and "cat" matched as words
  EXPECT_TRUE(st.check().is_ok());
}

TEST(Store, LongQueryIsAnError) {
  auto s = Store::open(test::temp_dir());
  ASSERT_TRUE(s.is_ok());
  SearchOptions o;
  Result<SearchResult> r = search(**s, std::string(kMaxQueryBytes + 1, 'a'), o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("the limit is"), std::string::npos);
}

TEST(Vcard, ConvertsContacts) {
  const ConvertResult c = parse_vcard(
      "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:alice\r\nFN:Alice Chen\r\nN:Chen;Alice;;;\r\nTEL;TYPE=CELL:+86 138\r\n"
      "EMAIL:alice@example.com\r\nORG:Acme;R&D\r\nNOTE:likes\\, tea\r\nREV:20261101T000000Z\r\nEND:VCARD\r\n"
      "BEGIN:VCARD\r\nN:王;老;;;\r\nitem1.TEL:123\r\nEND:VCARD\r\n"
      "BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:cut off\r\n",
      Timestamp{0, 0});
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[0].id, "vcf:alice");
  EXPECT_EQ(*c.records[0].title, "Alice Chen");
  EXPECT_EQ(*c.records[0].text, "TEL: +86 138\nEMAIL: alice@example.com\nORG: Acme R&D\nNOTE: likes, tea");
  EXPECT_EQ(format_iso8601(c.records[0].time), "2026-11-01T00:00:00Z");
  EXPECT_EQ(*c.records[1].title, "王 老");
  EXPECT_EQ(c.records[1].id.rfind("vcf:", 0), 0u);
  ASSERT_EQ(c.errors.size(), 2u);
}

}  // namespace
}  // namespace pm::store
