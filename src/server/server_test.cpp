// End-to-end tests of `pocketmind serve` on 127.0.0.1: a real Server on an ephemeral port, real
// HTTP through httplib::Client, a real store directory. Models come from ../shared/fixtures.
#include "server/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "formats/gguf.h"
#include "generate/chat_template.h"
#include "generate/tool_calls.h"
#include "models/model.h"
#include "server/auth.h"
#include "server/openai.h"
#include "store/embedder.h"
#include "test_util.h"
#include "tokenizer/byte_level.h"

namespace pm::server {
namespace {

using Json = nlohmann::ordered_json;

// A served model loaded from a fixture (with its chat template), kept alive for the server.
struct Loaded {
  std::shared_ptr<const GgufFile> gguf;
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<ThreadPool> pool;
  ServedModel served;
};

std::unique_ptr<Loaded> load_chat_model(const std::string& path) {
  auto l = std::make_unique<Loaded>();
  Result<std::unique_ptr<GgufFile>> f = GgufFile::open(path);
  if (!f.is_ok()) return nullptr;
  l->gguf = std::move(*f);
  Result<std::unique_ptr<Tokenizer>> t = Tokenizer::from_gguf(*l->gguf);
  Result<std::unique_ptr<Model>> m = load_model(l->gguf);
  if (!t.is_ok() || !m.is_ok()) return nullptr;
  l->tokenizer = std::move(*t);
  l->model = std::move(*m);
  l->pool = std::make_unique<ThreadPool>(1);
  l->served.model = l->model.get();
  l->served.tokenizer = l->tokenizer.get();
  l->served.pool = l->pool.get();
  Result<std::string> tmpl = l->gguf->get_string_or("tokenizer.chat_template", "");
  l->served.chat_template = chat_template_for(tmpl.is_ok() ? *tmpl : "", l->model->info().arch);
  return l;
}

// A server running on its own thread until destroyed.
struct Running {
  std::unique_ptr<Server> server;
  std::thread thread;
  int port = 0;
  ~Running() {
    if (server) server->stop();
    if (thread.joinable()) thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    return c;
  }
};

std::unique_ptr<Running> start(ServerConfig config, const ServedModel& served) {
  auto r = std::make_unique<Running>();
  Result<std::unique_ptr<Server>> s = Server::create(config, served);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  if (!s.is_ok()) return nullptr;
  r->server = std::move(*s);
  Status st = r->server->bind();
  EXPECT_TRUE(st.is_ok()) << st.message();
  r->port = r->server->port();
  r->thread = std::thread([p = r->server.get()] { p->run(); });
  return r;
}

std::string add_app(const std::string& dir, const std::string& name, const std::string& scopes) {
  Result<std::unique_ptr<AppRegistry>> reg = AppRegistry::open(dir);
  EXPECT_TRUE(reg.is_ok());
  Result<std::vector<std::string>> sc = parse_scopes(scopes);
  EXPECT_TRUE(sc.is_ok()) << sc.status().message();
  Result<std::string> token = (*reg)->add(name, *sc);
  EXPECT_TRUE(token.is_ok()) << token.status().message();
  return *token;
}

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// Checks OpenAI's error shape and returns the object.
Json expect_error(const httplib::Result& res, int status) {
  EXPECT_TRUE(res);
  if (!res) return {};
  EXPECT_EQ(res->status, status) << res->body;
  Json j = Json::parse(res->body, nullptr, false);
  EXPECT_TRUE(j.is_object() && j.contains("error")) << res->body;
  if (!j.is_object() || !j.contains("error")) return {};
  const Json& e = j["error"];
  EXPECT_TRUE(e["message"].is_string() && !e["message"].get<std::string>().empty());
  EXPECT_TRUE(e["type"].is_string());
  EXPECT_TRUE(e.contains("param"));
  EXPECT_TRUE(e.contains("code"));
  return e;
}

// Splits an SSE body into its data payloads, checking the framing.
std::vector<std::string> sse_payloads(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "event not ended by a blank line: " << body.substr(pos);
    if (end == std::string::npos) break;
    const std::string ev = body.substr(pos, end - pos);
    EXPECT_EQ(ev.rfind("data: ", 0), 0u) << ev;
    out.push_back(ev.substr(6));
    pos = end + 2;
  }
  return out;
}

template <class F>
bool wait_until(F f, int seconds = 20) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return f();
}

Json metrics(const Running& r, const std::string& token) {
  auto res = r.client().Get("/metrics", bearer(token));
  if (!res || res->status != 200) return {};
  return Json::parse(res->body);
}

// ---- apps and scopes ----------------------------------------------------------------------------

TEST(ServerAuth, ScopesAreValidated) {
  EXPECT_TRUE(parse_scopes("chat,embeddings,search:sms,write:note,search:*").is_ok());
  EXPECT_FALSE(parse_scopes("chat,,embeddings").is_ok());
  EXPECT_FALSE(parse_scopes("search:diary").is_ok());
  EXPECT_FALSE(parse_scopes("root").is_ok());
  EXPECT_FALSE(parse_scopes("chat,chat").is_ok());
  EXPECT_TRUE(has_scope({"search:*"}, "search:calendar"));
  EXPECT_FALSE(has_scope({"search:sms"}, "search:calendar"));
  EXPECT_FALSE(has_scope({"chat"}, "search:sms"));
}

