// `ask` over the demo phone (data/demo): the records an answer must cite, and questions about
// things the data does not hold, which must be answered "I could not find ..." / "没有找到…" with no
// citations. Expected ids were found by reading data/demo by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "assistant/answer.h"
#include "store/store.h"
#include "test_util.h"

namespace pm::assistant {
namespace {

const std::string kDemo = std::string(PM_TEST_DATA_DIR) + "/../../data/demo";
const char* kNow = "2026-11-21T09:00:00+08:00";  // as scripts/demo.sh: Saturday

class AskDemo : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new std::string(test::temp_dir());
    const test::CommandResult r =
        test::run_pocketmind({"ingest", "--db", *db_, "--now", kNow, "-q", kDemo + "/phone.jsonl",
                              kDemo + "/calendar.ics", kDemo + "/contacts.vcf", kDemo + "/notes"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
  }

  Retrieval ask(const std::string& q) {
    store::StoreOptions so;
    so.create = false;
    Result<std::unique_ptr<store::Store>> st = store::Store::open(*db_, so);
    EXPECT_TRUE(st.is_ok()) << st.status().message();
    AskOptions o;
    o.now = *store::parse_iso8601(kNow);
    Result<Retrieval> r = retrieve(**st, q, o);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? std::move(*r) : Retrieval();
  }

  static std::string* db_;
};
std::string* AskDemo::db_ = nullptr;

struct Case {
  const char* question;
  std::vector<std::string> must_cite;
};

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST_F(AskDemo, AnswersCiteTheRecordsThatHoldTheAnswer) {
  const std::vector<Case> cases = {
      {"When is my dentist appointment?", {"cal-dentist"}},
      {"When does Bob's flight land?", {"sms-bob-flight"}},
      {"What did Dr. Smith say about my blood test?", {"call-doctor"}},
      {"Where is the Q4 budget review?", {"cal-budget-review"}},
      {"What is the launch date on the whiteboard?", {"photo-whiteboard"}},
      {"房东说房租涨到多少？", {"call-landlord"}},
      {"妈妈生日礼物的预算是多少？", {"note-gift"}},
      {"停车位在哪里？", {"photo-parking"}},
      {"李娜家的WiFi密码是什么？", {"sms-lina-wifi"}},
      {"车辆年检是什么时候？", {"cal-car-inspection"}},
      {"上周妈妈发的短信说了什么？", {"sms-mom-medicine", "sms-mom-coat"}},
      // A Chinese question about an English calendar entry (牙医 = dentist, 预约 = appointment).
      {"我的牙医预约是什么时候？", {"cal-dentist"}},
      {"我的航班是几点？", {"cal-flight-sz"}},  // "Flight to Shenzhen CZ3108"
  };
  for (const Case& c : cases) {
    const Retrieval r = ask(c.question);
    const Answer a = extractive_answer(r);
    EXPECT_TRUE(r.found()) << c.question;
    EXPECT_EQ(a.mode, "extractive") << c.question;
    for (const std::string& id : c.must_cite) {
      EXPECT_TRUE(contains(a.citations, id)) << c.question << ": " << id << " not cited; answer:\n" << a.text;
      EXPECT_NE(a.text.find("[" + id + "]"), std::string::npos) << c.question;
    }
    // Every citation is a retrieved record that passed the relevance check.
    for (const std::string& id : a.citations) {
      const bool relevant =
          std::any_of(r.relevant.begin(), r.relevant.end(), [&](const Evidence& e) { return e.id == id; });
      EXPECT_TRUE(relevant) << c.question << ": cites " << id;
    }
  }
}

TEST_F(AskDemo, ExtractiveAnswerPullsOutTimesPlacesAndPeople) {
  const Answer dentist = extractive_answer(ask("When is my dentist appointment?"));
  // The calendar event's start-end and location (record cal-dentist).
  EXPECT_NE(dentist.text.find("2026-11-20 16:30–17:15"), std::string::npos) << dentist.text;
  EXPECT_NE(dentist.text.find("Bright Smile Dental, Chaoyang"), std::string::npos) << dentist.text;
  EXPECT_EQ(dentist.text.rfind("From your records:", 0), 0u) << dentist.text;

  const Retrieval flight = ask("When does Bob's flight land?");
  ASSERT_TRUE(flight.found());
  const Evidence& e = flight.relevant.front();
  EXPECT_EQ(e.id, "sms-bob-flight");
  EXPECT_EQ(e.person, "Bob Wang");
  EXPECT_TRUE(contains(e.times, "9:40pm on Saturday")) << extractive_answer(flight).text;

  // Chinese question: Chinese answer; the car inspection's date and place from the calendar.
  const Answer car = extractive_answer(ask("车辆年检是什么时候？"));
  EXPECT_EQ(car.text.rfind("根据你的记录：", 0), 0u) << car.text;
  EXPECT_NE(car.text.find("2026年11月25日 09:00"), std::string::npos) << car.text;
  EXPECT_NE(car.text.find("北京朝阳机动车检测场"), std::string::npos) << car.text;
}

TEST_F(AskDemo, SaysSoWhenNothingRelevantExists) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"When is my piano lesson?", "I could not find"},
      {"What did the plumber say about the leak?", "I could not find"},
      {"宠物狗的疫苗什么时候打？", "没有找到"},
      {"公司年会在哪里举办？", "没有找到"},
      {"孩子的钢琴课几点开始？", "没有找到"},  // 孩子 alone (a parents' meeting) is not a majority
  };
  for (const auto& [q, prefix] : cases) {
    const Retrieval r = ask(q);
    const Answer a = extractive_answer(r);
    EXPECT_FALSE(r.found()) << q << " answered:\n" << a.text;
    EXPECT_EQ(a.text.rfind(prefix, 0), 0u) << q << ": " << a.text;
    EXPECT_TRUE(a.citations.empty()) << q;
    EXPECT_EQ(a.mode, "not_found");
  }
}

