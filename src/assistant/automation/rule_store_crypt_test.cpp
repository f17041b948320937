// automations.sqlite of an encrypted store (rule_store.h): a saved rule's text, its run history
// and registered tools never reach the disk in the clear; the passphrase opens them again; no or
// a wrong passphrase is refused with the reason; rules saved before the store was encrypted are
// all kept (ids included) when the file is converted.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "assistant/automation/rule_store.h"
#include "assistant/automation/tool_store.h"
#include "store/side_db.h"
#include "store/store_key.h"
#include "test_util.h"

namespace pm::automation {
namespace {

namespace fs = std::filesystem;

const char* const kRulesPass = "rules 口令 2026";
const char* const kRuleSecret = "提醒我给李医生回电话 DR-LI-4471";
const char* const kToolSecret = "clinic_app.book";

std::string raw_files(const std::string& dir) {
  std::string all;
  for (const char* f : {"automations.sqlite", "automations.sqlite-wal"}) {
    std::ifstream in(dir + "/" + f, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    all += ss.str();
  }
  return all;
}

std::string rule_json(const std::string& text) {
  return nlohmann::json{{"trigger", {{"type", "time"}, {"at", "07:00"}}}, {"note", text}}.dump();
}

std::unique_ptr<RuleStore> open_with(const std::string& dir, const std::string& passphrase, bool create = true) {
  Result<std::optional<store::StoreKey>> key = rule_store_key(dir, passphrase, create);
  EXPECT_TRUE(key.is_ok()) << key.status().message();
  if (!key.is_ok()) return nullptr;
  Result<std::unique_ptr<RuleStore>> s = RuleStore::open(dir, create, *key);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? std::move(*s) : nullptr;
}

TEST(RuleStoreCrypt, RulesHistoryAndToolsOfAnEncryptedStoreAreNotOnDiskInTheClear) {
  const std::string dir = test::temp_dir();
  ASSERT_TRUE(store::create_store_key(dir, kRulesPass, 100000).is_ok());
  {
    auto s = open_with(dir, kRulesPass);
    ASSERT_TRUE(s);
    Result<std::vector<std::string>> ids = s->add({rule_json(kRuleSecret)}, 1000);
    ASSERT_TRUE(ids.is_ok()) << ids.status().message();
    RunRecord run;
    run.rule_id = (*ids)[0];
    run.trigger = "time";
    run.started_s = 1001;
    run.status = "ok";
    run.detail = kRuleSecret;
    ASSERT_TRUE(s->record_run(run, 1001).is_ok());
    ASSERT_TRUE(s->add_tool({kToolSecret, "预约诊所", R"({"type":"object"})", "", 1000}).is_ok());
    EXPECT_EQ(raw_files(dir).find(kRuleSecret), std::string::npos);  // while open
    EXPECT_EQ(raw_files(dir).find("DR-LI"), std::string::npos);
  }
  const std::string bytes = raw_files(dir);
  EXPECT_EQ(bytes.find(kRuleSecret), std::string::npos);
  EXPECT_EQ(bytes.find("DR-LI"), std::string::npos);
  EXPECT_EQ(bytes.find(kToolSecret), std::string::npos);
  EXPECT_FALSE(store::is_plain_sqlite(dir + "/automations.sqlite"));

  // Reopened with the passphrase (as a new process would): everything is there.
  auto s = open_with(dir, kRulesPass, false);
  ASSERT_TRUE(s);
  Result<std::vector<StoredRule>> rules = s->list();
  ASSERT_TRUE(rules.is_ok());
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_NE((*rules)[0].json.find(kRuleSecret), std::string::npos);
  Result<std::vector<RunRecord>> hist = s->history();
  ASSERT_TRUE(hist.is_ok());
  ASSERT_EQ(hist->size(), 1u);
  EXPECT_EQ((*hist)[0].detail, kRuleSecret);
  Result<std::vector<StoredTool>> tools = s->list_tools();
  ASSERT_TRUE(tools.is_ok());
  ASSERT_EQ(tools->size(), 1u);
  EXPECT_EQ((*tools)[0].name, kToolSecret);
  store::StoreKey key = **rule_store_key(dir, kRulesPass, false);
  Result<ToolRegistry> reg = load_tool_registry(dir, key);
  ASSERT_TRUE(reg.is_ok()) << reg.status().message();
  EXPECT_NE(reg->find(kToolSecret), nullptr);
}

TEST(RuleStoreCrypt, NoOrWrongPassphraseIsRefusedAndNoPlainFileAppears) {
  const std::string dir = test::temp_dir();
  ASSERT_TRUE(store::create_store_key(dir, kRulesPass, 100000).is_ok());
  Result<std::optional<store::StoreKey>> none = rule_store_key(dir, "", true);
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("passphrase"), std::string::npos) << none.status().message();
  Result<std::optional<store::StoreKey>> wrong = rule_store_key(dir, "wrong one", true);
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.status().message().find("wrong passphrase"), std::string::npos) << wrong.status().message();
  // A caller that skips the key (an old code path) is refused too, before SQLite creates anything.
  Result<std::unique_ptr<RuleStore>> plain = RuleStore::open(dir, true);
  ASSERT_FALSE(plain.is_ok());
  EXPECT_NE(plain.status().message().find("passphrase"), std::string::npos) << plain.status().message();
  EXPECT_FALSE(fs::exists(dir + "/automations.sqlite"));
  Result<ToolRegistry> reg = load_tool_registry(dir);  // nothing there yet: built-ins
  EXPECT_TRUE(reg.is_ok());
  // Once it exists, reading the tools without the key fails instead of showing nothing.
  { ASSERT_TRUE(open_with(dir, kRulesPass)); }
  reg = load_tool_registry(dir);
  ASSERT_FALSE(reg.is_ok());
  EXPECT_NE(reg.status().message().find("passphrase"), std::string::npos) << reg.status().message();
}

TEST(RuleStoreCrypt, PlainRulesFileInAnEncryptedStoreIsConvertedKeepingEveryRuleAndId) {
  const std::string dir = test::temp_dir();
  std::vector<std::string> texts;
  {
    Result<std::unique_ptr<RuleStore>> s = RuleStore::open(dir, true);  // before encryption existed
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    for (int i = 0; i < 40; ++i) texts.push_back(std::string(kRuleSecret) + " #" + std::to_string(i));
    ASSERT_TRUE((*s)->add(texts, 1000).is_ok());
    ASSERT_TRUE((*s)->set_enabled("r7", false).is_ok());
    ASSERT_TRUE((*s)->remove("r40").is_ok());  // r40 must not be handed out again
    ASSERT_TRUE((*s)->add_tool({kToolSecret, "预约诊所", R"({"type":"object"})", "", 1000}).is_ok());
  }
  ASSERT_NE(raw_files(dir).find(kRuleSecret), std::string::npos);
  // The user encrypts the store (store.key appears); the next open with the passphrase converts.
  ASSERT_TRUE(store::create_store_key(dir, kRulesPass, 100000).is_ok());
  {
    auto s = open_with(dir, kRulesPass, false);
    ASSERT_TRUE(s);
    Result<std::vector<StoredRule>> rules = s->list();
    ASSERT_TRUE(rules.is_ok()) << rules.status().message();
    ASSERT_EQ(rules->size(), 39u);
    for (size_t i = 0; i < rules->size(); ++i) {
      EXPECT_EQ((*rules)[i].id, "r" + std::to_string(i + 1));
      EXPECT_NE((*rules)[i].json.find(texts[i]), std::string::npos);
      EXPECT_EQ((*rules)[i].enabled, (*rules)[i].id != "r7");
      EXPECT_EQ((*rules)[i].created_s, 1000);
    }
    Result<std::optional<int64_t>> progress = s->last_processed("r3");
    ASSERT_TRUE(progress.is_ok());
    EXPECT_EQ(progress->value_or(-1), 1000);
    Result<std::vector<std::string>> more = s->add({rule_json("after")}, 2000);
    ASSERT_TRUE(more.is_ok());
    EXPECT_EQ((*more)[0], "r41");
    ASSERT_EQ(s->list_tools()->size(), 1u);
  }
  EXPECT_EQ(raw_files(dir).find(kRuleSecret), std::string::npos);
  EXPECT_FALSE(store::is_plain_sqlite(dir + "/automations.sqlite"));
}

}  // namespace
}  // namespace pm::automation