TEST(ServerAuth, TokensAreStoredHashedAndCheckedAgainstTheHash) {
  const std::string dir = test::temp_dir();
  const std::string token = add_app(dir, "日历助手", "chat,search:calendar");
  ASSERT_EQ(token.size(), 67u);
  EXPECT_EQ(token.rfind("pm-", 0), 0u);
  // The file holds the SHA-256 of the token, never the token.
  const std::string file = test::read_text(dir + "/apps.sqlite");
  EXPECT_EQ(file.find(token.substr(3)), std::string::npos);
  EXPECT_NE(file.find(sha256_hex(token)), std::string::npos);
  // SHA-256("abc") from FIPS 180-2.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Result<std::unique_ptr<AppRegistry>> opened = AppRegistry::open(dir);
  ASSERT_TRUE(opened.is_ok());
  std::unique_ptr<AppRegistry> reg = std::move(opened).value();
  auto found = reg->authenticate(token);
  ASSERT_TRUE(found.is_ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->name, "日历助手");
  EXPECT_EQ((*found)->scopes, (std::vector<std::string>{"chat", "search:calendar"}));
  std::string wrong = token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_FALSE(reg->authenticate(wrong)->has_value());
  EXPECT_FALSE(reg->add("日历助手", {"chat"}).is_ok());  // names are unique
  ASSERT_TRUE(reg->remove("日历助手").is_ok());
  EXPECT_FALSE(reg->authenticate(token)->has_value());
  EXPECT_EQ(reg->remove("日历助手").code(), StatusCode::kNotFound);
}

TEST(ServerAuth, AppsVerbsPrintTheTokenOnceAndListWithoutIt) {
  const std::string dir = test::temp_dir();
  auto add = test::run_pocketmind({"apps", "add", "--db", dir, "notes-app", "--scopes", "chat,search:note"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const std::string token = add.out.substr(0, add.out.find('\n'));
  EXPECT_EQ(token.size(), 67u);
  auto list = test::run_pocketmind({"apps", "list", "--db", dir, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const Json j = Json::parse(list.out);
  ASSERT_EQ(j["apps"].size(), 1u);
  EXPECT_EQ(j["apps"][0]["name"], "notes-app");
  EXPECT_EQ(list.out.find(token), std::string::npos);
  auto bad = test::run_pocketmind({"apps", "add", "--db", dir, "x", "--scopes", "search:diary"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("search:diary"), std::string::npos) << bad.err;
  EXPECT_EQ(test::run_pocketmind({"apps", "remove", "--db", dir, "notes-app"}).exit_code, 0);
  EXPECT_NE(test::run_pocketmind({"apps", "remove", "--db", dir, "notes-app"}).exit_code, 0);
}

TEST(ServerConfigTest, RefusesNonLoopbackWithoutTheFlag) {
  ServerConfig c;
  c.db_dir = test::temp_dir();
  c.host = "0.0.0.0";
  Result<std::unique_ptr<Server>> s = Server::create(c, {});
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("--allow-remote"), std::string::npos);
}

// ---- no model: auth, assistant endpoints, error objects -----------------------------------------

TEST(ServerHttp, AuthFailuresAndScopeDenialsAreLogged) {
  ServerConfig c;
  c.db_dir = test::temp_dir();
  const std::string chat_token = add_app(c.db_dir, "chat-only", "chat");
  auto r = start(c, {});
  ASSERT_TRUE(r);
  auto cl = r->client();
  auto health = cl.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  expect_error(cl.Get("/v1/models"), 401);
  expect_error(cl.Get("/v1/models", bearer("pm-0000")), 401);
  expect_error(cl.Get("/v1/models", httplib::Headers{{"Authorization", "Basic abc"}}), 401);
  auto models = cl.Get("/v1/models", bearer(chat_token));
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 200);
  EXPECT_EQ(Json::parse(models->body)["object"], "list");
  const Json e =
      expect_error(cl.Post("/v1/embeddings", bearer(chat_token), R"({"input":"hi"})", "application/json"), 403);
  EXPECT_NE(e["message"].get<std::string>().find("embeddings"), std::string::npos);
  expect_error(cl.Post("/v1/pocketmind/search", bearer(chat_token), R"({"query":"妈妈"})", "application/json"), 403);
  expect_error(cl.Post("/v1/pocketmind/ask", bearer(chat_token), "{}", "application/json"), 403);
  const std::string log = test::read_text(c.db_dir + "/access.log");
  EXPECT_NE(log.find("denied 401"), std::string::npos);
  EXPECT_NE(log.find("denied 403"), std::string::npos);
  EXPECT_NE(log.find("chat-only"), std::string::npos);
  expect_error(cl.Get("/no/such/route", bearer(chat_token)), 404);
}

TEST(ServerHttp, IngestSearchAndForgetAreGatedPerSource) {
  ServerConfig c;
  c.db_dir = test::temp_dir();
  const std::string writer = add_app(c.db_dir, "importer", "write:sms,write:note");
  const std::string sms_reader = add_app(c.db_dir, "sms-reader", "search:sms,forget,write:sms");
  const std::string all_reader = add_app(c.db_dir, "all-reader", "search:*,ask");
  auto r = start(c, {});
  ASSERT_TRUE(r);
  auto cl = r->client();
  const std::string records =
      R"({"id":"sms-1","source":"sms","time":"2026-11-20T08:15:00+08:00","sender":"妈妈","recipients":["me"],"text":"周六回家吃饭吗？"})"
      "\n"
      R"({"id":"note-1","source":"note","time":"2026-11-21T09:00:00+08:00","title":"购物","text":"周六买菜 回家吃饭"})"
      "\n";
  auto ing = cl.Post("/v1/pocketmind/ingest", bearer(writer), records, "application/x-ndjson");
  ASSERT_TRUE(ing);
  ASSERT_EQ(ing->status, 200) << ing->body;
  EXPECT_EQ(Json::parse(ing->body)["added"], 2);
  // Writing a source without its write scope is refused as a whole.
  const std::string cal = R"([{"id":"cal-1","source":"calendar","time":"2026-11-22T10:00:00+08:00","title":"开会"}])";
  expect_error(cl.Post("/v1/pocketmind/ingest", bearer(writer), cal, "application/json"), 403);
  expect_error(cl.Post("/v1/pocketmind/ingest", bearer(writer), "{not json", "application/json"), 400);

  const std::string q = R"({"query":"回家吃饭","now":"2026-11-25T12:00:00+08:00"})";
  auto all = cl.Post("/v1/pocketmind/search", bearer(all_reader), q, "application/json");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200) << all->body;
  EXPECT_EQ(Json::parse(all->body)["hits"].size(), 2u);
  auto sms = cl.Post("/v1/pocketmind/search", bearer(sms_reader), q, "application/json");
  ASSERT_TRUE(sms);
  ASSERT_EQ(sms->status, 200) << sms->body;
  const Json hits = Json::parse(sms->body)["hits"];
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["id"], "sms-1");
  expect_error(cl.Post("/v1/pocketmind/search", bearer(sms_reader), R"({"query":""})", "application/json"), 400);
  expect_error(cl.Post("/v1/pocketmind/search", bearer(sms_reader), R"({"query":"x","k":0})", "application/json"), 400);

  // forget needs write on the record's source.
  expect_error(cl.Post("/v1/pocketmind/forget", bearer(sms_reader), R"({"id":"note-1"})", "application/json"), 403);
  auto f = cl.Post("/v1/pocketmind/forget", bearer(sms_reader), R"({"id":"sms-1"})", "application/json");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, 200) << f->body;
  expect_error(cl.Post("/v1/pocketmind/forget", bearer(sms_reader), R"({"id":"sms-1"})", "application/json"), 404);
  auto all2 = cl.Post("/v1/pocketmind/search", bearer(all_reader), q, "application/json");
  EXPECT_EQ(Json::parse(all2->body)["hits"].size(), 1u);

  // ask answers from the records the app may read, and only from those.
  expect_error(cl.Post("/v1/pocketmind/ask", bearer(all_reader), "{}", "application/json"), 400);
  const std::string question = R"({"question":"买菜的笔记","now":"2026-11-25T12:00:00+08:00"})";
  auto a = cl.Post("/v1/pocketmind/ask", bearer(all_reader), question, "application/json");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->status, 200) << a->body;
  const Json answer = Json::parse(a->body);
  EXPECT_EQ(answer["citations"], Json::array({"note-1"})) << a->body;
  const std::string sms_asker = add_app(c.db_dir, "sms-asker", "search:sms,ask");
  auto hidden = cl.Post("/v1/pocketmind/ask", bearer(sms_asker), question, "application/json");
  ASSERT_TRUE(hidden);
  ASSERT_EQ(hidden->status, 200) << hidden->body;
  EXPECT_TRUE(Json::parse(hidden->body)["citations"].empty()) << hidden->body;
  expect_error(cl.Post("/v1/pocketmind/ask", bearer(sms_reader), question, "application/json"), 403);  // no "ask"
}

