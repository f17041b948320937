// Call summaries without a model over the demo transcripts (data/demo/calls), with --now
// 2026-11-21T09:00:00+08:00 (a Saturday). Expectations read off the transcripts by hand.
#include "assistant/call_summary.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace pm::assistant {
namespace {

const std::string kCalls = std::string(PM_TEST_DATA_DIR) + "/../../data/demo/calls";
const char* kNow = "2026-11-21T09:00:00+08:00";

CallSummary summarize_file(const std::string& name) {
  const std::string path = kCalls + "/" + name;
  Result<Transcript> t = parse_transcript(test::read_text(path), path);
  EXPECT_TRUE(t.is_ok()) << t.status().message();
  if (!t.is_ok()) return {};
  return summarize_extractive(*t, *store::parse_iso8601(kNow));
}

const ActionItem* find_item(const CallSummary& s, const std::string& part) {
  for (const ActionItem& a : s.action_items)
    if (a.text.find(part) != std::string::npos) return &a;
  return nullptr;
}

TEST(CallSummary, ChineseLabelledTranscript) {
  const CallSummary s = summarize_file("landlord-zh.txt");
  EXPECT_EQ(s.caller, "房东老王");
  EXPECT_TRUE(s.chinese);
  EXPECT_TRUE(s.callback_needed);  // 你考虑好了给我回个电话
  ASSERT_EQ(s.action_items.size(), 2u);
  const ActionItem* bills = find_item(s, "水电费");
  ASSERT_NE(bills, nullptr);
  ASSERT_TRUE(bills->due.has_value());
  EXPECT_EQ(*bills->due, "2026-11-22T15:00:00+08:00");  // 明天下午3点
  ASSERT_NE(find_item(s, "回个电话"), nullptr);
  EXPECT_EQ(s.phone_numbers, std::vector<std::string>{"136 0000 4444"});
  EXPECT_EQ(s.summary.rfind("与房东老王的通话：", 0), 0u) << s.summary;
  ASSERT_FALSE(s.topics.empty());
  EXPECT_NE(s.topics.front().find("房租要涨到六千五"), std::string::npos);
}

TEST(CallSummary, EnglishLabelledTranscript) {
  const CallSummary s = summarize_file("bob-demo-en.txt");
  EXPECT_EQ(s.caller, "Bob");
  EXPECT_FALSE(s.chinese);
  EXPECT_FALSE(s.callback_needed);
  ASSERT_EQ(s.action_items.size(), 3u);
  const ActionItem* pricing = find_item(s, "pricing table");
  ASSERT_NE(pricing, nullptr);
  ASSERT_TRUE(pricing->due.has_value());
  EXPECT_EQ(*pricing->due, "2026-11-22T17:00:00+08:00");  // tomorrow 5pm
  ASSERT_NE(find_item(s, "update the slides"), nullptr);
  const ActionItem* room = find_item(s, "meeting room");
  ASSERT_NE(room, nullptr);
  EXPECT_FALSE(room->due.has_value());
}

TEST(CallSummary, UnlabelledVoicemailAsksForACallback) {
  const CallSummary s = summarize_file("dentist-voicemail-en.txt");
  EXPECT_EQ(s.caller, "Anna");     // "this is Anna from Bright Smile Dental"
  EXPECT_TRUE(s.callback_needed);  // "Please call us back"
  EXPECT_EQ(s.phone_numbers, std::vector<std::string>{"010-6400-5555"});
  const ActionItem* move = find_item(s, "move your appointment");
  ASSERT_NE(move, nullptr);
  ASSERT_TRUE(move->due.has_value());
  EXPECT_EQ(*move->due, "2026-11-26T10:00:00+08:00");  // next Thursday at 10am
  ASSERT_NE(find_item(s, "call us back"), nullptr);
}

TEST(CallSummary, MissedCallRecordWithReminders) {
  const CallSummary s = summarize_file("missed-mom.jsonl");
  EXPECT_EQ(s.caller, "妈妈");
  EXPECT_TRUE(s.callback_needed);
  const ActionItem* medicine = find_item(s, "降压药");
  ASSERT_NE(medicine, nullptr);
  ASSERT_TRUE(medicine->due.has_value());
  EXPECT_EQ(*medicine->due, "2026-11-22T12:00:00+08:00");  // 周日中午: tomorrow, noon
  const nlohmann::json rules = reminder_rules(s);
  ASSERT_EQ(rules.size(), 1u);  // only the item with a due time
  const nlohmann::json& rule = rules[0];
  EXPECT_EQ(rule["mode"], "single");
  EXPECT_EQ(rule["triggers"][0], (nlohmann::json{{"type", "time"}, {"at", "12:00"}, {"date", "2026-11-22"}}));
  EXPECT_EQ(rule["conditions"], nlohmann::json::array());
  EXPECT_EQ(rule["actions"][0]["tool"], "notification.show");
  EXPECT_EQ(rule["actions"][0]["args"]["text"], medicine->text);
}

TEST(CallSummary, RejectsBadTranscripts) {
  EXPECT_FALSE(parse_transcript("   \n ", "empty.txt").is_ok());
  Result<Transcript> sms = parse_transcript(
      R"({"id": "sms-1", "source": "sms", "time": "2026-11-20T08:15:00+08:00", "text": "hi"})", "sms.jsonl");
  ASSERT_FALSE(sms.is_ok());
  EXPECT_NE(sms.status().message().find("call record"), std::string::npos) << sms.status().message();
  Result<Transcript> broken = parse_transcript(R"({"id": "call-1", "source": "call")", "broken.jsonl");
  ASSERT_FALSE(broken.is_ok());
  EXPECT_NE(broken.status().message().find("broken.jsonl"), std::string::npos);
  EXPECT_FALSE(parse_transcript(std::string("\xff\xfe bad bytes"), "bad.txt").is_ok());
}

TEST(CallSummary, ModelOutputIsValidatedField_by_field) {
  Result<Transcript> t = parse_transcript("Bob: call me back tomorrow.", "t.txt");
  ASSERT_TRUE(t.is_ok());
  const store::Timestamp now = *store::parse_iso8601(kNow);
  Result<CallSummary> ok = parse_summary_output(
      R"({"summary": "Bob wants a call.", "caller": "Bob", "topics": ["callback"],
          "action_items": [{"text": "Call Bob", "due": "tomorrow 3pm"}], "callback_needed": true})",
      *t, now);
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  ASSERT_EQ(ok->action_items.size(), 1u);
  EXPECT_EQ(ok->action_items[0].due.value_or(""), "2026-11-22T15:00:00+08:00");
  Result<CallSummary> missing = parse_summary_output(R"({"summary": "x", "caller": "Bob", "topics": []})", *t, now);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("action_items"), std::string::npos);
  EXPECT_FALSE(parse_summary_output(R"({"summary": "x", "caller": )", *t, now).is_ok());
}

