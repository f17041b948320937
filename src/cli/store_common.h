// Pieces the store verbs (ingest, search, forget) share.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "cli/common.h"
#include "core/status.h"
#include "store/sealed_log.h"
#include "store/side_db.h"
#include "store/store.h"
#include "store/store_key.h"
#include "store/time_util.h"

namespace pm::cli {

// --now: an ISO 8601 time, or (empty) the system clock on the local UTC offset.
inline Result<store::Timestamp> parse_now(const std::string& text) {
  if (!text.empty()) {
    Result<store::Timestamp> t = store::parse_iso8601(text);
    if (!t.is_ok()) return t.status().with_context("--now");
    return t;
  }
  store::Timestamp t;
  t.epoch_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::time_t tt = std::time_t(t.epoch_s);
  std::tm tm{};
  if (localtime_r(&tt, &tm)) t.offset_s = int32_t(tm.tm_gmtoff);
  return t;
}

// Encrypted stores: `--passphrase-file FILE` on every verb that opens a store; without it the
// environment variable POCKETMIND_PASSPHRASE is used when set. A file holds the passphrase on its
// first line (one trailing newline is dropped, so `echo secret > FILE` works).
inline constexpr const char* kPassphraseEnv = "POCKETMIND_PASSPHRASE";

inline void add_passphrase_option(CLI::App* cmd, std::string* passphrase_file) {
  cmd->add_option("--passphrase-file", *passphrase_file,
                  "file holding the passphrase of an encrypted store (a new store given one is created "
                  "encrypted); default: the POCKETMIND_PASSPHRASE environment variable");
}

// The passphrase to open the store with ("" = none: a plain store).
inline Result<std::string> read_passphrase(const std::string& passphrase_file) {
  if (passphrase_file.empty()) {
    const char* env = std::getenv(kPassphraseEnv);
    return std::string(env ? env : "");
  }
  std::ifstream in(passphrase_file, std::ios::binary);
  if (!in) return Status::io_error(passphrase_file + ": cannot read the passphrase file (--passphrase-file)");
  std::string text;
  {
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return Status::invalid_argument(passphrase_file + ": the passphrase file is empty (--passphrase-file)");
  if (text.size() > store::kMaxPassphraseBytes)
    return Status::invalid_argument(passphrase_file + ": the passphrase is longer than " +
                                    std::to_string(store::kMaxPassphraseBytes) + " bytes (--passphrase-file)");
  if (text.find('\n') != std::string::npos)
    return Status::invalid_argument(passphrase_file + ": the passphrase file has more than one line (--passphrase-file)");
  return text;
}

// Fills StoreOptions::passphrase from --passphrase-file / POCKETMIND_PASSPHRASE.
inline Status apply_passphrase(const std::string& passphrase_file, store::StoreOptions* options) {
  Result<std::string> p = read_passphrase(passphrase_file);
  if (!p.is_ok()) return p.status();
  options->passphrase = std::move(*p);
  return Status::ok();
}

// The page key for a file beside the store in DIR (automations.sqlite, apps.sqlite, the access
// log), from --passphrase-file / POCKETMIND_PASSPHRASE: nullopt for a plain store, the error
// naming what is missing otherwise (store::side_file_key). Every verb that opens one of them
// goes through here, so they all decide alike.
inline Result<std::optional<store::StoreKey>> side_file_key(const std::string& dir, const std::string& passphrase_file,
                                                            const std::string& side_file, bool create) {
  Result<std::string> p = read_passphrase(passphrase_file);
  if (!p.is_ok()) return p.status();
  return store::side_file_key(dir, *p, side_file, create);
}

// A log beside the store in DIR (the access log, the device call log), read with the key from
// --passphrase-file / POCKETMIND_PASSPHRASE. A DIR with nothing in it has no log either: no lines.
inline Result<store::StoreLogContents> read_log_of(const std::string& dir, const std::string& passphrase_file,
                                                   const store::StoreLogFiles& files) {
  Result<std::optional<store::StoreKey>> key = side_file_key(dir, passphrase_file, files.plain_name, false);
  if (!key.is_ok()) {
    if (key.status().code() == StatusCode::kNotFound) return store::StoreLogContents();
    return key.status();
  }
  return store::read_store_log(dir, *key, files);
}

// `apps log`, `automation calls`: the last `tail` lines of the log (0: all), as text, or with
// --json as {"file", "encrypted", <json_key>: [line_json(line)...], "damaged"}. Lines that failed
// authentication are counted on stderr.
inline int print_log(const char* verb, const store::StoreLogContents& log, int64_t tail, bool json,
                     const char* json_key, const std::function<nlohmann::json(const std::string&)>& line_json) {
  size_t first = 0;
  if (tail > 0 && log.lines.size() > size_t(tail)) first = log.lines.size() - size_t(tail);
  if (json) {
    nlohmann::json lines = nlohmann::json::array();
    for (size_t i = first; i < log.lines.size(); ++i) lines.push_back(line_json(log.lines[i]));
    print_json({{"file", log.path}, {"encrypted", log.encrypted}, {json_key, lines}, {"damaged", log.damaged}});
  } else {
    for (size_t i = first; i < log.lines.size(); ++i) std::printf("%s\n", log.lines[i].c_str());
  }
  if (log.damaged > 0)
    std::fprintf(stderr, "pocketmind %s: %lld line(s) of %s failed authentication (torn by a crash, or altered)\n",
                 verb, (long long)log.damaged, log.path.c_str());
  return 0;
}

}  // namespace pm::cli