TEST(ServerHttp, AutomationsParseAndList) {
  ServerConfig c;
  c.db_dir = test::temp_dir();
  const std::string app = add_app(c.db_dir, "rules", "automations");
  const std::string other = add_app(c.db_dir, "chat-only", "chat");
  auto r = start(c, {});
  ASSERT_TRUE(r);
  auto cl = r->client();
  const std::string body = R"({"text":"每周一到周五早上6点半播报当天天气","now":"2026-11-24T09:00:00+08:00"})";
  auto p = cl.Post("/v1/pocketmind/automations/parse", bearer(app), body, "application/json");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->status, 200) << p->body;
  const Json j = Json::parse(p->body);
  ASSERT_EQ(j["rules"].size(), 1u);
  EXPECT_EQ(j["rules"][0]["triggers"][0],
            Json::parse(R"({"type":"time","at":"06:30","weekdays":["mon","tue","wed","thu","fri"]})"));
  EXPECT_EQ(j["rules"][0]["actions"][0], Json::parse(R"({"tool":"weather.read","args":{"when":"today"}})"));
  EXPECT_FALSE(j["confirmation"].get<std::string>().empty());
  expect_error(cl.Post("/v1/pocketmind/automations/parse", bearer(app), R"({"text":"asdf qwer"})", "application/json"), 400);
  expect_error(cl.Post("/v1/pocketmind/automations/parse", bearer(other), body, "application/json"), 403);
  auto list = cl.Get("/v1/pocketmind/automations", bearer(app));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  EXPECT_TRUE(Json::parse(list->body)["rules"].empty());
}