TEST(CallSummary, CliSavesReminderRulesOnlyWhenConfirmed) {
  const std::string file = kCalls + "/missed-mom.jsonl";
  const std::string db = test::temp_dir();
  // Without --yes and without a terminal to ask on: the summary is printed, nothing is saved, and
  // the command fails naming --yes.
  const test::CommandResult unasked =
      test::run_pocketmind({"summarize-call", file, "--now", kNow, "--remind", "--db", db, "--json"});
  EXPECT_NE(unasked.exit_code, 0);
  EXPECT_NE(unasked.err.find("--yes"), std::string::npos) << unasked.err;
  EXPECT_EQ(nlohmann::json::parse(unasked.out)["reminders"].size(), 0u);
  EXPECT_FALSE(test::file_exists(db + "/automations.sqlite"));

  const test::CommandResult r =
      test::run_pocketmind({"summarize-call", file, "--now", kNow, "--remind", "--db", db, "--yes", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key : {"summary", "caller", "topics", "action_items", "callback_needed"})
    EXPECT_TRUE(j.contains(key)) << key;
  // One action item has a due time (周日中午 = 2026-11-22 12:00): one rule, saved.
  ASSERT_EQ(j["reminders"].size(), 1u);
  const std::string id = j["reminders"][0]["id"];
  EXPECT_EQ(j["reminders"][0]["rule"]["triggers"][0],
            (nlohmann::json{{"type", "time"}, {"at", "12:00"}, {"date", "2026-11-22"}}));

  // automation list shows it ...
  const test::CommandResult list = test::run_pocketmind({"automation", "list", "--db", db, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const nlohmann::json rules = nlohmann::json::parse(list.out)["rules"];
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0]["id"], id);
  EXPECT_EQ(rules[0]["rule"]["actions"][0]["tool"], "notification.show");
  EXPECT_NE(rules[0]["rule"]["actions"][0]["args"]["text"].get<std::string>().find("降压药"), std::string::npos);
  // ... and the scheduler fires it once, at the due time (Sunday noon, Shanghai), not the day after.
  const test::CommandResult sim =
      test::run_pocketmind({"automation", "simulate", "--db", db, "--from", "2026-11-21T09:00:00+08:00", "--to",
                            "2026-11-24T00:00:00+08:00", "--tz", "Asia/Shanghai", "--json"});
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  const std::string fired = sim.out;
  EXPECT_NE(fired.find("2026-11-22T12:00:00+08:00"), std::string::npos) << fired;
  EXPECT_EQ(fired.find("2026-11-23T12:00"), std::string::npos) << fired;

  // Summarizing the same call again saves no duplicate.
  const test::CommandResult again =
      test::run_pocketmind({"summarize-call", file, "--now", kNow, "--remind", "--db", db, "--yes", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["reminders"].size(), 0u);
  EXPECT_EQ(nlohmann::json::parse(again.out)["already_saved"], 1);
  // --remind needs --db; a missing file is an error naming it.
  EXPECT_NE(test::run_pocketmind({"summarize-call", file, "--now", kNow, "--remind", "--yes"}).exit_code, 0);
  const test::CommandResult missing = test::run_pocketmind({"summarize-call", kCalls + "/no-such.txt"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("no-such.txt"), std::string::npos);
}

}  // namespace
}  // namespace pm::assistant
