// Apps and access control for `pocketmind serve`. Each app that calls the server has a bearer
// token ("pm-" + 64 hex digits from 32 random bytes) and a set of scopes:
//   chat, completions, embeddings        model-only: never see personal data
//   search:<source>, write:<source>      read / write one personal-data source (sms, note, calendar,
//                                        call, photo, contact, email); "search:*" / "write:*" = all
//   forget, ask, automations             the assistant endpoints
// Only the SHA-256 of a token is kept, in DIR/apps.sqlite (DIR: the store directory `serve --db`
// uses):
//   apps(name TEXT PRIMARY KEY, token_sha256 TEXT hex, scopes TEXT comma-separated, created TEXT ISO 8601)
#pragma once

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace pm::server {

inline constexpr const char* kAppsFile = "apps.sqlite";
inline constexpr const char* kAccessLogFile = "access.log";

struct AppInfo {
  std::string name;
  std::vector<std::string> scopes;
  std::string created;
};

// Checks a scope list ("chat,search:sms"): every entry known, no duplicates. Errors name the entry.
Result<std::vector<std::string>> parse_scopes(const std::string& text);
// True when `scopes` grants `wanted` (exact, or "search:*" for any "search:<source>").
bool has_scope(const std::vector<std::string>& scopes, const std::string& wanted);
// SHA-256 of text, lower-case hex (OpenSSL EVP).
std::string sha256_hex(const std::string& text);
// Equal strings, in time independent of where they differ.
bool constant_time_equal(const std::string& a, const std::string& b);

class AppRegistry {
 public:
  static Result<std::unique_ptr<AppRegistry>> open(const std::string& dir);
  ~AppRegistry();
  AppRegistry(const AppRegistry&) = delete;
  AppRegistry& operator=(const AppRegistry&) = delete;

  // Creates an app and returns its token (shown once; only its hash is stored).
  Result<std::string> add(const std::string& name, const std::vector<std::string>& scopes);
  Result<std::vector<AppInfo>> list();
  // kNotFound when there is no such app.
  Status remove(const std::string& name);
  // The app a bearer token belongs to, or nullopt.
  Result<std::optional<AppInfo>> authenticate(const std::string& token);

 private:
  AppRegistry() = default;
  std::mutex mu_;
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace pm::server