// The tool registry over HTTP: scope "tools", validation errors as 400 naming the problem, only
// the registering app may remove its tool, and automations/parse sees registered tools.
TEST(ServerHttp, ToolsRegisterListRemoveWithOwnership) {
  ServerConfig c;
  c.db_dir = test::temp_dir();
  const std::string taxi = add_app(c.db_dir, "taxi-app", "tools");
  const std::string food = add_app(c.db_dir, "food-app", "tools");
  const std::string chat = add_app(c.db_dir, "chat-only", "chat");
  auto r = start(c, {});
  ASSERT_TRUE(r);
  auto cl = r->client();
  const std::string tool = R"({"name": "taxi_app.order", "description": "叫车 Order a taxi",
    "parameters": {"type": "object", "properties": {"destination": {"type": "string"}}, "required": ["destination"]}})";
  auto added = cl.Post("/v1/pocketmind/tools", bearer(taxi), tool, "application/json");
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 201) << added->body;
  EXPECT_EQ(Json::parse(added->body)["owner"], "taxi-app");
  expect_error(cl.Post("/v1/pocketmind/tools", bearer(chat), tool, "application/json"), 403);  // no "tools" scope
  expect_error(cl.Post("/v1/pocketmind/tools", tool, "application/json"), 401);
  // Validation: taken name, built-in name, bad name, schema not an object, bad JSON, unknown field.
  EXPECT_NE(expect_error(cl.Post("/v1/pocketmind/tools", bearer(food), tool, "application/json"), 400)["message"]
                .get<std::string>()
                .find("already registered"),
            std::string::npos);
  EXPECT_NE(expect_error(cl.Post("/v1/pocketmind/tools", bearer(food),
                                 R"({"name":"alarm.set","description":"d","parameters":{"type":"object"}})",
                                 "application/json"),
                         400)["message"]
                .get<std::string>()
                .find("built-in"),
            std::string::npos);
  expect_error(cl.Post("/v1/pocketmind/tools", bearer(food),
                       R"({"name":"Food","description":"d","parameters":{"type":"object"}})", "application/json"), 400);
  expect_error(cl.Post("/v1/pocketmind/tools", bearer(food),
                       R"({"name":"food.order","description":"d","parameters":{"type":"array"}})", "application/json"),
               400);
  expect_error(cl.Post("/v1/pocketmind/tools", bearer(food), "{not json", "application/json"), 400);
  expect_error(cl.Post("/v1/pocketmind/tools", bearer(food),
                       R"({"name":"food.order","description":"d","parameters":{"type":"object"},"x":1})",
                       "application/json"),
               400);

  auto list = cl.Get("/v1/pocketmind/tools", bearer(food));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  const Json tools = Json::parse(list->body)["tools"];
  ASSERT_EQ(tools.size(), 1u);
  EXPECT_EQ(tools[0]["name"], "taxi_app.order");
  EXPECT_EQ(tools[0]["owner"], "taxi-app");
  auto with_builtin = cl.Get("/v1/pocketmind/tools?builtin=1", bearer(food));
  ASSERT_TRUE(with_builtin);
  EXPECT_GT(Json::parse(with_builtin->body)["tools"].size(), 1u);

  // Another app cannot remove it; the owner can; then it is gone (404).
  expect_error(cl.Delete("/v1/pocketmind/tools/taxi_app.order", bearer(food)), 403);
  auto del = cl.Delete("/v1/pocketmind/tools/taxi_app.order", bearer(taxi));
  ASSERT_TRUE(del);
  ASSERT_EQ(del->status, 200) << del->body;
  expect_error(cl.Delete("/v1/pocketmind/tools/taxi_app.order", bearer(taxi)), 404);
}

TEST(ServerHttp, TranslateWithoutAModelIs503AndNeedsChatScope) {
  ServerConfig c;
  c.db_dir = test::temp_dir();
  const std::string app = add_app(c.db_dir, "app", "chat");
  const std::string other = add_app(c.db_dir, "other", "embeddings");
  auto r = start(c, {});
  ASSERT_TRUE(r);
  auto cl = r->client();
  const std::string body = R"({"to":"en","text":"你好。"})";
  expect_error(cl.Post("/v1/pocketmind/translate", bearer(app), body, "application/json"), 503);
  expect_error(cl.Post("/v1/pocketmind/translate", bearer(other), body, "application/json"), 403);
}

TEST(ServerHttp, ChatToolsRegisteredNeedsRegisteredTools) {
  ServerConfig c;
  c.db_dir = test::temp_dir();
  const std::string app = add_app(c.db_dir, "app", "chat");
  auto r = start(c, {});
  ASSERT_TRUE(r);
  auto cl = r->client();
  // No tools registered yet: a 400 that says so (checked before any model is needed).
  const Json e = expect_error(cl.Post("/v1/chat/completions", bearer(app),
                                      R"({"messages":[{"role":"user","content":"hi"}],"tools":"registered"})",
                                      "application/json"),
                              400);
  EXPECT_EQ(e["param"], "tools");
  EXPECT_NE(e["message"].get<std::string>().find("no tools are registered"), std::string::npos) << e.dump();
  expect_error(cl.Post("/v1/chat/completions", bearer(app),
                       R"({"messages":[{"role":"user","content":"hi"}],"tools":"all"})", "application/json"),
               400);
}

TEST(ServerHttp, MalformedBodiesGet400WithTheField) {
  ServerConfig c;
  c.db_dir = test::temp_dir();
  const std::string token = add_app(c.db_dir, "app", "chat,completions,embeddings");
  auto r = start(c, {});
  ASSERT_TRUE(r);
  auto cl = r->client();
  auto post = [&](const std::string& path, const std::string& body) {
    return cl.Post(path, bearer(token), body, "application/json");
  };
  expect_error(post("/v1/chat/completions", "{"), 400);
  expect_error(post("/v1/chat/completions", "[]"), 400);
  EXPECT_EQ(expect_error(post("/v1/chat/completions", R"({"messages":[]})"), 400)["param"], "messages");
  EXPECT_EQ(
      expect_error(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}],"temperature":"hot"})"),
                   400)["param"],
      "temperature");
  EXPECT_EQ(
      expect_error(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":-3})"),
                   400)["param"],
      "max_tokens");
  EXPECT_EQ(
      expect_error(post("/v1/chat/completions", R"({"messages":[{"role":"wizard","content":"hi"}]})"), 400)["param"],
      "messages[0].role");
  EXPECT_EQ(expect_error(post("/v1/chat/completions",
                              R"({"messages":[{"role":"user","content":"hi"}],"tool_choice":"required"})"),
                         400)["param"],
            "tool_choice");
  EXPECT_EQ(expect_error(post("/v1/embeddings", R"({"input":[1,2]})"), 400)["param"], "input");
  EXPECT_EQ(expect_error(post("/v1/completions", R"({"prompt":5})"), 400)["param"], "prompt");
  // Valid request, but no model loaded: 503.
  expect_error(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}]})"), 503);
}