TEST_F(AskDemo, CliJsonHasAnswerCitationsAndRecords) {
  const test::CommandResult r =
      test::run_pocketmind({"ask", "--db", *db_, "--now", kNow, "--json", "When is my dentist appointment?"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j["answer"].is_string());
  ASSERT_TRUE(j["citations"].is_array());
  ASSERT_TRUE(j["records"].is_array());
  EXPECT_TRUE(contains(j["citations"].get<std::vector<std::string>>(), "cal-dentist"));
  bool has_record = false;
  for (const auto& rec : j["records"])
    if (rec["id"] == "cal-dentist") has_record = rec["record"]["title"] == "Dentist appointment";
  EXPECT_TRUE(has_record) << r.out;

  const test::CommandResult none =
      test::run_pocketmind({"ask", "--db", *db_, "--now", kNow, "--json", "我的宠物狗叫什么名字？"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  const nlohmann::json n = nlohmann::json::parse(none.out);
  EXPECT_EQ(n["citations"].size(), 0u);
  EXPECT_EQ(n["records"].size(), 0u);
  EXPECT_EQ(n["answer"].get<std::string>().rfind("没有找到", 0), 0u) << none.out;
}

TEST_F(AskDemo, CliRejectsBadInput) {
  const test::CommandResult empty = test::run_pocketmind({"ask", "--db", *db_, "   "});
  EXPECT_NE(empty.exit_code, 0);
  EXPECT_NE(empty.err.find("question is empty"), std::string::npos) << empty.err;
  const test::CommandResult bad_now = test::run_pocketmind({"ask", "--db", *db_, "--now", "yesterday", "hi?"});
  EXPECT_NE(bad_now.exit_code, 0);
  EXPECT_NE(bad_now.err.find("--now"), std::string::npos) << bad_now.err;
  const test::CommandResult no_db = test::run_pocketmind({"ask", "--db", *db_ + "/missing", "hi?"});
  EXPECT_NE(no_db.exit_code, 0);
  const test::CommandResult bad_model = test::run_pocketmind(
      {"ask", "--db", *db_, "-m", *db_ + "/no-such-model.gguf", "When is my dentist appointment?"});
  EXPECT_NE(bad_model.exit_code, 0);
  EXPECT_NE(bad_model.err.find("no-such-model.gguf"), std::string::npos) << bad_model.err;
  const test::CommandResult bad_utf8 = test::run_pocketmind({"ask", "--db", *db_, "--json", "\xff\xfe?"});
  EXPECT_NE(bad_utf8.exit_code, 0);
  EXPECT_NE(bad_utf8.err.find("not valid UTF-8"), std::string::npos) << bad_utf8.err;
  EXPECT_TRUE(bad_utf8.out.empty());
  const test::CommandResult help = test::run_pocketmind({"ask", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--json"), std::string::npos);
}

TEST(Citations, OnlyRetrievedIdsAreKept) {
  std::string text =
      "Your appointment is on Friday [cal-dentist]. Also [sms-9999] and [cal-dentist, made-up] 【photo-cat】.";
  const std::vector<std::string> cited = keep_known_citations(text, {"cal-dentist", "photo-cat"});
  EXPECT_EQ(cited, (std::vector<std::string>{"cal-dentist", "photo-cat"}));
  EXPECT_EQ(text, "Your appointment is on Friday [cal-dentist]. Also  and [cal-dentist] [photo-cat].");
}

}  // namespace
}  // namespace pm::assistant
