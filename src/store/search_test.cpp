// Lexical ranking at scale: the bounded ranking of frequent words never hides a rare word, and
// a record holding every query word still comes first.
#include "store/search.h"

#include <fstream>

#include "store/ingest.h"
#include "test_util.h"

namespace pm::store {
namespace {

TEST(SearchAtScale, FrequentWordsAreBoundedRareWordsAlwaysFound) {
  const std::string dir = test::temp_dir();
  {
    std::ofstream out(dir + "/in.jsonl");
    for (int i = 0; i < 12000; ++i) {
      std::string text = "alpha beta report number " + std::to_string(i);
      if (i == 5) text = "alpha zebra old note";
      out << "{\"id\": \"r" << i << "\", \"source\": \"note\", \"time\": \"2026-10-01T08:00:00+08:00\", \"text\": \""
          << text << "\"}\n";
    }
  }
  auto st = Store::open(dir + "/store");
  ASSERT_TRUE(st.is_ok());
  IngestOptions io;
  io.batch_records = 5000;
  auto s = ingest(**st, {dir + "/in.jsonl"}, io);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  ASSERT_EQ(s->added, 12000);
  SearchOptions o;
  o.k = 10;
  o.now = *parse_iso8601("2026-11-20T10:00:00+08:00");
  auto r = search(**st, "zebra", o);
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->hits.size(), 1u);
  EXPECT_EQ(r->hits[0].id, "r5");
  r = search(**st, "alpha zebra", o);
  ASSERT_TRUE(r.is_ok());
  ASSERT_FALSE(r->hits.empty());
  EXPECT_EQ(r->hits[0].id, "r5");
  r = search(**st, "alpha beta", o);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->hits.size(), 10u);
  // A filter that only old records pass still finds them (the range widens).
  r = search(**st, "report 2026年10月1日", o);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->hits.size(), 10u);
}

}  // namespace
}  // namespace pm::store