TEST(ServerHttp, CorruptedBodiesNeverCrashAndGet4xxWithAReason) {
  ServerConfig c;
  c.db_dir = test::temp_dir();
  const std::string token = add_app(c.db_dir, "fuzz", "chat,completions,embeddings,search:*,write:*,forget");
  auto r = start(c, {});
  ASSERT_TRUE(r);
  auto cl = r->client();
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"/v1/chat/completions",
       R"({"model":"m","messages":[{"role":"user","content":"你好"}],"stream":true,"max_tokens":4,"stop":["\n"],)"
       R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto",)"
       R"("response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}}})"},
      {"/v1/completions", R"({"prompt":"abc","max_tokens":3,"temperature":0.5,"seed":1})"},
      {"/v1/embeddings", R"({"input":["a","b"],"encoding_format":"float"})"},
      {"/v1/pocketmind/search", R"({"query":"妈妈 上周","k":3,"now":"2026-11-25T12:00:00+08:00"})"},
      {"/v1/pocketmind/ingest", R"({"id":"s1","source":"sms","time":"2026-11-20T08:15:00+08:00","text":"hi"})"},
      {"/v1/pocketmind/forget", R"({"id":"nope"})"}};
  uint64_t state = 12345;  // a fixed LCG: the same corpus every run
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state >> 33);
  };
  int n = 0;
  for (const auto& [path, seed] : seeds) {
    for (int i = 0; i < 60; ++i) {
      std::string body = seed;
      const int edits = 1 + int(next() % 4);
      for (int e = 0; e < edits && !body.empty(); ++e) {
        const size_t at = next() % body.size();
        switch (next() % 4) {
          case 0:
            body[at] = char(next() & 0xff);
            break;  // flip a byte
          case 1:
            body.resize(at);
            break;  // truncate
          case 2:
            body.insert(at, 1, "{}[]\",:0-e\xff"[next() % 12]);
            break;  // insert structure
          case 3:
            body.erase(at, 1 + next() % 8);
            break;  // delete a run
        }
      }
      auto res = cl.Post(path, bearer(token), body, "application/json");
      ASSERT_TRUE(res) << "the server went away on " << path << " body " << body;
      // 2xx (the mutation was still valid), 4xx with an error object, or 503 (no model loaded).
      if (res->status >= 400) {
        EXPECT_TRUE(res->status < 500 || res->status == 503) << path << " " << body << " -> " << res->body;
        const Json j = Json::parse(res->body, nullptr, false);
        EXPECT_TRUE(j.is_object() && j.contains("error") && j["error"]["message"].is_string()) << res->body;
      }
      ++n;
    }
  }
  EXPECT_EQ(n, 360);
  auto health = cl.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

// ---- with a chat model --------------------------------------------------------------------------

class ChatServer : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = test::fixture("gguf/qwen2-bpe-tiny-f16.gguf");
    if (path.empty())
      GTEST_SKIP() << "fixture gguf/qwen2-bpe-tiny-f16.gguf not found under ../shared/fixtures; skipping";
    model_ = load_chat_model(path);
    ASSERT_TRUE(model_);
    config_.db_dir = test::temp_dir();
    config_.scheduler.n_ctx = 512;
    token_ = add_app(config_.db_dir, "chat-app", "chat,completions,search:sms");
  }
  std::unique_ptr<Running> run() { return start(config_, model_->served); }
  httplib::Result post(const Running& r, const std::string& path, const Json& body) {
    return r.client().Post(path, bearer(token_), body.dump(), "application/json");
  }

  std::unique_ptr<Loaded> model_;
  ServerConfig config_;
  std::string token_;
};

TEST_F(ChatServer, ChatCompletionWireFormatAndUsage) {
  auto r = run();
  ASSERT_TRUE(r);
  Json body = {{"model", "tiny"},
               {"messages", {{{"role", "system"}, {"content", "你是助手。"}}, {{"role", "user"}, {"content", "你好"}}}},
               {"max_tokens", 8},
               {"ignore_eos", true},
               {"seed", 7}};
  auto res = post(*r, "/v1/chat/completions", body);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const Json j = Json::parse(res->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_TRUE(j["created"].is_number_integer());
  EXPECT_EQ(j["model"], "tiny");
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["index"], 0);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
  // ignore_eos: exactly max_tokens tokens, finish "length".
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 8);
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int64_t>(), 4);
  EXPECT_EQ(j["usage"]["total_tokens"].get<int64_t>(),
            j["usage"]["prompt_tokens"].get<int64_t>() + j["usage"]["completion_tokens"].get<int64_t>());
}

TEST_F(ChatServer, StreamingUsesSseFramingAndEndsWithDone) {
  auto r = run();
  ASSERT_TRUE(r);
  Json body = {{"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}},
               {"max_tokens", 12},
               {"ignore_eos", true},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  auto res = post(*r, "/v1/chat/completions", body);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  const std::vector<std::string> events = sse_payloads(res->body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  const Json first = Json::parse(events[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  std::string id = first["id"];
  int finishes = 0;
  Json usage;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const Json c = Json::parse(events[i]);
    EXPECT_EQ(c["id"], id);
    if (c.contains("usage")) {
      usage = c["usage"];
      EXPECT_TRUE(c["choices"].empty());
      continue;
    }
    if (!c["choices"][0]["finish_reason"].is_null()) {
      ++finishes;
      EXPECT_EQ(c["choices"][0]["finish_reason"], "length");
    }
  }
  EXPECT_EQ(finishes, 1);
  ASSERT_TRUE(usage.is_object()) << "include_usage asked for a usage chunk";
  EXPECT_EQ(usage["completion_tokens"], 12);
}

TEST_F(ChatServer, CompletionsEndpoint) {
  auto r = run();
  ASSERT_TRUE(r);
  auto res = post(*r, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 5}, {"ignore_eos", true}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const Json j = Json::parse(res->body);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_TRUE(j["choices"][0]["text"].is_string());
  EXPECT_EQ(j["usage"]["completion_tokens"], 5);
}

TEST_F(ChatServer, JsonSchemaResponseIsValidJson) {
  auto r = run();
  ASSERT_TRUE(r);
  const Json schema = {{"type", "object"},
                       {"properties",
                        {{"city", {{"type", "string"}, {"enum", {"Paris", "北京"}}}},
                         {"days", {{"type", "integer"}, {"enum", {1, 2, 3}}}}}},
                       {"required", {"city", "days"}},
                       {"additionalProperties", false}};
  Json body = {{"messages", {{{"role", "user"}, {"content", "Where and how long?"}}}},
               {"max_tokens", 200},
               {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "trip"}, {"schema", schema}}}}}};
  auto res = post(*r, "/v1/chat/completions", body);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const Json j = Json::parse(res->body);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  const Json v = Json::parse(j["choices"][0]["message"]["content"].get<std::string>(), nullptr, false);
  ASSERT_FALSE(v.is_discarded()) << j["choices"][0]["message"]["content"];
  EXPECT_TRUE(validate_json(schema, v).is_ok()) << v.dump();
}

TEST_F(ChatServer, ToolCallRoundTrip) {
  auto r = run();
  ASSERT_TRUE(r);
  const Json tools = Json::array({{{"type", "function"},
                                   {"function",
                                    {{"name", "get_weather"},
                                     {"description", "Weather of a city"},
                                     {"parameters",
                                      {{"type", "object"},
                                       {"properties", {{"city", {{"type", "string"}, {"enum", {"上海", "Berlin"}}}}}},
                                       {"required", {"city"}},
                                       {"additionalProperties", false}}}}}}});
  Json body = {{"messages", {{{"role", "user"}, {"content", "上海天气怎么样？"}}}},
               {"tools", tools},
               {"tool_choice", "required"},
               {"max_tokens", 120}};
  auto res = post(*r, "/v1/chat/completions", body);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const Json j = Json::parse(res->body);
  const Json& msg = j["choices"][0]["message"];
  ASSERT_TRUE(msg.contains("tool_calls")) << res->body;
  EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
  const Json& call = msg["tool_calls"][0];
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["id"].get<std::string>().rfind("call_", 0), 0u);
  EXPECT_EQ(call["function"]["name"], "get_weather");
  const Json args = Json::parse(call["function"]["arguments"].get<std::string>());
  EXPECT_TRUE(args["city"] == "上海" || args["city"] == "Berlin") << args.dump();
  // Second turn: the tool's answer goes back; the server answers with text.
  Json turn2 = {{"messages",
                 {{{"role", "user"}, {"content", "上海天气怎么样？"}},
                  {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", msg["tool_calls"]}},
                  {{"role", "tool"}, {"tool_call_id", call["id"]}, {"content", "晴，25°C"}}}},
                {"tools", tools},
                {"tool_choice", "none"},
                {"max_tokens", 6}};
  auto res2 = post(*r, "/v1/chat/completions", turn2);
  ASSERT_TRUE(res2);
  ASSERT_EQ(res2->status, 200) << res2->body;
  EXPECT_FALSE(Json::parse(res2->body)["choices"][0]["message"].contains("tool_calls"));
}

// "tools": "registered" offers the tools apps registered: a forced call names one of them with
// args under its schema.
TEST_F(ChatServer, RegisteredToolsAreOfferedWhenAsked) {
  const std::string tools_app = add_app(config_.db_dir, "taxi-app", "tools");
  auto r = run();
  ASSERT_TRUE(r);
  auto reg = r->client().Post("/v1/pocketmind/tools", bearer(tools_app),
                              R"({"name": "taxi_app.order", "description": "叫车",
    "parameters": {"type": "object", "properties": {"car": {"enum": ["economy", "comfort"]}},
                   "required": ["car"], "additionalProperties": false}})",
                              "application/json");
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->status, 201) << reg->body;
  Json body = {{"messages", {{{"role", "user"}, {"content", "帮我叫车"}}}},
               {"tools", "registered"},
               {"tool_choice", "required"},
               {"max_tokens", 80}};
  auto res = post(*r, "/v1/chat/completions", body);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const Json j = Json::parse(res->body);
  const Json& msg = j["choices"][0]["message"];
  ASSERT_TRUE(msg.contains("tool_calls")) << res->body;
  EXPECT_EQ(msg["tool_calls"][0]["function"]["name"], "taxi_app.order");
  const Json args = Json::parse(msg["tool_calls"][0]["function"]["arguments"].get<std::string>());
  EXPECT_TRUE(args["car"] == "economy" || args["car"] == "comfort") << args.dump();
}

// Translation through the server: one SSE event per completed segment (sentence boundaries from
// the segmenter), in order, then [DONE]. The fixture model has random weights, so only the shape
// and the segmentation are asserted, not the translations.
TEST_F(ChatServer, TranslateStreamsOneEventPerSegment) {
  auto r = run();
  ASSERT_TRUE(r);
  const std::string text = "下个月开始房租要涨到六千五。你觉得怎么样？I will call you back tonight. Bye";
  Json body = {{"to", "en"}, {"text", text}, {"stream", true}, {"max_tokens", 4}};
  auto res = post(*r, "/v1/pocketmind/translate", body);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  const std::vector<std::string> payloads = sse_payloads(res->body);
  ASSERT_EQ(payloads.size(), 5u) << res->body;  // four segments, then [DONE]
  const std::vector<std::string> sources = {"下个月开始房租要涨到六千五。", "你觉得怎么样？",
                                            "I will call you back tonight.", "Bye"};
  for (size_t i = 0; i < sources.size(); ++i) {
    const Json e = Json::parse(payloads[i]);
    EXPECT_EQ(e["index"], i);
    EXPECT_EQ(e["source"], sources[i]);
    EXPECT_TRUE(e["translation"].is_string());
  }
  EXPECT_EQ(payloads.back(), "[DONE]");

  // Whole: the same segments in one answer.
  body["stream"] = false;
  body["to"] = "zh";
  auto whole = post(*r, "/v1/pocketmind/translate", body);
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  const Json j = Json::parse(whole->body);
  EXPECT_EQ(j["to"], "zh");
  ASSERT_EQ(j["segments"].size(), sources.size());
  for (size_t i = 0; i < sources.size(); ++i) EXPECT_EQ(j["segments"][i]["source"], sources[i]);
  EXPECT_TRUE(j["translation"].is_string());

  // Bad requests name the field.
  EXPECT_EQ(expect_error(post(*r, "/v1/pocketmind/translate", {{"to", "fr"}, {"text", "hi"}}), 400)["param"], "to");
  EXPECT_EQ(expect_error(post(*r, "/v1/pocketmind/translate", {{"to", "en"}, {"text", ""}}), 400)["param"], "text");
  EXPECT_EQ(expect_error(post(*r, "/v1/pocketmind/translate", {{"to", "en"}, {"text", "   "}}), 400)["param"], "text");
  EXPECT_EQ(expect_error(post(*r, "/v1/pocketmind/translate", {{"to", "en"}, {"text", "hi"}, {"stream", "yes"}}), 400)["param"],
            "stream");
  EXPECT_EQ(
      expect_error(post(*r, "/v1/pocketmind/translate", {{"to", "en"}, {"text", "hi"}, {"max_tokens", 0}}), 400)["param"],
      "max_tokens");
  EXPECT_EQ(expect_error(post(*r, "/v1/pocketmind/translate", {{"to", "en"}, {"text", "hi"}, {"x", 1}}), 400)["param"], "x");
  expect_error(r->client().Post("/v1/pocketmind/translate", bearer(token_), std::string("{\"to\":\"en\",\"text\":\"\xff\"}"),
                                "application/json"),
               400);
}

TEST_F(ChatServer, StreamedToolCallArrivesWhole) {
  auto r = run();
  ASSERT_TRUE(r);
  const Json tools = Json::array({{{"type", "function"},
                                   {"function",
                                    {{"name", "set_alarm"},
                                     {"parameters",
                                      {{"type", "object"},
                                       {"properties", {{"time", {{"type", "string"}, {"enum", {"06:30"}}}}}},
                                       {"required", {"time"}},
                                       {"additionalProperties", false}}}}}}});
  Json body = {{"messages", {{{"role", "user"}, {"content", "明早6:30叫我"}}}},
               {"tools", tools},
               {"tool_choice", "required"},
               {"max_tokens", 120},
               {"stream", true}};
  auto res = post(*r, "/v1/chat/completions", body);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const auto events = sse_payloads(res->body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  int calls = 0;
  std::string finish;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const Json c = Json::parse(events[i]);
    const Json& d = c["choices"][0]["delta"];
    if (d.contains("tool_calls")) {
      ++calls;
      EXPECT_EQ(d["tool_calls"][0]["function"]["name"], "set_alarm");
      EXPECT_EQ(Json::parse(d["tool_calls"][0]["function"]["arguments"].get<std::string>())["time"], "06:30");
    }
    if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(finish, "tool_calls");
}

TEST_F(ChatServer, SharedSystemPromptIsNotRecomputed) {
  config_.scheduler.n_parallel = 1;
  auto r = run();
  ASSERT_TRUE(r);
  const std::string system = "You are a careful assistant for a family. 你是一个细心的家庭助手，回答要简短。";
  auto ask = [&](const std::string& q) {
    auto res = post(*r, "/v1/chat/completions",
                    {{"messages", {{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", q}}}},
                     {"max_tokens", 2}});
    EXPECT_TRUE(res && res->status == 200);
    return Json::parse(res->body)["usage"];
  };
  const Json u1 = ask("What is on today?");
  EXPECT_EQ(u1["prompt_tokens_details"]["cached_tokens"], 0);
  const Json u2 = ask("明天呢？");
  const int64_t cached = u2["prompt_tokens_details"]["cached_tokens"];
  // Everything up to the user's text is shared: at least the system prompt's ~30 tokens.
  EXPECT_GT(cached, 20);
  EXPECT_LT(cached, u2["prompt_tokens"].get<int64_t>());
  const Json m = metrics(*r, token_);
  EXPECT_EQ(m["prompt_tokens_cached_total"], cached);
}

TEST_F(ChatServer, LongPromptIsEvaluatedInChunksWhileAnotherStreamDecodes) {
  config_.scheduler.n_parallel = 2;
  auto r = run();
  ASSERT_TRUE(r);
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "第" + std::to_string(i) + "段 some words here. ";
  std::thread other([&] {
    auto res =
        post(*r, "/v1/chat/completions",
             {{"messages", {{{"role", "user"}, {"content", "short"}}}}, {"max_tokens", 20}, {"ignore_eos", true}});
    EXPECT_TRUE(res && res->status == 200);
  });
  auto res =
      post(*r, "/v1/chat/completions",
           {{"messages", {{{"role", "user"}, {"content", long_text}}}}, {"max_tokens", 3}, {"ignore_eos", true}});
  other.join();
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const Json u = Json::parse(res->body)["usage"];
  EXPECT_GT(u["prompt_tokens"].get<int64_t>(), 256);  // more than one chunk
  EXPECT_EQ(u["completion_tokens"], 3);
  // A prompt longer than a slot's context is refused up front.
  std::string too_long;
  for (int i = 0; i < 200; ++i) too_long += "很长的句子 words words. ";
  const Json e =
      expect_error(post(*r, "/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", too_long}}}}}), 400);
  EXPECT_EQ(e["code"], "context_length_exceeded");
}

TEST_F(ChatServer, FullQueueIs429AndDisconnectFreesTheSlot) {
  config_.scheduler.n_parallel = 1;
  config_.scheduler.queue_size = 1;
  auto r = run();
  ASSERT_TRUE(r);
  // Two long streams fill the one slot and the one queue place; the clients hang up after
  // their first piece of text.
  Json body = {{"messages", {{{"role", "user"}, {"content", "Count forever"}}}},
               {"max_tokens", 100000},
               {"ignore_eos", true},
               {"stream", true}};
  std::atomic<int> received{0};
  std::atomic<bool> hang_up{false};
  auto stream = [&] {
    httplib::Client c("127.0.0.1", r->port);
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.headers = bearer(token_);
    req.body = body.dump();
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) {
      ++received;
      return !hang_up.load();
    };
    (void)c.send(req);
  };
  std::thread a(stream), b(stream);
  ASSERT_TRUE(wait_until([&] {
    const Json m = metrics(*r, token_);
    return m.is_object() && m["active_slots"] == 1 && m["queue_depth"] == 1;
  }));
  auto full = post(*r, "/v1/chat/completions", body);
  expect_error(full, 429);
  EXPECT_EQ(full->get_header_value("Retry-After"), "1");
  hang_up = true;
  a.join();
  b.join();
  // Both generations end at once although they had 100000 tokens to go.
  EXPECT_TRUE(wait_until([&] {
    const Json m = metrics(*r, token_);
    return m.is_object() && m["active_slots"] == 0 && m["queue_depth"] == 0;
  }));
  auto again =
      post(*r, "/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 2}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(ChatServer, CloudRouteWithPrivacyRuleAndRemoteDown) {
  // The remote: a second server on another loopback port.
  ServerConfig remote_cfg = config_;
  remote_cfg.db_dir = test::temp_dir();
  remote_cfg.model_name = "remote-model";
  const std::string remote_token = add_app(remote_cfg.db_dir, "edge", "chat");
  auto remote = start(remote_cfg, model_->served);
  ASSERT_TRUE(remote);
  config_.cloud.url = "http://127.0.0.1:" + std::to_string(remote->port);
  config_.cloud.model = "remote-model";
  config_.cloud.api_key = remote_token;
  config_.cloud.allowed_sources = {"note"};
  config_.model_name = "local-model";
  auto local = run();
  ASSERT_TRUE(local);
  Json body = {
      {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 3}, {"pocketmind", {{"route", "cloud"}}}};
  auto res = post(*local, "/v1/chat/completions", body);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("X-Pocketmind-Route"), "cloud");
  EXPECT_EQ(Json::parse(res->body)["model"], "remote-model");
  // Personal data from sms: not enabled for the cloud, so answered locally.
  body["pocketmind"]["sources"] = {"sms"};
  auto priv = post(*local, "/v1/chat/completions", body);
  ASSERT_TRUE(priv);
  ASSERT_EQ(priv->status, 200) << priv->body;
  EXPECT_EQ(priv->get_header_value("X-Pocketmind-Route"), "local");
  EXPECT_NE(priv->get_header_value("X-Pocketmind-Route-Reason").find("sms"), std::string::npos);
  EXPECT_EQ(Json::parse(priv->body)["model"], "local-model");
  // An app may not claim sources it cannot read.
  body["pocketmind"]["sources"] = {"calendar"};
  expect_error(post(*local, "/v1/chat/completions", body), 403);
  // The remote goes down: local answer, no hang.
  remote.reset();
  body["pocketmind"].erase("sources");
  auto down = post(*local, "/v1/chat/completions", body);
  ASSERT_TRUE(down);
  ASSERT_EQ(down->status, 200) << down->body;
  EXPECT_EQ(down->get_header_value("X-Pocketmind-Route"), "local");
  EXPECT_FALSE(down->get_header_value("X-Pocketmind-Route-Fallback").empty());
}

TEST(RwkvServer, SharedTurnsRestoreASavedStateInsteadOfRecomputing) {
  PM_REQUIRE_FIXTURE(path, "rwkv/tiny-rwkv-5v2-730K-FP32.bin");
  Result<std::unique_ptr<Model>> model = load_model(path);
  ASSERT_TRUE(model.is_ok()) << model.status().message();
  ASSERT_TRUE((*model)->info().recurrent);
  std::unique_ptr<Tokenizer> tok = make_byte_level_tokenizer();
  ThreadPool pool(1);
  ServedModel served;
  served.model = model->get();
  served.tokenizer = tok.get();
  served.pool = &pool;
  served.chat_template = chat_template_for("", "rwkv");
  ServerConfig c;
  c.db_dir = test::temp_dir();
  c.scheduler.n_parallel = 2;
  const std::string token = add_app(c.db_dir, "rwkv", "chat");
  auto r = start(c, served);
  ASSERT_TRUE(r);
  const std::string system = "You are a terse assistant. Answer in one line.";
  auto ask = [&](const std::string& q) {
    Json body = {{"messages", {{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", q}}}},
                 {"max_tokens", 3}};
    auto res = r->client().Post("/v1/chat/completions", bearer(token), body.dump(), "application/json");
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
    return Json::parse(res->body)["usage"];
  };
  EXPECT_EQ(ask("first question")["prompt_tokens_details"]["cached_tokens"], 0);
  // Byte-level tokens: the system turn alone is longer than the system text.
  const Json u = ask("another one");
  EXPECT_GT(u["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), int64_t(system.size()));
  EXPECT_LT(u["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), u["prompt_tokens"].get<int64_t>());
}

TEST(EmbeddingServer, EmbeddingsAreNormalizedVectors) {
  PM_REQUIRE_FIXTURE(path, "gguf/bert-bge-tiny-f16.gguf");
  Result<std::unique_ptr<store::TextEmbedder>> e = store::TextEmbedder::open(path, 1);
  ASSERT_TRUE(e.is_ok()) << e.status().message();
  ServedModel served;
  served.embedder = e->get();
  ServerConfig c;
  c.db_dir = test::temp_dir();
  const std::string token = add_app(c.db_dir, "emb", "embeddings");
  auto r = start(c, served);
  ASSERT_TRUE(r);
  auto res = r->client().Post("/v1/embeddings", bearer(token), R"({"model":"bge","input":["hello world","你好世界"]})",
                              "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const Json j = Json::parse(res->body);
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(j["data"][i]["object"], "embedding");
    EXPECT_EQ(j["data"][i]["index"], i);
    ASSERT_EQ(j["data"][i]["embedding"].size(), 64u);
    double norm = 0;
    for (const auto& x : j["data"][i]["embedding"]) norm += x.get<double>() * x.get<double>();
    EXPECT_NEAR(norm, 1.0, 1e-3);
  }
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int64_t>(), 0);
}

}  // namespace
}  // namespace pm::server
